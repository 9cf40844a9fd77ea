"""The result model every phase of a game day is converted into.

A `RunResult` holds `PhaseResult`s; each phase carries its `SLOResult`s (one line of the
verdict each), per-endpoint latency (`EndpointStats`), chaos `Timeline`s and `Finding`s
(the one finding type, from `lambda_gameday.findings`).
Reports, history and the pytest plugin read only this model, never a phase's own types.
Everything here is plain data: frozen dataclasses that round-trip through JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, cast

from ..findings import Finding

__all__ = [
    "VERDICT_WORDS",
    "Comparison",
    "EndpointStats",
    "MinuteStat",
    "PhaseResult",
    "PhaseStatus",
    "RunResult",
    "SLOMark",
    "SLOResult",
    "Timeline",
    "TimelineEvent",
    "Verdict",
    "format_count",
    "run_from_dict",
]

PhaseStatus = Literal[
    "passed", "failed", "inconclusive", "unusable", "error", "skipped", "interrupted"
]
# pass: every objective asserted. fail: one was breached (or had no data). inconclusive:
# nothing breached, but the evidence cannot assert an objective (too few probes for the
# availability bound). unusable: the target could not be used (refused, DNS, credentials),
# so nothing is judged. error: the harness failed. interrupted: Ctrl-C / SIGTERM.
Verdict = Literal["pass", "fail", "inconclusive", "unusable", "error", "interrupted"]
SLOMark = Literal["PASS", "FAIL", "NO DATA", "INCONCLUSIVE"]
Comparison = Literal["<", "<=", ">", ">="]


VERDICT_WORDS: dict[Verdict, str] = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "unusable": "TARGET UNUSABLE",
    "error": "ERROR",
    "interrupted": "INTERRUPTED",
}


def format_count(n: int) -> str:
    """2000 -> '2,000'."""
    return f"{n:,}"


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.2f} %"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:g}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class SLOResult:
    """One objective checked against one subject, e.g. p95 latency of /health < 100 ms."""

    metric: str  # "latency_p95", "cold_start", "availability", "mttr", "deployment_success", ...
    subject: str  # "/health", an experiment name, "all endpoints"
    measured: float | None  # None: nothing was measured (a failure, never a pass)
    budget: float
    comparison: Comparison
    unit: str  # "ms", "s", "%" (a fraction shown as a percentage), "" (a plain number)
    samples: int
    passed: bool
    label: str = ""  # how the measured value is named: "p95", "MTTR", "availability"
    detail: str = ""  # extra context for the verdict: "worst minute 12:03"
    lower_bound: float | None = None  # one-sided 95 % confidence bound, for availability
    inconclusive: bool = False  # the value meets the budget, the bound cannot assert it
    phase: str = ""  # the game-day phase that measured it

    @property
    def no_data(self) -> bool:
        return self.measured is None or self.samples <= 0

    @property
    def mark(self) -> SLOMark:
        """PASS, FAIL, NO DATA (a failure: nothing to judge) or INCONCLUSIVE."""
        if self.passed:
            return "PASS"
        if self.no_data:
            return "NO DATA"
        return "INCONCLUSIVE" if self.inconclusive else "FAIL"

    @property
    def breached(self) -> bool:
        """Failed outright (including no data), as opposed to passed or inconclusive."""
        return not self.passed and not self.inconclusive

    @staticmethod
    def check(
        metric: str,
        subject: str,
        measured: float | None,
        budget: float,
        comparison: Comparison,
        unit: str,
        samples: int,
        *,
        label: str = "",
        detail: str = "",
        lower_bound: float | None = None,
        assert_bound: bool = False,
        phase: str = "",
    ) -> SLOResult:
        """Build a result, deciding `passed` from the comparison; zero samples never pass.

        With `assert_bound`, a value that meets the budget while its confidence bound does
        not is INCONCLUSIVE (neither pass nor fail): the sample cannot assert the objective.
        """
        if measured is None or samples <= 0:
            ok = False
        elif comparison == "<":
            ok = measured < budget
        elif comparison == "<=":
            ok = measured <= budget
        elif comparison == ">":
            ok = measured > budget
        else:
            ok = measured >= budget
        unsure = False
        if ok and assert_bound and lower_bound is not None:
            bound_ok = lower_bound > budget if comparison in (">", ">=") else lower_bound < budget
            ok, unsure = bound_ok, not bound_ok
        return SLOResult(
            metric,
            subject,
            measured,
            budget,
            comparison,
            unit,
            samples,
            ok,
            label or metric,
            detail,
            lower_bound,
            unsure,
            phase,
        )

    def sentence(self) -> str:
        """The verdict line: 'p95 of /health was 143 ms, budget 100 ms, 2,000 samples, ...'."""
        if self.measured is None or self.samples <= 0:
            head = f"{self.label} of {self.subject}: no data (0 successful samples)"
        else:
            head = f"{self.label} of {self.subject} was {_fmt(self.measured, self.unit)}"
        parts = [
            head,
            (
                f"budget {_fmt(self.budget, self.unit)}"
                if self.comparison in ("<", "<=")
                else f"target {_fmt(self.budget, self.unit)}"
            ),
            f"{format_count(self.samples)} samples",
        ]
        if self.lower_bound is not None:
            parts.append(f"95 % lower bound {_fmt(self.lower_bound, self.unit)}")
        if self.detail:
            parts.append(self.detail)
        if self.inconclusive:
            parts.append("INCONCLUSIVE")
        return ", ".join(parts)


@dataclass(frozen=True)
class MinuteStat:
    """Latency within one wall-clock minute, to name the worst minute of a run."""

    minute: float  # epoch seconds at the start of the minute
    count: int
    p95_ms: float
    errors: int = 0


@dataclass(frozen=True)
class EndpointStats:
    """Latency and availability of one endpoint as seen by the probes of one phase."""

    path: str
    samples: int
    failures: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cold_starts: int | None = 0  # None: the probes could not tell cold from warm
    cold_p50_ms: float | None = None
    warm_p50_ms: float | None = None
    init_duration_ms: float | None = None  # from REPORT lines, where the phase read them
    # The latency SLO's population: successful probes not marked cold (a warm p95).
    warm_samples: int = 0
    warm_p95_ms: float | None = None
    cold_max_ms: float | None = None  # the slowest successful cold start among the probes
    modelled: tuple[str, ...] = ()  # fields the target models rather than measures
    availability: float | None = None
    availability_lower: float | None = None
    probes_needed: int | None = None  # more probes needed to assert the availability target
    histogram: tuple[tuple[float, int], ...] = ()  # (upper bound ms, count) buckets
    minutes: tuple[MinuteStat, ...] = ()
    versions: tuple[tuple[str, int], ...] = ()  # executed version -> requests

    @property
    def cold_starts_text(self) -> str:
        """The count for tables: '?' where the probes could not tell (plain HTTP probes)."""
        return "?" if self.cold_starts is None else str(self.cold_starts)

    def worst_minute(self) -> MinuteStat | None:
        return max(self.minutes, key=lambda m: m.p95_ms, default=None)


@dataclass(frozen=True)
class TimelineEvent:
    label: str  # "fault injected", "alarm ALARM", ...
    at: float | None  # epoch seconds; None: never happened
    source: str = ""  # where the time came from: "target", "probe", "harness"
    applicable: bool = True  # False: the experiment does not expect this step

    @property
    def never_text(self) -> str:
        return "never" if self.applicable else "n/a"


@dataclass(frozen=True)
class Timeline:
    """The MTTR timeline of one chaos experiment."""

    experiment: str
    events: tuple[TimelineEvent, ...]
    budget_s: float
    mttr_s: float | None = None
    time_to_detect_s: float | None = None
    time_to_rollback_s: float | None = None
    time_to_recover_s: float | None = None
    failed_requests: int = 0
    total_requests: int = 0
    passed: bool = False
    broken_phase: str | None = None  # which step never happened, when the experiment failed
    probes: tuple[tuple[float, bool, float], ...] = ()  # (at, ok, latency ms) from the traffic
    # "platform", or why no MTTR is claimed: "recovered by harness rollback", "not applicable"
    recovered_by: str = "platform"

    @property
    def mttr_claimed(self) -> bool:
        return self.recovered_by == "platform"

    @property
    def blast_radius(self) -> float | None:
        return self.failed_requests / self.total_requests if self.total_requests else None


@dataclass(frozen=True)
class PhaseResult:
    name: str  # the plan's name for the phase
    kind: str  # conformance | lint | synthetics | coldstart | load | chaos
    status: PhaseStatus
    started_at: float
    finished_at: float
    message: str = ""  # why it failed or errored, in one line
    slos: tuple[SLOResult, ...] = ()
    endpoints: tuple[EndpointStats, ...] = ()
    timelines: tuple[Timeline, ...] = ()
    findings: tuple[Finding, ...] = ()
    artifacts: tuple[str, ...] = ()  # files the phase wrote (journals, results), report-relative
    faults_not_removed: tuple[str, ...] = ()  # injected faults the phase could not undo

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.started_at

    def failures(self) -> list[str]:
        """What failed and why, one sentence each."""
        lines = [s.sentence() for s in self.slos if s.breached]
        lines += [f"{f.resource}: {f.text}" for f in self.findings if f.severity == "error"]
        lines += [
            f"experiment {t.experiment}: {t.broken_phase or 'did not recover in budget'}"
            for t in self.timelines
            if not t.passed
        ]
        if self.status in ("error", "interrupted", "failed", "unusable") and self.message:
            lines.insert(0, self.message)
        return lines

    def unasserted(self) -> list[str]:
        """SLOs the evidence could not assert (INCONCLUSIVE), one sentence each."""
        return [s.sentence() for s in self.slos if s.inconclusive]


@dataclass(frozen=True)
class RunResult:
    run_id: str
    plan: str
    target: str
    target_kind: str
    environment: str
    started_at: float
    finished_at: float
    phases: tuple[PhaseResult, ...]
    interrupted: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # side channels that failed (notification, history, ...)
    faults_not_removed: tuple[str, ...] = ()  # each once; the target must be cleaned up
    cleanup_command: str = ""  # what to run once the target is back, when faults remain

    @property
    def verdict(self) -> Verdict:
        if self.interrupted:
            return "interrupted"
        if any(p.status == "unusable" for p in self.phases):
            return "unusable"  # nothing measured on a dead target is a verdict
        if self.faults_not_removed:
            return "fail"  # faults may still be in place: never a pass, whatever was measured
        if any(p.status == "error" for p in self.phases):
            return "error"
        if any(p.status == "failed" for p in self.phases):
            return "fail"
        if any(p.status == "inconclusive" for p in self.phases):
            return "inconclusive"
        return "pass"

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.started_at

    def slos(self) -> list[SLOResult]:
        """Every SLO line, each naming the phase that measured it."""
        return [s if s.phase else replace(s, phase=p.name) for p in self.phases for s in p.slos]

    def timelines(self) -> list[Timeline]:
        return [t for p in self.phases for t in p.timelines]

    def failures(self) -> list[str]:
        return [f"{p.name}: {line}" for p in self.phases for line in p.failures()]

    def unasserted(self) -> list[str]:
        return [f"{p.name}: {line}" for p in self.phases for line in p.unasserted()]

    def headline(self) -> str:
        bad = ("failed", "error", "unusable", "inconclusive")
        failed = [p.name for p in self.phases if p.status in bad]
        if self.faults_not_removed:
            failed.append("faults may still be in place")
        word = VERDICT_WORDS
        tail = f" ({', '.join(failed)})" if failed else ""
        return f"{word[self.verdict]}: {self.plan} on {self.target}{tail}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data

    @staticmethod
    def new_id(at: float | None = None) -> str:
        t = time.gmtime(at if at is not None else time.time())
        return time.strftime("%Y%m%dT%H%M%SZ", t) + f"-{time.time_ns() % 10_000:04d}"


# --- from JSON -----------------------------------------------------------------------------


def _tuple_pairs(raw: object) -> tuple[Any, ...]:
    return tuple(tuple(x) for x in cast(Sequence[Sequence[Any]], raw or ()))


def _slo(d: Mapping[str, Any]) -> SLOResult:
    return SLOResult(**d)


def _endpoint(d: Mapping[str, Any]) -> EndpointStats:
    data = dict(d)
    data["histogram"] = _tuple_pairs(data.get("histogram"))
    data["versions"] = _tuple_pairs(data.get("versions"))
    data["minutes"] = tuple(MinuteStat(**m) for m in data.get("minutes") or ())
    data["modelled"] = tuple(data.get("modelled") or ())
    return EndpointStats(**data)


def _timeline(d: Mapping[str, Any]) -> Timeline:
    data = dict(d)
    data["events"] = tuple(TimelineEvent(**e) for e in data.get("events") or ())
    data["probes"] = _tuple_pairs(data.get("probes"))
    return Timeline(**data)


def _phase(d: Mapping[str, Any]) -> PhaseResult:
    data = dict(d)
    data["slos"] = tuple(_slo(s) for s in data.get("slos") or ())
    data["endpoints"] = tuple(_endpoint(e) for e in data.get("endpoints") or ())
    data["timelines"] = tuple(_timeline(t) for t in data.get("timelines") or ())
    data["findings"] = tuple(Finding(**f) for f in data.get("findings") or ())
    data["artifacts"] = tuple(data.get("artifacts") or ())
    data["faults_not_removed"] = tuple(data.get("faults_not_removed") or ())
    return PhaseResult(**data)


def run_from_dict(d: Mapping[str, Any]) -> RunResult:
    """Rebuild a RunResult from `RunResult.to_dict()` output (e.g. a report's JSON)."""
    data = {k: v for k, v in d.items() if k not in ("verdict", "schema", "failures")}
    data["phases"] = tuple(_phase(p) for p in data.get("phases") or ())
    data["notes"] = tuple(data.get("notes") or ())
    data["warnings"] = tuple(data.get("warnings") or ())
    data["faults_not_removed"] = tuple(data.get("faults_not_removed") or ())
    return RunResult(**data)
