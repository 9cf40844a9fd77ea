"""Chaos Toolkit actions of the FIS backend.

    inject_fis_fault      a FIS experiment on a function's alias or version (an error drill)
    stop_fis_experiments  rollback: stop this run's experiments, remove what they left

Every experiment is written to the ledger before its template is created; the entry's undo
finds the template by its ledger tag, so `gameday cleanup` works after a SIGKILL.
"""

from __future__ import annotations

import uuid
from typing import Literal, NotRequired, TypedDict

from ...exceptions import TargetError
from ..faults import Scope, inject, scope, undo_faults
from ..ledger import UndoStep
from .experiment import (
    FisFault,
    alarm_arns,
    create_template,
    function_arn,
    start_experiment,
    template_request,
    wait_for_status,
)
from .setup import preflight, settings_of

__all__ = ["FisFaultResult", "FisNotReady", "inject_fis_fault", "stop_fis_experiments"]

DrillFault = Literal["error", "delay", "http-status"]


class FisNotReady(TargetError):
    """The function is not set up for FIS: one line per missing item, each with its fix."""

    def __init__(self, function: str, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{function} is not ready for AWS FIS ({len(problems)} item(s); `gameday fis plan`"
            " lists the changes):\n" + "\n".join(f"  - {p}" for p in problems)
        )

    def one_line(self) -> str:  # one line per item, as the preflight promises
        return "\n".join(" ".join(line.split()) for line in str(self).splitlines())


class FisFaultResult(TypedDict):
    ledger_id: str
    kind: str
    resource: str
    description: str
    injected_at: float  # the instant the experiment's action started (fault requested)
    fault_requested_at: float
    backend: str
    fis_experiment_id: str
    fis_template_id: str
    ramp_up_bound_s: float
    dry_run: NotRequired[bool]


def check_ready(sc: Scope, function: str, qualifier: str | None) -> None:
    problems = preflight(sc.clients, sc.target, function, qualifier)
    if problems:
        raise FisNotReady(f"{function}:{qualifier}" if qualifier else function, problems)


def cleanup_step(sc: Scope, token: str) -> UndoStep:
    """The undo that finds this experiment's template by its ledger tag."""
    location = settings_of(sc.target).configuration_location
    return {"op": "cleanup_fis", "fis_token": token, "fis_location": location}


def start_fis(
    sc: Scope, function: str, qualifier: str, fault: FisFault, token: str, *, dry_run: bool
) -> tuple[str, str, float]:
    """Template, start, wait until running (a dry run: until completed). Call after the
    ledger entry naming `token` is written. Returns (template id, experiment id, the
    instant the action started: fault requested, AWS's clock)."""
    settings = settings_of(sc.target)
    fn_arn = function_arn(sc.target, sc.clients, function, qualifier)
    stop_alarms = alarm_arns(sc.clients, _alarms_of(sc, function))
    request = template_request(
        settings.role_arn, fn_arn, fault, stop_alarms, sc.ledger.run_id, token
    )
    template_id = create_template(sc.clients, request)
    experiment_id = start_experiment(
        sc.clients, template_id, sc.ledger.run_id, token, dry_run=dry_run
    )
    wanted = frozenset({"completed"}) if dry_run else frozenset({"running"})
    running = wait_for_status(sc.clients, experiment_id, wanted, 60.0, sc.run.check_abort)
    requested = running.action_started if running.action_started is not None else running.seen_at
    return template_id, experiment_id, requested


def _alarms_of(sc: Scope, function: str) -> tuple[str, ...]:
    for fn in sc.target.functions:
        if fn.name == function:
            return fn.alarms
    return ()


def inject_fis_fault(
    function_name: str,
    alias: str = "production",
    fault: DrillFault = "error",
    duration_s: int = 600,
    percentage: int = 100,
    delay_ms: int = 1000,
    status_code: int = 502,
    dry_run: bool = False,
    configuration: dict[str, object] | None = None,
) -> FisFaultResult:
    """Run a FIS experiment on `function_name:alias` (the alias's qualified ARN): the
    function's alarms are its stop conditions, the run id is in its tags. Returns once the
    experiment runs (fault requested); the fault reaches traffic at the extension's next
    poll. `dry_run` starts it with actionsMode skip-all. Undo: `stop_fis_experiments`."""
    sc = scope(configuration)
    check_ready(sc, function_name, alias)
    spec = FisFault(
        type=fault,
        duration_s=duration_s,
        percentage=percentage,
        delay_ms=delay_ms if fault == "delay" else 0,
        status_code=status_code,
    )
    resource = f"{function_name}:{alias}"
    token = uuid.uuid4().hex
    entry, (template_id, exp_id, requested), _ = inject(
        sc,
        "fis_experiment",
        resource,
        f"FIS {spec.describe()} on {resource}" + (" (dry run)" if dry_run else ""),
        [cleanup_step(sc, token)],
        lambda: start_fis(sc, function_name, alias, spec, token, dry_run=dry_run),
        fis_token=token,
    )
    sc.ledger.mark_injected(entry.id, requested)
    result = FisFaultResult(
        ledger_id=entry.id,
        kind=entry.kind,
        resource=resource,
        description=entry.description,
        injected_at=requested,
        fault_requested_at=requested,
        backend="fis",
        fis_experiment_id=exp_id,
        fis_template_id=template_id,
        ramp_up_bound_s=settings_of(sc.target).ramp_up_bound_s,
    )
    if dry_run:
        result["dry_run"] = True
    return result


def stop_fis_experiments(configuration: dict[str, object] | None = None) -> list[str]:
    """Rollback: stop this run's FIS experiments, remove configuration objects they left,
    delete their templates."""
    sc = scope(configuration)
    return undo_faults(sc, kind="fis_experiment")
