"""The MTTR timeline: what users saw, what the target did, and how long recovery took.

Pure: no I/O. Inputs are the probe records of the background traffic (times taken when each
request was sent and answered) and milestones whose times come from the target (alarm
history timestamps, CodeDeploy create/complete times) or from the ledger (the instant a
fault reached traffic). Nothing here uses the time a poll happened to run.

    fault injected -> first failed request -> alarm ALARM -> rollback started
        -> alias restored -> first sustained success -> alarm OK

* ramp-up          = fault active - fault requested: a backend that delivers a fault
  asynchronously (AWS FIS: the extension's next poll) says when the fault was requested;
  "fault active" is the first evidence in traffic (a failed or slowed probe). With a
  ramp-up bound (FIS), no evidence within it breaks phase "reach": the fault never reached
  traffic, which says nothing about detection. Ramp-down is the same after the backend
  was asked to remove the fault (the FIS action ended): until no probe shows it any more.
* time to detect   = alarm ALARM - fault injected
* time to roll back = alias restored - alarm ALARM
* time to recover  = first sustained success - fault injected (the MTTR, judged on budget)

"First sustained success" is the first probe of the final run of good probes, when that run
holds at least `sustain` probes and starts after the first failure: with a 10 % canary most
probes succeed during the fault, so a short streak in the middle is not recovery. When the
rollback's finish is known, recovery is never earlier than the first probe sent after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, TypedDict

__all__ = [
    "BlastRadius",
    "Milestones",
    "Phase",
    "ProbeRecord",
    "Timeline",
    "TimelineDict",
    "build_timeline",
]

Phase = Literal[
    "inject",
    "reach",
    "impact",
    "detect",
    "rollback_start",
    "rollback_finish",
    "recover",
    "alarm_clear",
    "notify",
    "budget",
]

_PHASE_TEXT: dict[Phase, str] = {
    "inject": "no fault reached traffic (nothing recorded in the ledger)",
    "reach": "fault never reached traffic",
    # harness_rollback is never a problem; it is here so every Phase has a text
    "impact": "no user request failed after the fault was injected",
    "detect": "the alarm never reached ALARM",
    "rollback_start": "no rollback started after the alarm fired",
    "rollback_finish": "the alias was never restored to the stable version",
    "recover": "users never saw a sustained run of successful requests",
    "alarm_clear": "the alarm never returned to OK",
    "notify": "the alarm notification never reached the subscriber",
    "budget": "recovery took longer than the MTTR budget",
}


@dataclass(frozen=True)
class ProbeRecord:
    """One synthetic request seen from the user's side."""

    sent_at: float  # epoch seconds when the request was sent
    done_at: float  # epoch seconds when the answer (or error) arrived
    status: int  # HTTP status, 0 when no answer
    ok: bool
    version: str | None = None  # as the answer said it (target's version_source), else None
    path: str = "/"
    error: str | None = None


@dataclass(frozen=True)
class Milestones:
    """Instants reported by the target (or the ledger for the injection), epoch seconds."""

    fault_injected: float | None = None
    alarm_fired: float | None = None
    rollback_started: float | None = None
    alias_restored: float | None = None
    alarm_ok: float | None = None
    alarm: str | None = None  # the alarm these times belong to
    faulty_version: str | None = None
    # the experiment's method undid its own fault (restore_concurrency, dependency_up, ...):
    # recovery after this instant is the harness's doing, not the platform's
    fault_removed_by_harness: float | None = None
    # a notification drill: when the alarm was set to ALARM by hand, and when its
    # notification reached the drill's subscriber
    alarm_forced: float | None = None
    notification_received: float | None = None
    # an asynchronous backend (FIS): when the fault was requested (the action started), how
    # long it may take to show in traffic, and when its removal was requested (action end)
    fault_requested: float | None = None
    ramp_up_bound_s: float | None = None
    fault_removal_requested: float | None = None


@dataclass(frozen=True)
class BlastRadius:
    probes: int  # probes sent from injection to recovery (or the end)
    failed: int
    share_failed: float  # failed / probes over that window
    served_by_faulty: int  # probes answered by the faulty version, when known


class TimelineDict(TypedDict):
    alarm: str | None
    fault_injected: float | None
    first_failed_request: float | None
    alarm_fired: float | None
    rollback_started: float | None
    alias_restored: float | None
    first_sustained_success: float | None
    alarm_ok: float | None
    time_to_detect_s: float | None
    time_to_roll_back_s: float | None
    time_to_recover_s: float | None
    fault_removed_by_harness: float | None
    alarm_forced: float | None
    notification_received: float | None
    fault_requested: float | None
    fault_active: float | None
    ramp_up_s: float | None
    fault_removal_requested: float | None
    fault_inactive: float | None
    ramp_down_s: float | None
    recovered_by: str
    mttr_s: float | None
    mttr_budget_s: float
    within_budget: bool
    blast_radius: dict[str, float | int]
    broken_phase: str | None
    problems: list[str]


@dataclass(frozen=True)
class Timeline:
    milestones: Milestones
    first_failed_request: float | None
    first_sustained_success: float | None
    blast_radius: BlastRadius
    budget_s: float
    problems: tuple[tuple[Phase, str], ...] = field(default=())
    expect_alarm: bool = True
    expect_rollback: bool = True
    expect_impact: bool = True
    expect_notification: bool = False
    fault_active: float | None = None  # first evidence in traffic after the request
    fault_inactive: float | None = None  # first probe after the last evidence, post-removal

    @property
    def ramp_up(self) -> float | None:
        """From the fault requested to the first evidence of it in traffic."""
        return _diff(self.fault_active, self.milestones.fault_requested)

    @property
    def ramp_down(self) -> float | None:
        """From the fault's removal requested to traffic showing it no more."""
        return _diff(self.fault_inactive, self.milestones.fault_removal_requested)

    @property
    def recovered_by_harness(self) -> bool:
        """Users were served again because the harness removed the fault (no MTTR claim)."""
        return self.milestones.fault_removed_by_harness is not None

    @property
    def mttr_claimed(self) -> bool:
        """Whether this timeline measures the platform's recovery at all: it needs user
        impact to recover from, and a recovery the harness did not do itself."""
        return self.expect_impact and not self.recovered_by_harness

    @property
    def recovered_by(self) -> str:
        if self.recovered_by_harness:
            return "recovered by harness rollback"
        if not self.expect_impact:
            return "not applicable (no user impact expected)"
        return "platform"

    @property
    def mttr(self) -> float | None:
        """The platform MTTR, or None when this timeline makes no MTTR claim."""
        return self.time_to_recover if self.mttr_claimed else None

    @property
    def time_to_detect(self) -> float | None:
        return _diff(self.milestones.alarm_fired, self.milestones.fault_injected)

    @property
    def time_to_roll_back(self) -> float | None:
        return _diff(self.milestones.alias_restored, self.milestones.alarm_fired)

    @property
    def time_to_recover(self) -> float | None:
        """The MTTR: from the fault reaching traffic to users being served again."""
        return _diff(self.first_sustained_success, self.milestones.fault_injected)

    @property
    def within_budget(self) -> bool:
        """The platform recovered within the MTTR budget (False when no claim is made)."""
        ttr = self.mttr
        return ttr is not None and ttr <= self.budget_s

    @property
    def broken_phase(self) -> Phase | None:
        """The first phase that did not happen as the hypothesis expects, or None."""
        return self.problems[0][0] if self.problems else None

    def to_dict(self) -> TimelineDict:
        m = self.milestones
        return TimelineDict(
            alarm=m.alarm,
            fault_injected=m.fault_injected,
            first_failed_request=self.first_failed_request,
            alarm_fired=m.alarm_fired,
            rollback_started=m.rollback_started,
            alias_restored=m.alias_restored,
            first_sustained_success=self.first_sustained_success,
            alarm_ok=m.alarm_ok,
            time_to_detect_s=self.time_to_detect,
            time_to_roll_back_s=self.time_to_roll_back,
            time_to_recover_s=self.time_to_recover,
            fault_removed_by_harness=m.fault_removed_by_harness,
            alarm_forced=m.alarm_forced,
            notification_received=m.notification_received,
            fault_requested=m.fault_requested,
            fault_active=self.fault_active,
            ramp_up_s=self.ramp_up,
            fault_removal_requested=m.fault_removal_requested,
            fault_inactive=self.fault_inactive,
            ramp_down_s=self.ramp_down,
            recovered_by=self.recovered_by,
            mttr_s=self.mttr,
            mttr_budget_s=self.budget_s,
            within_budget=self.within_budget,
            blast_radius=dict(asdict(self.blast_radius)),
            broken_phase=self.broken_phase,
            problems=[text for _, text in self.problems],
        )

    def rows(self) -> list[tuple[str, float | None, bool]]:
        """(label, time, applicable) per milestone, in the order of the hypothesis. Rows the
        experiment does not expect are not applicable; "alias restored" appears only when
        an alias changed, "fault removed by harness rollback" only when the method did it."""
        m = self.milestones
        rows: list[tuple[str, float | None, bool]] = []
        if m.fault_requested is not None:
            rows.append(("fault requested", m.fault_requested, True))
        rows.append(
            (
                "fault injected",
                m.fault_injected,
                self.expect_impact or m.fault_injected is not None,
            )
        )
        if m.fault_requested is not None:
            ramp = f" (ramp-up {self.ramp_up:.1f}s)" if self.ramp_up is not None else ""
            rows.append(("fault active in traffic" + ramp, self.fault_active, self.expect_impact))
        rows += [
            ("first failed user request", self.first_failed_request, self.expect_impact),
            (f"alarm ALARM ({m.alarm or '?'})", m.alarm_fired, self.expect_alarm),
        ]
        if m.alarm_forced is not None:
            rows.append(
                (f"alarm set to ALARM by the drill ({m.alarm or '?'})", m.alarm_forced, True)
            )
        if self.expect_notification or m.notification_received is not None:
            rows.append(("notification received", m.notification_received, True))
        if m.rollback_started is not None or (
            self.expect_rollback and not self.recovered_by_harness
        ):
            rows.append(("rollback started", m.rollback_started, self.expect_rollback))
        if m.alias_restored is not None or (self.expect_rollback and not self.recovered_by_harness):
            rows.append(("alias restored", m.alias_restored, self.expect_rollback))
        if self.recovered_by_harness:
            rows.append(("fault removed by harness rollback", m.fault_removed_by_harness, True))
        if m.fault_removal_requested is not None:
            rows += [
                ("fault removal requested", m.fault_removal_requested, True),
                (
                    "fault gone from traffic"
                    + (f" (ramp-down {self.ramp_down:.1f}s)" if self.ramp_down is not None else ""),
                    self.fault_inactive,
                    True,
                ),
            ]
        rows += [
            ("first sustained success", self.first_sustained_success, self.expect_impact),
            ("alarm OK", m.alarm_ok, self.expect_alarm or m.alarm_forced is not None),
        ]
        return rows

    def render(self) -> list[str]:
        """Human-readable lines, times relative to the injection (or, in a drill without
        one, to the first milestone)."""
        m = self.milestones
        t0 = m.fault_injected if m.fault_injected is not None else m.alarm_forced
        lines = []
        for label, at, applicable in self.rows():
            if at is None:
                state = "not seen" if applicable else "not applicable to this experiment"
                lines.append(f"  {'—':>9}  {label}: {state}")
            elif t0 is None:
                lines.append(f"  {at:>9.3f}  {label}")
            else:
                lines.append(f"  {at - t0:>+8.3f}s  {label}")
        b = self.blast_radius
        times = f"  detect {_fmt(self.time_to_detect)}, roll back {_fmt(self.time_to_roll_back)}, "
        if self.mttr_claimed:
            lines.append(
                times + f"recover (MTTR) {_fmt(self.time_to_recover)} vs budget "
                f"{self.budget_s:g}s -> {'within' if self.within_budget else 'OVER'} budget"
            )
        elif self.recovered_by_harness:
            lines.append(
                times + f"recover {_fmt(self.time_to_recover)}: recovered by harness rollback,"
                " no platform MTTR claimed"
            )
        else:
            lines.append("  MTTR: not applicable (the experiment expects no user impact)")
        if self.ramp_up is not None or self.ramp_down is not None:
            lines.append(
                f"  ramp-up {_fmt(self.ramp_up)} (requested -> active in traffic), ramp-down"
                f" {_fmt(self.ramp_down)}; reported apart from detection"
            )
        if self.expect_impact or b.probes:
            lines.append(
                f"  blast radius: {b.failed}/{b.probes} probes failed ({b.share_failed:.1%}),"
                f" {b.served_by_faulty} served by the faulty version"
            )
        lines.extend(f"  broken: {text}" for _, text in self.problems)
        return lines


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}s"


def _first_sustained_success(
    probes: Sequence[ProbeRecord], after: float, sustain: int
) -> float | None:
    """Start of the final run of good probes sent after `after`, if it is long enough."""
    streak: list[ProbeRecord] = []
    for p in probes:
        if p.sent_at < after:
            continue
        if p.ok:
            streak.append(p)
        else:
            streak = []
    return streak[0].sent_at if len(streak) >= sustain else None


def build_timeline(
    probes: Sequence[ProbeRecord],
    milestones: Milestones,
    *,
    budget_s: float = 120.0,
    sustain: int = 5,
    expect_alarm: bool = True,
    expect_rollback: bool = True,
    expect_impact: bool = True,
    expect_notification: bool = False,
) -> Timeline:
    """Assemble the timeline and say which phase, if any, broke.

    `expect_alarm` / `expect_rollback` are False for experiments whose hypothesis has no
    alarm or no rollback (a manual drill): those phases are then not reported as broken.
    `expect_impact` is False for drills that never touch users (a notification drill).
    """
    ordered = sorted(probes, key=lambda p: p.sent_at)
    t0 = milestones.fault_injected
    window = [p for p in ordered if t0 is None or p.sent_at >= t0]
    first_fail = next((p.sent_at for p in window if not p.ok), None)
    recovered = (
        None if first_fail is None else _first_sustained_success(window, first_fail, sustain)
    )
    restored = milestones.alias_restored or milestones.fault_removed_by_harness
    if recovered is not None and restored is not None and recovered < restored:
        # With a small canary a lucky run of good probes can precede the rollback; users
        # are only sure to be served by the stable version once it is restored.
        recovered = next((p.sent_at for p in window if p.sent_at >= restored), None)
    in_blast = [p for p in window if recovered is None or p.sent_at < recovered]
    failed = sum(1 for p in in_blast if not p.ok)
    faulty = milestones.faulty_version
    blast = BlastRadius(
        probes=len(in_blast),
        failed=failed,
        share_failed=failed / len(in_blast) if in_blast else 0.0,
        served_by_faulty=sum(1 for p in in_blast if faulty is not None and p.version == faulty),
    )
    problems: list[tuple[Phase, str]] = []

    def broke(phase: Phase, detail: str = "") -> None:
        problems.append((phase, _PHASE_TEXT[phase] + (f" ({detail})" if detail else "")))

    active, inactive = _activation(ordered, milestones)
    bound = milestones.ramp_up_bound_s
    requested = milestones.fault_requested
    if (
        expect_impact
        and requested is not None
        and bound is not None
        and (active is None or active - requested > bound)
    ):
        # Everything downstream (impact, detection, rollback) is moot: nothing to detect.
        broke("reach", f"no failed or slowed request within {bound:g}s of the request")
        return Timeline(
            milestones, first_fail, recovered, blast, budget_s, tuple(problems),
            expect_alarm, expect_rollback, expect_impact, expect_notification, active, inactive,
        )  # fmt: skip
    if expect_impact and t0 is None:
        broke("inject")
    if expect_impact and first_fail is None:
        broke("impact", f"{len(window)} probes after the injection")
    if expect_alarm and milestones.alarm_fired is None:
        broke("detect", milestones.alarm or "")
    # A rollback the experiment expects is either the platform's (an alias restored) or,
    # for faults without an alias, the method's own removal of the fault.
    harness = milestones.fault_removed_by_harness is not None
    if expect_rollback and milestones.rollback_started is None and not harness:
        broke("rollback_start")
    if expect_rollback and milestones.alias_restored is None and not harness:
        broke("rollback_finish")
    if first_fail is not None and recovered is None:
        broke("recover", f"need {sustain} consecutive good probes")
    if expect_alarm and milestones.alarm_fired is not None and milestones.alarm_ok is None:
        broke("alarm_clear", milestones.alarm or "")
    if expect_notification and milestones.notification_received is None:
        broke("notify", milestones.alarm or "")
    flags = (expect_alarm, expect_rollback, expect_impact, expect_notification)
    timeline = Timeline(
        milestones, first_fail, recovered, blast, budget_s, tuple(problems), *flags,
        active, inactive,
    )  # fmt: skip
    ttr = timeline.mttr
    if ttr is not None and ttr > budget_s:
        problems.append(("budget", f"{_PHASE_TEXT['budget']} ({ttr:.1f}s > {budget_s:g}s)"))
        timeline = Timeline(
            milestones, first_fail, recovered, blast, budget_s, tuple(problems), *flags,
            active, inactive,
        )  # fmt: skip
    return timeline


def _activation(probes: Sequence[ProbeRecord], m: Milestones) -> tuple[float | None, float | None]:
    """(fault active, fault inactive): the first probe showing the fault after it was
    requested, and the first probe after the last one showing it once its removal was
    requested (before the alias was restored, which hides a canary's fault anyway)."""
    requested = m.fault_requested
    if requested is None:
        return None, None
    before = sorted(p.done_at - p.sent_at for p in probes if p.sent_at < requested and p.ok)
    # "slowed": well past what users saw before the request (or 1 s without a baseline)
    slow = max(0.5, 5 * before[len(before) // 2]) if before else 1.0

    def shows(p: ProbeRecord) -> bool:
        return not p.ok or p.done_at - p.sent_at >= slow

    active = next((p.sent_at for p in probes if p.sent_at >= requested and shows(p)), None)
    removal = m.fault_removal_requested
    if removal is None or active is None:
        return active, None
    end = m.alias_restored if m.alias_restored is not None else float("inf")
    after = [p for p in probes if p.sent_at >= removal]
    # after the alias is restored the faulty version serves no one: no evidence there
    last = max((i for i, p in enumerate(after) if p.sent_at < end and shows(p)), default=None)
    if last is None:
        return active, removal  # nothing showed it after the request: gone at once
    return active, after[last + 1].sent_at if last + 1 < len(after) else None
