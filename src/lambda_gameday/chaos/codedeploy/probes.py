"""CodeDeploy probes: wait for a deployment (or its automatic rollback) to reach a status.

Times returned are the deployment's own createTime / completeTime from the target,
converted from AWS's clock to the local one (aws.ClockOffset). Polls are paced; a throttled
read is "not yet", never a failure.
"""

from __future__ import annotations

import time
from typing import TypedDict

from ...aws import ClockOffset, Throttled, aws_errors
from ...exceptions import GamedayError
from ..faults import check_abort, scope

__all__ = ["DeploymentOutcome", "wait_for_deployment", "wait_for_rollback"]

_FINAL = {"Succeeded", "Failed", "Stopped"}


class DeploymentOutcome(TypedDict):
    deployment_id: str
    status: str
    created_at: float | None
    completed_at: float | None
    error_code: str | None
    error_message: str | None
    rollback_deployment_id: str | None
    rolled_back_from: str | None


def _ts(value: object, clock: ClockOffset | None = None) -> float | None:
    if not hasattr(value, "timestamp"):
        return None
    at = float(value.timestamp())
    return clock.to_local(at) if clock is not None else at


def _outcome(info: dict[str, object], clock: ClockOffset | None = None) -> DeploymentOutcome:
    err = info.get("errorInformation") or {}
    rb = info.get("rollbackInfo") or {}
    assert isinstance(err, dict) and isinstance(rb, dict)
    return DeploymentOutcome(
        deployment_id=str(info.get("deploymentId", "")),
        status=str(info.get("status", "")),
        created_at=_ts(info.get("createTime"), clock),
        completed_at=_ts(info.get("completeTime"), clock),
        error_code=err.get("code"),
        error_message=err.get("message"),
        rollback_deployment_id=rb.get("rollbackDeploymentId"),
        rolled_back_from=rb.get("rollbackTriggeringDeploymentId"),
    )


def _get(configuration: dict[str, object] | None, deployment_id: str) -> DeploymentOutcome | None:
    """The deployment now, or None when the read was throttled (poll again)."""
    sc = scope(configuration)
    try:
        with aws_errors(f"reading deployment {deployment_id}"):
            info = sc.clients.codedeploy().get_deployment(deploymentId=deployment_id)[
                "deploymentInfo"
            ]
    except Throttled:
        return None
    return _outcome(dict(info), sc.clients.clock)


def _pause(configuration: dict[str, object] | None) -> None:
    time.sleep(scope(configuration).clients.poll_interval(0.2))


def _answer(
    configuration: dict[str, object] | None, deployment_id: str, deadline: float, timeout_s: float
) -> DeploymentOutcome:
    """The deployment's state, asking again (abortable) until CodeDeploy answers or the
    deadline passes."""
    while True:
        check_abort(configuration)
        out = _get(configuration, deployment_id)
        if out is not None:
            return out
        if time.monotonic() > deadline:
            raise GamedayError(f"deployment {deployment_id}: no answer within {timeout_s:g}s")
        _pause(configuration)


def wait_for_deployment(
    deployment_id: str | None = None,
    statuses: list[str] | None = None,
    timeout_s: float = 120.0,
    configuration: dict[str, object] | None = None,
) -> DeploymentOutcome:
    """Wait until the deployment reaches one of `statuses` (default: any final status).
    Fails when it ends in another final status or the deadline passes."""
    deployment_id = deployment_id or _run_deployment(configuration)
    wanted = set(statuses or _FINAL)
    deadline = time.monotonic() + timeout_s
    while True:
        out = _answer(configuration, deployment_id, deadline, timeout_s)
        if out["status"] in wanted:
            return out
        if out["status"] in _FINAL:
            raise GamedayError(
                f"deployment {deployment_id} ended {out['status']}, expected {sorted(wanted)}"
                + (f" ({out['error_code']}: {out['error_message']})" if out["error_code"] else "")
            )
        if time.monotonic() > deadline:
            raise GamedayError(
                f"deployment {deployment_id} still {out['status']} after {timeout_s:g}s,"
                f" expected {sorted(wanted)}"
            )
        _pause(configuration)


def _run_deployment(configuration: dict[str, object] | None) -> str:
    sc = scope(configuration)
    for entry in sc.ledger.entries()[::-1]:
        if entry.run_id == sc.ledger.run_id and entry.kind == "deployment":
            for step in entry.undo:
                if step["op"] == "stop_deployment":
                    return step["deployment_id"]
    raise GamedayError("no deployment_id given and no deployment started by this run")


def wait_for_rollback(
    deployment_id: str | None = None,
    timeout_s: float = 120.0,
    configuration: dict[str, object] | None = None,
) -> DeploymentOutcome:
    """Wait for the deployment (default: the one this run's canary started) to stop and
    its automatic rollback deployment to succeed. Returns the rollback deployment
    (createTime = rollback started, completeTime = alias restored), with
    `rolled_back_from` naming the stopped one."""
    deployment_id = deployment_id or _run_deployment(configuration)
    deadline = time.monotonic() + timeout_s
    while True:
        out = _answer(configuration, deployment_id, deadline, timeout_s)
        rb = out["rollback_deployment_id"]
        if rb:
            left = max(0.5, deadline - time.monotonic())
            done = wait_for_deployment(rb, ["Succeeded"], left, configuration)
            done["rolled_back_from"] = deployment_id
            return done
        if out["status"] == "Succeeded":
            raise GamedayError(
                f"deployment {deployment_id} succeeded: the faulty version was promoted,"
                " no rollback"
            )
        if out["status"] in _FINAL:
            raise GamedayError(
                f"deployment {deployment_id} ended {out['status']} without an automatic rollback"
                " (is auto-rollback on DEPLOYMENT_STOP_ON_ALARM enabled for the group?)"
            )
        if time.monotonic() > deadline:
            raise GamedayError(
                f"no rollback of deployment {deployment_id} within {timeout_s:g}s"
                f" (status {out['status']})"
            )
        _pause(configuration)
