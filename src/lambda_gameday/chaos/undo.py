"""Applying a ledger entry's undo steps to the target, and the `cleanup` that replays them.

An undo step restores a key only while the key still holds the value the fault set:
a key already back at its previous value is left as it is (a rollback or CodeDeploy got
there first), and a key someone changed since — to anything else — is a conflict: it is
reported and left alone. So `cleanup` may run after a rollback did part of the work, or
twice, and never writes a stale value over a newer one.

`cleanup` undoes only the entries made on the current target (same account id, Region,
endpoint URL and name, see ledger.same_target); the others are listed with the target
each belongs to.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..aws import Clients, aws_errors
from ..config import Target
from ..exceptions import GamedayError, ResourceNotFound
from ..lambda_wait import wait_function_updated
from .context import clients_for, identity_of
from .ledger import (
    LayersChange,
    Ledger,
    LedgerEntry,
    TargetRef,
    TimeoutChange,
    UndoStep,
    ValueChange,
    describe_target,
    same_target,
)

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

__all__ = [
    "CleanupReport",
    "apply_undo",
    "cleanup",
    "config_change",
    "manual_removal",
    "undo_entry",
    "wait_function_updated",
]


def config_change(
    function: str,
    env_before: dict[str, str],
    env_after: dict[str, str],
    layers_before: list[str],
    layers_after: list[str],
    timeout_before: int,
    timeout_after: int | None,
) -> UndoStep:
    """The undo step of a $LATEST configuration change, holding only what changes: each
    changed variable with its previous and new value, layers and timeout if they change.
    The function's other variables (often secrets) never reach the ledger."""
    step: UndoStep = {"op": "restore_config", "function": function, "env": {}}
    for key in sorted(set(env_before) | set(env_after)):
        if env_before.get(key) != env_after.get(key):
            step["env"][key] = ValueChange(before=env_before.get(key), after=env_after.get(key))
    if layers_after != layers_before:
        step["layers"] = LayersChange(before=list(layers_before), after=list(layers_after))
    if timeout_after is not None and timeout_after != timeout_before:
        step["timeout"] = TimeoutChange(before=timeout_before, after=timeout_after)
    return step


def _restore_config(clients: Clients, step: UndoStep) -> list[str]:
    fn = step["function"]
    lam = clients.lambda_()
    conflicts: list[str] = []
    with aws_errors(f"restoring {fn}'s configuration"):
        wait_function_updated(clients, fn)
        cfg = lam.get_function_configuration(FunctionName=fn)
        current = dict(cfg.get("Environment", {}).get("Variables", {}))
        env = dict(current)
        for key, change in step.get("env", {}).items():
            now = current.get(key)
            if now == change["before"]:
                continue
            if now != change["after"]:
                conflicts.append(
                    f"{fn}: environment variable {key} was changed since the fault; left alone"
                )
                continue
            if change["before"] is None:
                env.pop(key, None)
            else:
                env[key] = change["before"]
        kwargs: dict[str, object] = {}
        if env != current:
            kwargs["Environment"] = {"Variables": env}
        if "layers" in step:
            layers = [layer["Arn"] for layer in cfg.get("Layers", [])]
            if layers == step["layers"]["after"] and layers != step["layers"]["before"]:
                kwargs["Layers"] = step["layers"]["before"]
            elif layers != step["layers"]["before"]:
                conflicts.append(f"{fn}: layers were changed since the fault; left alone")
        if "timeout" in step:
            timeout = cfg.get("Timeout")
            if timeout == step["timeout"]["after"] and timeout != step["timeout"]["before"]:
                kwargs["Timeout"] = step["timeout"]["before"]
            elif timeout != step["timeout"]["before"]:
                conflicts.append(f"{fn}: timeout was changed since the fault; left alone")
        if kwargs:
            lam.update_function_configuration(FunctionName=fn, **kwargs)  # type: ignore[arg-type]
            wait_function_updated(clients, fn)
    return conflicts


def _alias_is_faults(version: str, weights: dict[str, float], step: UndoStep) -> bool:
    """Whether the alias routes as the fault made it route."""
    if "after_version" in step:
        return version == step["after_version"] and weights == step.get("after_weights", {})
    above = step.get("published_above")
    if above is None or not above.isdigit():
        return False
    return any(v.isdigit() and int(v) > int(above) for v in (version, *weights))


def _restore_alias(clients: Clients, step: UndoStep) -> list[str]:
    fn, alias = step["function"], step["alias"]
    lam = clients.lambda_()
    with aws_errors(f"restoring alias {fn}:{alias}"):
        got = lam.get_alias(FunctionName=fn, Name=alias)
        version = got["FunctionVersion"]
        raw = got.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
        weights = {k: float(v) for k, v in raw.items()}
        before = (step["version"], step.get("weights", {}))
        if (version, weights) == before:
            return []
        if not _alias_is_faults(version, weights, step):
            return [
                f"alias {fn}:{alias} routes to version {version} {weights or ''}, which is "
                f"neither the fault's nor the previous ({before[0]}); left alone"
            ]
        lam.update_alias(
            FunctionName=fn,
            Name=alias,
            FunctionVersion=before[0],
            RoutingConfig={"AdditionalVersionWeights": before[1]},
        )
    return []


def _restore_concurrency(clients: Clients, step: UndoStep) -> list[str]:
    fn = step["function"]
    lam = clients.lambda_()
    before = step.get("reserved")
    with aws_errors(f"restoring {fn}'s reserved concurrency"):
        now = lam.get_function_concurrency(FunctionName=fn).get("ReservedConcurrentExecutions")
        if now == before:
            return []
        if "after_reserved" in step and now != step["after_reserved"]:
            return [f"{fn}: reserved concurrency is {now}, not the fault's; left alone"]
        if before is None:
            lam.delete_function_concurrency(FunctionName=fn)
        else:
            lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=before)
    return []


def _restore_parameter(clients: Clients, step: UndoStep) -> list[str]:
    name, before = step["parameter"], step.get("value")
    ssm = clients.ssm()
    with aws_errors(f"restoring parameter {name}"):
        try:
            now: str | None = ssm.get_parameter(Name=name)["Parameter"].get("Value")
        except ssm.exceptions.ParameterNotFound:
            now = None
        if now == before:
            return []
        if "after_value" in step and now != step["after_value"]:
            return [f"parameter {name} was changed since the fault; left alone"]
        if before is None:
            with contextlib.suppress(ssm.exceptions.ParameterNotFound):
                ssm.delete_parameter(Name=name)
        else:
            ssm.put_parameter(
                Name=name,
                Value=before,
                Type=step.get("parameter_type", "String"),  # type: ignore[arg-type]
                Overwrite=True,
            )
    return []


@contextlib.contextmanager
def _unless_gone(what: str) -> Iterator[None]:
    """aws_errors for a removal: a resource already gone has nothing left to undo."""
    with contextlib.suppress(ResourceNotFound), aws_errors(what):
        yield


_DEPLOYMENT_ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")
STOP_WAIT_S = 60.0


def _wait_deployment_ended(cd: CodeDeployClient, dep: str, deadline: float) -> dict[str, object]:
    """Poll GetDeployment until `dep` is no longer active; raises at the deadline, so the
    entry stays open and cleanup names it rather than restoring an alias under it."""
    while True:
        with aws_errors(f"reading deployment {dep}"):
            info = dict(cd.get_deployment(deploymentId=dep)["deploymentInfo"])
        if info.get("status") not in _DEPLOYMENT_ACTIVE:
            return info
        if time.monotonic() > deadline:
            raise GamedayError(
                f"deployment {dep} still {info.get('status')} {STOP_WAIT_S:g}s after "
                "StopDeployment; it may shift the alias again"
            )
        time.sleep(0.2)


def _stop_deployment(clients: Clients, step: UndoStep) -> list[str]:
    """Stop the step's deployment, or every one of its group that carries its marker. Marked
    ones are listed whatever their status: one an alarm already stopped may have a rollback
    still shifting the alias, which `_stop_one` waits for."""
    if "deployment_id" in step:
        _stop_one(clients, step["deployment_id"])
        return []
    cd = clients.codedeploy()
    app, group, marker = step["application"], step["deployment_group"], step["marker"]
    ids: list[str] = []
    with _unless_gone(f"listing the deployments of {app}/{group}"):
        for page in cd.get_paginator("list_deployments").paginate(
            applicationName=app,
            deploymentGroupName=group,
            createTimeRange={"start": datetime.fromtimestamp(step["listed_from"], UTC)},
        ):
            ids += page["deployments"]
    for dep in ids:
        with _unless_gone(f"reading deployment {dep}"):
            info = cd.get_deployment(deploymentId=dep)["deploymentInfo"]
            if marker in info.get("description", ""):
                _stop_one(clients, dep)
    return []


def _stop_one(clients: Clients, dep: str) -> None:
    """Stop the deployment and wait until neither it nor a rollback CodeDeploy started for
    it is still moving the alias: StopDeployment answers "Pending" (the stop is
    asynchronous) and an alarm-triggered rollback runs as a deployment of its own, so a
    traffic shift could otherwise land after the alias is restored. Stopped without
    CodeDeploy's rollback: the canary entry's restore_alias step puts the alias back,
    only where it still routes as the fault made it."""
    cd = clients.codedeploy()
    deadline = time.monotonic() + STOP_WAIT_S
    try:
        with aws_errors(f"stopping deployment {dep}"):
            info = cd.get_deployment(deploymentId=dep)["deploymentInfo"]
            if info.get("status") in _DEPLOYMENT_ACTIVE:
                # (it may end between the read and the stop)
                with contextlib.suppress(cd.exceptions.DeploymentAlreadyCompletedException):
                    cd.stop_deployment(deploymentId=dep, autoRollbackEnabled=False)
        ended = _wait_deployment_ended(cd, dep, deadline)
    except ResourceNotFound:
        return
    rollback = ended.get("rollbackInfo")
    rollback_id = rollback.get("rollbackDeploymentId") if isinstance(rollback, dict) else None
    if isinstance(rollback_id, str) and rollback_id:
        with contextlib.suppress(ResourceNotFound):
            _wait_deployment_ended(cd, rollback_id, deadline)


def _unsubscribe(clients: Clients, step: UndoStep) -> list[str]:
    sns = clients.sns()
    arns = [step["subscription_arn"]] if "subscription_arn" in step else []
    if not arns and "topic_arn" in step and "queue_name" in step:
        with _unless_gone(f"listing subscriptions of {step['topic_arn']}"):
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=step["topic_arn"]
            ):
                arns += [
                    s["SubscriptionArn"]
                    for s in page["Subscriptions"]
                    if s.get("Endpoint", "").endswith(":" + step["queue_name"])
                ]
    for arn in arns:
        with _unless_gone(f"removing subscription {arn}"):
            sns.unsubscribe(SubscriptionArn=arn)
    return []


def _restore_queue_policy(clients: Clients, step: UndoStep) -> list[str]:
    sqs = clients.sqs()
    with _unless_gone(f"restoring the policy of queue {step['queue_name']}"):
        url = sqs.get_queue_url(QueueName=step["queue_name"])["QueueUrl"]
        # an empty Policy removes it (SQS SetQueueAttributes)
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": step.get("policy") or ""})
    return []


def _delete_queue(clients: Clients, step: UndoStep) -> list[str]:
    sqs = clients.sqs()
    with _unless_gone(f"deleting queue {step.get('queue_url') or step.get('queue_name')}"):
        url = (
            step.get("queue_url")
            or sqs.get_queue_url(QueueName=step.get("queue_name", ""))["QueueUrl"]
        )
        sqs.delete_queue(QueueUrl=url)
    return []


def _cleanup_fis(clients: Clients, step: UndoStep) -> list[str]:
    from .fis.experiment import cleanup_experiments

    cleanup_experiments(clients, step["fis_token"], step.get("fis_location"))
    return []


_APPLY = {
    "restore_config": _restore_config,
    "restore_alias": _restore_alias,
    "restore_concurrency": _restore_concurrency,
    "restore_parameter": _restore_parameter,
    "stop_deployment": _stop_deployment,
    "unsubscribe": _unsubscribe,
    "restore_queue_policy": _restore_queue_policy,
    "delete_queue": _delete_queue,
    "cleanup_fis": _cleanup_fis,
}


def apply_undo(clients: Clients, step: UndoStep) -> list[str]:
    """Apply one undo step; returns the conflicts it left alone (empty: all restored)."""
    return _APPLY[step["op"]](clients, step)


def manual_removal(step: UndoStep) -> str:
    """How a person removes what one undo step removes, for a report of what is left."""
    op = step["op"]
    if op == "restore_config":
        keys = ", ".join(
            f"{k}={c['before']!r}" if c["before"] is not None else f"unset {k}"
            for k, c in step.get("env", {}).items()
        )
        extra = []
        if "layers" in step:
            extra.append(f"layers {step['layers']['before']}")
        if "timeout" in step:
            extra.append(f"timeout {step['timeout']['before']}")
        what = "; ".join(x for x in (keys, *extra) if x)
        return f"on {step['function']} $LATEST: {what}"
    if op == "restore_alias":
        return (
            f"aws lambda update-alias --function-name {step['function']} --name "
            f"{step['alias']} --function-version {step['version']} --routing-config "
            f"AdditionalVersionWeights={step.get('weights', {})}"
        )
    if op == "restore_concurrency":
        if step.get("reserved") is None:
            return f"aws lambda delete-function-concurrency --function-name {step['function']}"
        return (
            f"aws lambda put-function-concurrency --function-name {step['function']}"
            f" --reserved-concurrent-executions {step['reserved']}"
        )
    if op == "restore_parameter":
        if step.get("value") is None:
            return f"aws ssm delete-parameter --name {step['parameter']}"
        return f"restore SSM parameter {step['parameter']} to its previous value"
    if op == "stop_deployment":
        if "deployment_id" in step:
            return f"aws deploy stop-deployment --deployment-id {step['deployment_id']}"
        return (
            f"aws deploy stop-deployment for each active deployment of "
            f"{step['application']}/{step['deployment_group']} described with {step['marker']!r}"
        )
    if op == "unsubscribe":
        return f"remove subscription {step.get('subscription_arn') or step.get('queue_name')}"
    if op == "cleanup_fis":
        return (
            f"stop the FIS experiments of the template tagged gameday-ledger={step['fis_token']}"
            " (aws fis stop-experiment), then delete the template"
        )
    if op == "restore_queue_policy":
        return f"restore the access policy of queue {step['queue_name']}"
    return f"delete queue {step.get('queue_url') or step.get('queue_name')}"


def undo_entry(ledger: Ledger, entry: LedgerEntry, clients: Clients) -> list[str]:
    """Undo one fault and mark it undone; returns the conflicts left alone. Raises on the
    first step that fails (the entry then stays open)."""
    conflicts: list[str] = []
    for step in entry.undo:
        conflicts += apply_undo(clients, step)
    ledger.mark_undone(entry.id)
    return conflicts


@dataclass(frozen=True)
class CleanupReport:
    """What a cleanup did. `foreign`: open entries of other targets, left alone;
    `pending`: with check=True, the entries it would undo; `problems`: unreadable lines."""

    undone: tuple[LedgerEntry, ...] = ()
    failed: tuple[tuple[LedgerEntry, str], ...] = ()
    conflicts: tuple[tuple[LedgerEntry, str], ...] = ()
    foreign: tuple[LedgerEntry, ...] = ()
    pending: tuple[LedgerEntry, ...] = ()
    problems: tuple[str, ...] = ()
    target: TargetRef | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def left_behind(self) -> list[str]:
        """One line per fault still in place on this target, with how to remove it."""
        return [
            f"{e.description} ({why}); to remove by hand: "
            + "; ".join(manual_removal(s) for s in e.undo)
            for e, why in self.failed
        ]

    def foreign_lines(self) -> list[str]:
        return [f"{e.description} on {describe_target(e.target)}" for e in self.foreign]


def cleanup(
    ledger: Ledger,
    target: Target,
    *,
    run_id: str | None = None,
    clients: Clients | None = None,
    check: bool = False,
) -> CleanupReport:
    """Undo the open entries made on `target` (of one run, or all), newest first; keeps
    going past failures. Entries of other targets are listed, never touched. With
    `check`, nothing is changed: the entries that would be undone are listed."""
    here = identity_of(target)
    clients = clients or clients_for(target)
    entries = ledger.open_entries(run_id=run_id)
    problems = tuple(ledger.problems)
    mine = [e for e in entries if same_target(e.target, here)]
    foreign = tuple(e for e in entries if not same_target(e.target, here))
    if check:
        return CleanupReport(pending=tuple(mine), foreign=foreign, problems=problems, target=here)
    undone: list[LedgerEntry] = []
    failed: list[tuple[LedgerEntry, str]] = []
    conflicts: list[tuple[LedgerEntry, str]] = []
    for entry in mine:
        try:
            conflicts += [(entry, c) for c in undo_entry(ledger, entry, clients)]
            undone.append(entry)
        except GamedayError as exc:
            failed.append((entry, exc.one_line()))
    return CleanupReport(
        tuple(undone), tuple(failed), tuple(conflicts), foreign, (), problems, here
    )
