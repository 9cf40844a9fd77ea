"""What AWS FIS accepts for Lambda experiments, and the configuration object it writes.

Validation follows the FIS actions reference
(docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#aws-lambda-actions):
`aws:lambda:invocation-add-delay` (startupDelayMilliseconds 0-900000),
`aws:lambda:invocation-error` (preventExecution required),
`aws:lambda:invocation-http-integration-response` (statusCode, contentTypeHeader,
preventExecution); every one takes `duration` and `invocationPercentage` 1-100 and targets
`aws:lambda:function` under the key `Functions`. Stop conditions are
`{source: aws:cloudwatch:alarm, value: <alarm ARN>}` or `{source: none}`.

The configuration object FIS writes under `AWS_FIS_CONFIGURATION_LOCATION` is NOT
documented (only its location is). `config_object` below is the twin's own shape: one
JSON object per experiment and function, listing the active actions. Treat its field names
as the twin's, not AWS's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ACTION_KINDS",
    "FaultKind",
    "FisAction",
    "FisValidationError",
    "LambdaFault",
    "config_object",
    "parse_config_object",
    "parse_duration",
    "validate_template",
]

FaultKind = Literal["add-delay", "error", "http-integration-response"]
ACTION_KINDS: Final[Mapping[str, FaultKind]] = {
    "aws:lambda:invocation-add-delay": "add-delay",
    "aws:lambda:invocation-error": "error",
    "aws:lambda:invocation-http-integration-response": "http-integration-response",
}
LAMBDA_TARGET: Final = "aws:lambda:function"
_ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9_$-]+))?$"
)
# ISO 8601 durations as FIS takes them (PT1M, PT30S, PT1H30M); FIS caps an action at 12 h.
_DURATION = re.compile(r"^PT(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?$")
MAX_DURATION_S: Final = 12 * 3600


class FisValidationError(ValueError):
    """A request FIS refuses with ValidationException (HTTP 400)."""


def parse_duration(text: str) -> float:
    m = _DURATION.match(text or "")
    if m is None or not any(m.groupdict().values()):
        raise FisValidationError(f"Invalid duration '{text}': use ISO 8601, e.g. PT5M")
    seconds = int(m["h"] or 0) * 3600 + int(m["m"] or 0) * 60 + int(m["s"] or 0)
    if not 0 < seconds <= MAX_DURATION_S:
        raise FisValidationError(f"Invalid duration '{text}': between PT1S and PT12H")
    return float(seconds)


@dataclass(frozen=True)
class FunctionTarget:
    arn: str
    region: str
    account: str
    name: str
    qualifier: str | None


def parse_function_arn(arn: str) -> FunctionTarget | None:
    m = _FUNCTION_ARN.match(arn)
    if m is None:
        return None
    return FunctionTarget(arn, m["region"], m["account"], m["name"], m["qualifier"])


@dataclass(frozen=True)
class FisAction:
    """One Lambda action of a template, validated."""

    name: str
    kind: FaultKind
    duration_s: float
    targets: tuple[str, ...]  # template target names
    start_after: tuple[str, ...]
    invocation_percentage: int
    delay_ms: int = 0
    prevent_execution: bool = False
    status_code: int = 500
    content_type: str = "application/json"


def _int_param(params: Mapping[str, str], key: str, lo: int, hi: int, default: int | None) -> int:
    raw = params.get(key)
    if raw is None:
        if default is None:
            raise FisValidationError(f"Missing required parameter '{key}'")
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise FisValidationError(f"Invalid value '{raw}' for parameter '{key}'") from None
    if not lo <= value <= hi:
        raise FisValidationError(
            f"Invalid value '{raw}' for parameter '{key}': must be between {lo} and {hi}"
        )
    return value


def _bool_param(params: Mapping[str, str], key: str, required: bool) -> bool:
    raw = params.get(key)
    if raw is None:
        if required:
            raise FisValidationError(f"Missing required parameter '{key}'")
        return False
    if str(raw).lower() not in ("true", "false"):
        raise FisValidationError(f"Invalid value '{raw}' for parameter '{key}': true or false")
    return str(raw).lower() == "true"


def _action(name: str, spec: Mapping[str, object], target_names: set[str]) -> FisAction:
    action_id = str(spec.get("actionId") or "")
    kind = ACTION_KINDS.get(action_id)
    if kind is None:
        raise FisValidationError(f"Action '{name}': unsupported actionId '{action_id}'")
    raw_params = spec.get("parameters") or {}
    if not isinstance(raw_params, Mapping):
        raise FisValidationError(f"Action '{name}': parameters must be a map")
    params = {str(k): str(v) for k, v in raw_params.items()}
    known = {"duration", "invocationPercentage"} | {
        "add-delay": {"startupDelayMilliseconds"},
        "error": {"preventExecution"},
        "http-integration-response": {"statusCode", "contentTypeHeader", "preventExecution"},
    }[kind]
    unknown = sorted(set(params) - known)
    if unknown:
        raise FisValidationError(f"Action '{name}': unknown parameter(s) {', '.join(unknown)}")
    if "duration" not in params:
        raise FisValidationError(f"Action '{name}': missing required parameter 'duration'")
    targets = spec.get("targets") or {}
    if not isinstance(targets, Mapping) or set(targets) != {"Functions"}:
        raise FisValidationError(f"Action '{name}': targets must be {{'Functions': <target>}}")
    target = str(targets["Functions"])
    if target not in target_names:
        raise FisValidationError(f"Action '{name}': target '{target}' is not defined")
    after = spec.get("startAfter") or []
    return FisAction(
        name=name,
        kind=kind,
        duration_s=parse_duration(params["duration"]),
        targets=(target,),
        start_after=tuple(str(a) for a in after) if isinstance(after, list) else (),
        invocation_percentage=_int_param(params, "invocationPercentage", 1, 100, 100),
        delay_ms=(
            _int_param(params, "startupDelayMilliseconds", 0, 900_000, None)
            if kind == "add-delay"
            else 0
        ),
        prevent_execution=_bool_param(params, "preventExecution", required=kind == "error")
        if kind != "add-delay"
        else False,
        status_code=(
            _int_param(params, "statusCode", 100, 599, None)
            if kind == "http-integration-response"
            else 500
        ),
        content_type=params.get("contentTypeHeader", "application/json"),
    )


@dataclass(frozen=True)
class TemplateSpec:
    role_arn: str
    actions: tuple[FisAction, ...]
    targets: Mapping[str, tuple[str, ...]]  # target name -> resource ARNs
    alarm_arns: tuple[str, ...]


def validate_template(body: Mapping[str, object], region: str, account: str) -> TemplateSpec:
    """Refuse what FIS refuses in CreateExperimentTemplate (Lambda actions only)."""
    if not body.get("clientToken"):
        raise FisValidationError("clientToken is required")
    role = str(body.get("roleArn") or "")
    if not role:
        raise FisValidationError("roleArn is required")
    if not _ROLE_ARN.match(role):
        raise FisValidationError(f"Invalid roleArn '{role}'")
    raw_targets = body.get("targets") or {}
    if not isinstance(raw_targets, Mapping):
        raise FisValidationError("targets must be a map")
    targets: dict[str, tuple[str, ...]] = {}
    for tname, tspec in raw_targets.items():
        if not isinstance(tspec, Mapping):
            raise FisValidationError(f"Target '{tname}' must be a map")
        if tspec.get("resourceType") != LAMBDA_TARGET:
            raise FisValidationError(
                f"Target '{tname}': resourceType {tspec.get('resourceType')!r} is not "
                f"supported by the twin (only {LAMBDA_TARGET})"
            )
        arns = tspec.get("resourceArns")
        if not isinstance(arns, list) or not arns:
            raise FisValidationError(
                f"Target '{tname}': the twin resolves targets by resourceArns only"
            )
        for arn in arns:
            parsed = parse_function_arn(str(arn))
            if parsed is None:
                raise FisValidationError(f"Target '{tname}': invalid function ARN '{arn}'")
            if parsed.region != region or parsed.account != account:
                raise FisValidationError(
                    f"Target '{tname}': '{arn}' is not in this account and Region"
                )
        mode = str(tspec.get("selectionMode") or "")
        if not (mode == "ALL" or mode.startswith(("COUNT(", "PERCENT("))):
            raise FisValidationError(f"Target '{tname}': invalid selectionMode '{mode}'")
        targets[str(tname)] = tuple(str(a) for a in arns)
    raw_actions = body.get("actions") or {}
    if not isinstance(raw_actions, Mapping) or not raw_actions:
        raise FisValidationError("actions: at least one action is required")
    actions = tuple(_action(str(n), s, set(targets)) for n, s in raw_actions.items())
    names = {a.name for a in actions}
    for a in actions:
        missing = [s for s in a.start_after if s not in names]
        if missing:
            raise FisValidationError(f"Action '{a.name}': startAfter names unknown {missing}")
    raw_stops = body.get("stopConditions")
    if not isinstance(raw_stops, list) or not raw_stops:
        raise FisValidationError("stopConditions is required (use [{source: none}] for none)")
    alarms: list[str] = []
    for stop in raw_stops:
        source = stop.get("source") if isinstance(stop, Mapping) else None
        if source == "none":
            continue
        if source != "aws:cloudwatch:alarm":
            raise FisValidationError(f"Invalid stop condition source {source!r}")
        value = str(stop.get("value") or "")
        if not _ALARM_ARN.match(value):
            raise FisValidationError(f"Invalid stop condition alarm ARN '{value}'")
        alarms.append(value)
    return TemplateSpec(role, actions, targets, tuple(alarms))


@dataclass(frozen=True)
class LambdaFault:
    """One active action as the extension reads it from the configuration object."""

    experiment_id: str
    action: str
    kind: FaultKind
    target_arn: str  # the (possibly qualified) function ARN the action targets
    started_at: float  # the action's start: the earliest of conflicting faults wins
    invocation_percentage: int
    delay_ms: int = 0
    prevent_execution: bool = False
    status_code: int = 500
    content_type: str = "application/json"


def config_object(faults: Sequence[LambdaFault]) -> bytes:
    """The twin's configuration object (shape undocumented by AWS: see module docstring)."""
    return json.dumps(
        {
            "schema": "lambda-gameday-twin/1",
            "faults": [
                {
                    "experimentId": f.experiment_id,
                    "actionName": f.action,
                    "faultType": f.kind,
                    "targetArn": f.target_arn,
                    "startTime": f.started_at,
                    "invocationPercentage": f.invocation_percentage,
                    "startupDelayMilliseconds": f.delay_ms,
                    "preventExecution": f.prevent_execution,
                    "statusCode": f.status_code,
                    "contentTypeHeader": f.content_type,
                }
                for f in faults
            ],
        },
        sort_keys=True,
    ).encode()


def parse_config_object(data: bytes) -> list[LambdaFault]:
    try:
        doc = json.loads(data)
        return [
            LambdaFault(
                experiment_id=str(f["experimentId"]),
                action=str(f["actionName"]),
                kind=f["faultType"],
                target_arn=str(f["targetArn"]),
                started_at=float(f["startTime"]),
                invocation_percentage=int(f["invocationPercentage"]),
                delay_ms=int(f["startupDelayMilliseconds"]),
                prevent_execution=bool(f["preventExecution"]),
                status_code=int(f["statusCode"]),
                content_type=str(f["contentTypeHeader"]),
            )
            for f in doc["faults"]
            if f.get("faultType") in ACTION_KINDS.values()
        ]
    except (ValueError, KeyError, TypeError):
        return []  # the extension ignores an object it cannot read
