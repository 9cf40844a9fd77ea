"""Applying a ledger entry's undo steps to the target, and the `cleanup` that replays them.

Every step restores a previous value, so applying it again is harmless: `cleanup` may run
after a rollback already did part of the work, or twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..aws import Clients, aws_errors
from ..exceptions import GamedayError, ResourceNotFound
from ..lambda_wait import wait_function_updated
from .context import clients_for, target_from_ref
from .ledger import Ledger, LedgerEntry, UndoStep

__all__ = ["CleanupReport", "apply_undo", "cleanup", "undo_entry", "wait_function_updated"]


def apply_undo(clients: Clients, step: UndoStep) -> None:
    op = step["op"]
    lam = clients.lambda_()
    if op == "restore_config":
        fn = step["function"]
        with aws_errors(f"restoring {fn}'s configuration"):
            wait_function_updated(clients, fn)
            env = step.get("environment") or {}
            if "timeout" in step:
                lam.update_function_configuration(
                    FunctionName=fn,
                    Environment={"Variables": env},
                    Layers=step.get("layers", []),
                    Timeout=step["timeout"],
                )
            else:
                lam.update_function_configuration(
                    FunctionName=fn, Environment={"Variables": env}, Layers=step.get("layers", [])
                )
            wait_function_updated(clients, fn)
    elif op == "restore_alias":
        fn, alias = step["function"], step["alias"]
        with aws_errors(f"restoring alias {fn}:{alias}"):
            lam.update_alias(
                FunctionName=fn,
                Name=alias,
                FunctionVersion=step["version"],
                RoutingConfig={"AdditionalVersionWeights": step.get("weights", {})},
            )
    elif op == "restore_concurrency":
        fn = step["function"]
        reserved = step.get("reserved")
        with aws_errors(f"restoring {fn}'s reserved concurrency"):
            if reserved is None:
                lam.delete_function_concurrency(FunctionName=fn)
            else:
                lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=reserved)
    elif op == "restore_parameter":
        name, value = step["parameter"], step.get("value")
        ssm = clients.ssm()
        with aws_errors(f"restoring parameter {name}"):
            if value is None:
                with contextlib.suppress(ssm.exceptions.ParameterNotFound):
                    ssm.delete_parameter(Name=name)
            else:
                ssm.put_parameter(
                    Name=name,
                    Value=value,
                    Type=step.get("parameter_type", "String"),  # type: ignore[arg-type]
                    Overwrite=True,
                )
    elif op == "stop_deployment":
        dep = step["deployment_id"]
        cd = clients.codedeploy()
        try:
            with aws_errors(f"stopping deployment {dep}"):
                info = cd.get_deployment(deploymentId=dep)["deploymentInfo"]
                if info.get("status") in ("Created", "Queued", "InProgress", "Baking", "Ready"):
                    cd.stop_deployment(deploymentId=dep, autoRollbackEnabled=False)
        except ResourceNotFound:
            pass
    elif op == "unsubscribe":
        sns = clients.sns()
        arns = [step["subscription_arn"]] if "subscription_arn" in step else []
        if not arns and "topic_arn" in step and "queue_name" in step:
            try:
                with aws_errors(f"listing subscriptions of {step['topic_arn']}"):
                    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                        TopicArn=step["topic_arn"]
                    ):
                        arns += [
                            s["SubscriptionArn"]
                            for s in page["Subscriptions"]
                            if s.get("Endpoint", "").endswith(":" + step["queue_name"])
                        ]
            except ResourceNotFound:
                pass
        for arn in arns:
            try:
                with aws_errors(f"removing subscription {arn}"):
                    sns.unsubscribe(SubscriptionArn=arn)
            except ResourceNotFound:
                pass
    elif op == "cleanup_fis":
        from .fis.experiment import cleanup_experiments

        cleanup_experiments(clients, step["fis_token"], step.get("fis_location"))
    elif op == "delete_queue":
        sqs = clients.sqs()
        try:
            with aws_errors(f"deleting queue {step.get('queue_url') or step.get('queue_name')}"):
                url = (
                    step.get("queue_url")
                    or sqs.get_queue_url(QueueName=step.get("queue_name", ""))["QueueUrl"]
                )
                sqs.delete_queue(QueueUrl=url)
        except ResourceNotFound:
            pass


def undo_entry(ledger: Ledger, entry: LedgerEntry, clients: Clients | None = None) -> None:
    """Undo one fault and mark it undone. Raises on the first step that fails."""
    clients = clients or clients_for(target_from_ref(entry.target))
    for step in entry.undo:
        apply_undo(clients, step)
    ledger.mark_undone(entry.id)


@dataclass(frozen=True)
class CleanupReport:
    undone: tuple[LedgerEntry, ...]
    failed: tuple[tuple[LedgerEntry, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failed


def cleanup(
    ledger: Ledger, *, run_id: str | None = None, clients: Clients | None = None
) -> CleanupReport:
    """Undo every open entry (of one run, or all), newest first. Keeps going past failures."""
    undone: list[LedgerEntry] = []
    failed: list[tuple[LedgerEntry, str]] = []
    for entry in ledger.open_entries(run_id=run_id):
        try:
            undo_entry(ledger, entry, clients)
            undone.append(entry)
        except GamedayError as exc:
            failed.append((entry, exc.one_line()))
    return CleanupReport(tuple(undone), tuple(failed))
