"""One FIS experiment's lifecycle, as the harness drives it on AWS or on the twin.

* The template is created with a clientToken, targets the function by qualified ARN (the
  canary version or the alias), takes the function's alarms as stop conditions
  (`{source: aws:cloudwatch:alarm, value: ARN}`) and carries tags naming the run and the
  ledger entry (API: docs.aws.amazon.com/fis/latest/APIReference/
  API_CreateExperimentTemplate.html).
* The experiment is started (`actionsMode: skip-all` for a dry run) and polled — boto3
  has no FIS waiter — every `POLL_S` seconds, well under FIS's API request-rate quotas
  (docs.aws.amazon.com/general/latest/gr/fis.html lists them per API).
* Cleanup finds everything by the ledger tag, so it works from another process after a
  SIGKILL: stop every experiment of the template that has not ended, wait for it to end,
  remove configuration objects it left under the location, delete the template.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ...aws import Clients, aws_errors
from ...config import Target
from ...exceptions import GamedayError, ResourceNotFound
from .setup import parse_location, settings_of

__all__ = [
    "ACTION_IDS",
    "FisFault",
    "RunningExperiment",
    "cleanup_experiments",
    "create_template",
    "experiments_for_token",
    "removal_requested",
    "start_experiment",
    "template_example",
    "wait_for_status",
]

POLL_S = 0.5
ENDED = frozenset({"completed", "stopped", "failed", "cancelled"})
LEDGER_TAG = "gameday-ledger"
RUN_TAG = "gameday-run"

FaultType = Literal["error", "delay", "http-status"]
ACTION_IDS: Mapping[FaultType, str] = {
    "error": "aws:lambda:invocation-error",
    "delay": "aws:lambda:invocation-add-delay",
    "http-status": "aws:lambda:invocation-http-integration-response",
}


@dataclass(frozen=True)
class FisFault:
    """One Lambda action. Limits as the FIS actions reference states them:
    startupDelayMilliseconds 0-900000, invocationPercentage 1-100."""

    type: FaultType
    duration_s: int = 600
    percentage: int = 100
    delay_ms: int = 0
    status_code: int = 502
    prevent_execution: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.percentage <= 100:
            raise GamedayError(f"FIS invocationPercentage {self.percentage}: must be 1-100")
        if not 0 <= self.delay_ms <= 900_000:
            raise GamedayError(f"FIS startupDelayMilliseconds {self.delay_ms}: must be 0-900000")
        if not 1 <= self.duration_s <= 12 * 3600:
            raise GamedayError(f"FIS action duration {self.duration_s}s: must be 1 s to 12 h")

    def action(self) -> dict[str, object]:
        params: dict[str, str] = {
            "duration": f"PT{self.duration_s}S",
            "invocationPercentage": str(self.percentage),
        }
        if self.type == "delay":
            params["startupDelayMilliseconds"] = str(self.delay_ms)
        elif self.type == "error":
            params["preventExecution"] = str(self.prevent_execution).lower()
        else:
            params |= {
                "statusCode": str(self.status_code),
                "preventExecution": str(self.prevent_execution).lower(),
            }
        return {
            "actionId": ACTION_IDS[self.type],
            "description": f"gameday {self.type}",
            "parameters": params,
            "targets": {"Functions": "function"},
        }

    def describe(self) -> str:
        what = {
            "error": "invocation error",
            "delay": f"{self.delay_ms} ms delay",
            "http-status": f"HTTP {self.status_code}",
        }[self.type]
        return f"{what} on {self.percentage}% of invocations for {self.duration_s}s"


def _fis(clients: Clients) -> Any:
    return clients.client("fis")


def alarm_arns(clients: Clients, names: tuple[str, ...]) -> list[str]:
    """ARNs of the target's alarms, read by name (never "all alarms")."""
    if not names:
        return []
    with aws_errors("reading the stop-condition alarms"):
        found = clients.cloudwatch().describe_alarms(AlarmNames=list(names))["MetricAlarms"]
    arns = {a["AlarmName"]: a["AlarmArn"] for a in found}
    missing = [n for n in names if n not in arns]
    if missing:
        raise GamedayError(f"stop-condition alarm(s) not found: {', '.join(missing)}")
    return [arns[n] for n in names]


def template_request(
    role_arn: str,
    function_arn: str,
    fault: FisFault,
    stop_alarms: list[str],
    run_id: str,
    ledger_token: str,
) -> dict[str, object]:
    return {
        "clientToken": ledger_token,  # idempotent: a retried create makes no second template
        "description": f"gameday run {run_id}: {fault.describe()}"[:512],
        "roleArn": role_arn,
        "targets": {
            "function": {
                "resourceType": "aws:lambda:function",
                "resourceArns": [function_arn],
                "selectionMode": "ALL",
            }
        },
        "actions": {"fault": fault.action()},
        "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": a} for a in stop_alarms]
        or [{"source": "none"}],
        "tags": {RUN_TAG: run_id, LEDGER_TAG: ledger_token},
    }


def create_template(clients: Clients, request: Mapping[str, object]) -> str:
    with aws_errors("creating the FIS experiment template"):
        return str(_fis(clients).create_experiment_template(**request)["experimentTemplate"]["id"])


def start_experiment(
    clients: Clients, template_id: str, run_id: str, ledger_token: str, *, dry_run: bool
) -> str:
    with aws_errors(f"starting an experiment from template {template_id}"):
        got = _fis(clients).start_experiment(
            clientToken=str(uuid.uuid4()),
            experimentTemplateId=template_id,
            experimentOptions={"actionsMode": "skip-all" if dry_run else "run-all"},
            tags={RUN_TAG: run_id, LEDGER_TAG: ledger_token},
        )
    return str(got["experiment"]["id"])


@dataclass(frozen=True)
class RunningExperiment:
    id: str
    status: str
    reason: str
    seen_at: float  # local clock, when the harness read this status
    action_started: float | None  # AWS's startTime of the action (AWS clock)
    action_ended: float | None


def _epoch(value: object) -> float | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    try:
        return float(str(value))
    except ValueError:
        return None


def read_experiment(clients: Clients, experiment_id: str) -> RunningExperiment:
    with aws_errors(f"reading FIS experiment {experiment_id}"):
        exp = _fis(clients).get_experiment(id=experiment_id)["experiment"]
    action = (exp.get("actions") or {}).get("fault", {})
    state = exp.get("state", {})
    return RunningExperiment(
        experiment_id,
        str(state.get("status", "")),
        str(state.get("reason", "")),
        time.time(),
        _epoch(action.get("startTime")),
        _epoch(action.get("endTime")),
    )


def wait_for_status(
    clients: Clients,
    experiment_id: str,
    wanted: frozenset[str],
    timeout_s: float,
    check: Callable[[], None] = lambda: None,
) -> RunningExperiment:
    """Poll until the experiment's status is in `wanted` (or it ended otherwise: raises)."""
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        exp = read_experiment(clients, experiment_id)
        if exp.status in wanted:
            return exp
        if exp.status in ENDED:
            raise GamedayError(f"FIS experiment {experiment_id} ended {exp.status}: {exp.reason}")
        if time.monotonic() > deadline:
            raise GamedayError(
                f"FIS experiment {experiment_id} still {exp.status} after {timeout_s:g}s"
            )
        time.sleep(POLL_S)


def _templates_tagged(clients: Clients, token: str) -> list[str]:
    fis = _fis(clients)
    ids: list[str] = []
    kwargs: dict[str, str] = {}
    with aws_errors("listing FIS experiment templates"):
        while True:
            page = fis.list_experiment_templates(**kwargs)
            ids += [
                t["id"]
                for t in page.get("experimentTemplates", [])
                if (t.get("tags") or {}).get(LEDGER_TAG) == token
            ]
            if not page.get("nextToken"):
                return ids
            kwargs = {"nextToken": page["nextToken"]}


def _experiments_of(clients: Clients, template_id: str) -> list[tuple[str, str]]:
    fis = _fis(clients)
    out: list[tuple[str, str]] = []
    kwargs: dict[str, str] = {"experimentTemplateId": template_id}
    with aws_errors(f"listing experiments of template {template_id}"):
        while True:
            page = fis.list_experiments(**kwargs)
            out += [(e["id"], e["state"]["status"]) for e in page.get("experiments", [])]
            if not page.get("nextToken"):
                return out
            kwargs = {"experimentTemplateId": template_id, "nextToken": page["nextToken"]}


def experiments_for_token(clients: Clients, token: str) -> list[str]:
    """Ids of the experiments started from the templates tagged with ledger token `token`."""
    return [
        exp_id
        for template_id in _templates_tagged(clients, token)
        for exp_id, _ in _experiments_of(clients, template_id)
    ]


def cleanup_experiments(
    clients: Clients, token: str, location: str | None, timeout_s: float = 60.0
) -> list[str]:
    """Stop every experiment of the templates tagged `token`, wait for each to end, remove
    configuration objects left under `location` for it, delete the templates. Safe to
    repeat. Returns what was done, one line each."""
    fis = _fis(clients)
    done: list[str] = []
    for template_id in _templates_tagged(clients, token):
        for exp_id, status in _experiments_of(clients, template_id):
            if status not in ENDED:
                try:
                    with aws_errors(f"stopping FIS experiment {exp_id}"):
                        fis.stop_experiment(id=exp_id)
                    done.append(f"stopped FIS experiment {exp_id}")
                except ResourceNotFound:
                    continue
                wait_for_status(clients, exp_id, ENDED, timeout_s)
            if location:
                done += _remove_leftovers(clients, location, exp_id)
        with contextlib.suppress(ResourceNotFound):  # gone already: nothing to delete
            with aws_errors(f"deleting FIS template {template_id}"):
                fis.delete_experiment_template(id=template_id)
            done.append(f"deleted FIS template {template_id}")
    return done


def _remove_leftovers(clients: Clients, location: str, experiment_id: str) -> list[str]:
    """FIS removes its configuration when an experiment ends; an object naming this
    experiment that is still there (a failed delete, an interrupted experiment) goes."""
    bucket, prefix = parse_location(location)
    s3 = clients.s3()
    removed: list[str] = []
    try:
        with aws_errors(f"listing {location}"):
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    except ResourceNotFound:
        return []
    for key in keys:
        if experiment_id in key:
            with aws_errors(f"removing s3://{bucket}/{key}"):
                s3.delete_object(Bucket=bucket, Key=key)
            removed.append(f"removed s3://{bucket}/{key}")
    return removed


def function_arn(target: Target, clients: Clients, function: str, qualifier: str) -> str:
    with aws_errors(f"reading {function}:{qualifier}"):
        cfg = clients.lambda_().get_function_configuration(
            FunctionName=function, Qualifier=qualifier
        )
    # the unqualified ARN (the answer may carry the version an alias points at), then ours
    unqualified = ":".join(str(cfg["FunctionArn"]).split(":")[:7])
    return f"{unqualified}:{qualifier}"


def template_example(target: Target, function: str, alias: str) -> dict[str, object]:
    """The template the fis backend creates for an error drill on `function:alias` (the
    clientToken and tags are filled in per run)."""
    fis = settings_of(target)
    arn = f"arn:aws:lambda:{target.region}:<account>:function:{function}:{alias}"
    alarms = [
        f"arn:aws:cloudwatch:{target.region}:<account>:alarm:{a}" for a in _alarms(target, function)
    ]
    request = template_request(fis.role_arn, arn, FisFault("error"), alarms, "<run id>", "<token>")
    return dict(request)


def _alarms(target: Target, function: str) -> tuple[str, ...]:
    for fn in target.functions:
        if fn.name == function:
            return fn.alarms
    return ()


def removal_requested(
    configuration: Mapping[str, object] | None, experiment_id: str
) -> float | None:
    """When FIS ended the experiment's action (stopped, completed or failed: AWS's clock),
    for the timeline's ramp-down; None when it cannot be read."""
    from ..context import clients_for, target_from

    try:
        exp = read_experiment(clients_for(target_from(configuration)), experiment_id)
    except GamedayError:
        return None
    return exp.action_ended
