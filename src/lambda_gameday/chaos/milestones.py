"""Reading the timeline's milestones out of a Chaos Toolkit journal.

Activities of this extension return the target's times (alarm history timestamps,
CodeDeploy create/complete times, the instant a canary first routed): this module finds
them by the function that produced them. Experiment settings come from the `gameday`
extension block:

    "extensions": [{"name": "gameday", "destructive": true,
                    "timeline": {"expect_alarm": true, "expect_rollback": true, "sustain": 5}}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

from .timeline import Milestones, ProbeRecord, Timeline, build_timeline

__all__ = ["GamedayExtension", "extension_of", "milestones_from_journal", "timeline_for_journal"]


class GamedayExtension(TypedDict):
    destructive: bool
    expect_alarm: bool
    expect_rollback: bool
    expect_impact: bool
    sustain: int
    budget_s: float | None


def extension_of(experiment: Mapping[str, Any]) -> GamedayExtension:
    ext: Mapping[str, Any] = {}
    for item in experiment.get("extensions", []) or []:
        if isinstance(item, Mapping) and item.get("name") == "gameday":
            ext = item
    tl = ext.get("timeline", {}) if isinstance(ext.get("timeline"), Mapping) else {}
    budget = tl.get("budget_s")
    return GamedayExtension(
        destructive=bool(ext.get("destructive", True)),
        expect_alarm=bool(tl.get("expect_alarm", True)),
        expect_rollback=bool(tl.get("expect_rollback", True)),
        expect_impact=bool(tl.get("expect_impact", True)),
        sustain=int(tl.get("sustain", 5)),
        budget_s=float(budget) if isinstance(budget, int | float) else None,
    )


def _iso(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def milestones_from_journal(journal: Mapping[str, Any]) -> Milestones:
    m: dict[str, Any] = {}
    # The method only: the rollbacks section is the harness's safety net, not the system
    # recovering, so it never counts as a rollback on the timeline.
    runs: Sequence[Mapping[str, Any]] = list(journal.get("run", []) or [])
    for run in runs:
        provider = run.get("activity", {}).get("provider", {})
        func = str(provider.get("func", ""))
        module = str(provider.get("module", ""))
        out = run.get("output")
        if not module.startswith("lambda_gameday.chaos") or run.get("status") != "succeeded":
            continue
        if not isinstance(out, Mapping):
            # A restore step of the method returns what it undid (empty: nothing was left).
            # Putting an alias back is a rollback; removing any other fault is the harness
            # undoing its own injection, which is no recovery by the platform.
            undone = [str(x) for x in out] if isinstance(out, list) else []
            if func == "restore_alias" and undone:
                m.setdefault("rollback_started", _iso(run.get("start")))
                m.setdefault("alias_restored", _iso(run.get("end")))
            elif (
                func in ("remove_faults", "restore_concurrency", "dependency_up", "allow_hosts")
                and undone
            ):
                m.setdefault("fault_removed_by_harness", _iso(run.get("end")))
            elif func == "force_alarm_state" and isinstance(out, int | float):
                m.setdefault("alarm_forced", float(out))  # when set-alarm-state returned
            continue
        if "injected_at" in out and "fault_injected" not in m:
            m["fault_injected"] = out["injected_at"]
            # a synchronous backend's request is its injection; FIS reports its own
            m["fault_requested"] = out.get("fault_requested_at", out["injected_at"])
            if isinstance(out.get("ramp_up_bound_s"), int | float):
                m["ramp_up_bound_s"] = float(out["ramp_up_bound_s"])
            if out.get("fis_experiment_id"):
                m["_fis_experiment"] = str(out["fis_experiment_id"])
            if out.get("canary_version"):
                m["faulty_version"] = out["canary_version"]
        if func == "wait_for_alarm_state":
            if out.get("state") == "ALARM" and "alarm_fired" not in m:
                m["alarm_fired"], m["alarm"] = out["at"], out["alarm"]
            elif out.get("state") == "OK" and ("alarm_fired" in m or "alarm_forced" in m):
                m["alarm_ok"] = out["at"]
        elif func == "wait_for_alarm_message" and "received_at" in out:
            m.setdefault("notification_received", out["received_at"])
            m.setdefault("alarm", out.get("alarm"))
        elif func == "wait_for_rollback":
            m.setdefault("rollback_started", out.get("created_at"))
            m.setdefault("alias_restored", out.get("completed_at"))
        elif func == "manual_rollback":
            m.setdefault("rollback_started", out.get("started_at"))
            m.setdefault("alias_restored", out.get("finished_at"))
    return Milestones(**{k: v for k, v in m.items() if v is not None and not k.startswith("_")})


def fis_experiment_of(journal: Mapping[str, Any]) -> str | None:
    """The FIS experiment that delivered this run's fault, if one did."""
    for run in journal.get("run", []) or []:
        out = run.get("output")
        if isinstance(out, Mapping) and out.get("fis_experiment_id"):
            return str(out["fis_experiment_id"])
    return None


def timeline_for_journal(
    journal: Mapping[str, Any],
    probes: Sequence[ProbeRecord],
    configuration: Mapping[str, object] | None = None,
) -> Timeline:
    ext = extension_of(journal.get("experiment", {}))
    budget = ext["budget_s"]
    if budget is None:
        from .context import target_from

        try:
            budget = target_from(configuration).slos.mttr_s
        except Exception:  # no target in reach: the seed's budget
            budget = 120.0
    # A notification is expected when the method waits for one (the drill says so itself)
    method = journal.get("experiment", {}).get("method", []) or []
    expect_notification = any(
        isinstance(a, Mapping) and a.get("provider", {}).get("func") == "wait_for_alarm_message"
        for a in method
    )
    milestones = milestones_from_journal(journal)
    experiment = fis_experiment_of(journal)
    if experiment is not None and milestones.fault_removal_requested is None:
        from dataclasses import replace

        from .fis.experiment import removal_requested

        milestones = replace(
            milestones, fault_removal_requested=removal_requested(configuration, experiment)
        )
    return build_timeline(
        probes,
        milestones,
        budget_s=budget,
        sustain=ext["sustain"],
        expect_alarm=ext["expect_alarm"],
        expect_rollback=ext["expect_rollback"],
        expect_impact=ext["expect_impact"],
        expect_notification=expect_notification,
    )
