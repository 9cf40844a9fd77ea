"""Faults as users inject them on AWS, read from a function version's configuration.

Two mechanisms, both reproduced from what the real tools write:

* chaos-lambda-extension (what chaostoolkit-aws `add_latency` / `add_error` set): env vars
  on the function plus the extension layer and `AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap`.
  Without the layer and wrapper the variables do nothing, as on AWS.
* failure-lambda: an SSM parameter named by `FAILURE_INJECTION_PARAM`, JSON in the 1.x
  shape (one flag per mode) or the 0.x shape (`isEnabled` / `failureMode` / `rate`).

Everything here is pure: parsing and describing; the runtime applies the faults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CHAOS_LAYER_MARK",
    "ChaosExtension",
    "FailureFlag",
    "FailureMode",
    "chaos_extension",
    "fault_summary",
    "parse_failure_config",
]

CHAOS_LAYER_MARK = "chaos-lambda-extension"
_WRAPPER = "/opt/bootstrap"
_LAT = "CHAOS_EXTENSION__LAMBDA__"
_RESP = "CHAOS_EXTENSION__RESPONSE__"

FailureMode = Literal[
    "latency", "timeout", "exception", "statuscode", "diskspace", "denylist", "corruption"
]
_MODES: tuple[FailureMode, ...] = (
    "latency",
    "timeout",
    "exception",
    "statuscode",
    "diskspace",
    "denylist",
    "corruption",
)


@dataclass(frozen=True)
class ChaosExtension:
    """The chaos-lambda-extension's active faults on one function version."""

    latency_s: float | None  # added before the handler runs, with probability latency_p
    latency_p: float
    response_body: str | None  # replaces a successful response, with probability response_p
    response_p: float

    @property
    def active(self) -> bool:
        return self.latency_s is not None or self.response_body is not None


def _prob(value: str | None, default: float) -> float:
    try:
        p = float(value) if value is not None else default
    except ValueError:
        return default
    return min(max(p, 0.0), 1.0)


def chaos_extension(env: Mapping[str, str], layer_arns: Sequence[str]) -> ChaosExtension | None:
    """The extension's faults, or None if the extension is not installed on this version."""
    if env.get("AWS_LAMBDA_EXEC_WRAPPER") != _WRAPPER:
        return None
    if not any(CHAOS_LAYER_MARK in arn for arn in layer_arns):
        return None
    latency: float | None = None
    if env.get(_LAT + "ENABLE_LATENCY", "").lower() == "true":
        try:
            latency = float(env.get(_LAT + "LATENCY_VALUE", "0"))
        except ValueError:
            latency = None
    body: str | None = None
    if env.get(_RESP + "ENABLE_CHANGE_RESPONSE_BODY", "").lower() == "true":
        body = env.get(_RESP + "DEFAULT_RESPONSE", "")
    ext = ChaosExtension(
        latency_s=latency,
        latency_p=_prob(env.get(_LAT + "LATENCY_PROBABILITY"), 0.9),
        response_body=body,
        response_p=_prob(env.get(_RESP + "CHANGE_RESPONSE_PROBABILITY"), 0.9),
    )
    return ext if ext.active else None


@dataclass(frozen=True)
class FailureFlag:
    """One enabled failure-lambda mode, normalised to the 1.x shape."""

    mode: FailureMode
    percentage: float = 100.0  # 0-100
    min_latency_ms: float = 0.0
    max_latency_ms: float = 0.0
    exception_msg: str = "Exception message!"
    status_code: int = 404
    timeout_buffer_ms: float = 0.0
    body: str | None = None
    deny_list: tuple[str, ...] = ()


def _num(raw: object, default: float) -> float:
    if isinstance(raw, bool):
        return default
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return default
    return default


def _flag(mode: FailureMode, spec: Mapping[str, object], percentage: float) -> FailureFlag:
    deny = spec.get("deny_list", spec.get("denylist", ()))
    body = spec.get("body")
    return FailureFlag(
        mode=mode,
        percentage=min(max(percentage, 0.0), 100.0),
        min_latency_ms=_num(spec.get("min_latency", spec.get("minLatency")), 0.0),
        max_latency_ms=_num(spec.get("max_latency", spec.get("maxLatency")), 0.0),
        exception_msg=str(
            spec.get("exception_msg", spec.get("exceptionMsg", "Exception message!"))
        ),
        status_code=int(_num(spec.get("status_code", spec.get("statusCode")), 404)),
        timeout_buffer_ms=_num(spec.get("timeout_buffer_ms"), 0.0),
        body=body if isinstance(body, str) else None,
        deny_list=tuple(str(d) for d in deny) if isinstance(deny, list | tuple) else (),
    )


def parse_failure_config(text: str | None) -> tuple[FailureFlag, ...]:
    """The enabled flags in a failure-lambda parameter value (1.x or 0.x); invalid JSON or a
    disabled config gives no flags, as failure-lambda then runs the handler untouched."""
    if not text:
        return ()
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    if "isEnabled" in data or "failureMode" in data:  # 0.x: one mode, rate 0-1
        mode = data.get("failureMode")
        if data.get("isEnabled") is not True or mode not in _MODES:
            return ()
        rate = _num(data.get("rate"), 1.0)
        return (_flag(mode, data, rate * 100.0),)
    flags: list[FailureFlag] = []
    for mode in _MODES:
        spec = data.get(mode)
        if isinstance(spec, dict) and spec.get("enabled") is True:
            flags.append(_flag(mode, spec, _num(spec.get("percentage"), 100.0)))
    return tuple(flags)


def fault_summary(
    env: Mapping[str, str],
    layer_arns: Sequence[str],
    failure_flags: Sequence[FailureFlag],
    reserved_concurrency: int | None,
    timeout_s: float,
    memory_mb: int,
) -> dict[str, object]:
    """A comparable description of everything fault-like on one function version; the
    sandbox records a `fault` truth event for each key whose value changes."""
    ext = chaos_extension(env, layer_arns)
    return {
        "chaos_latency": None
        if ext is None or ext.latency_s is None
        else {"seconds": ext.latency_s, "probability": ext.latency_p},
        "chaos_response": None
        if ext is None or ext.response_body is None
        else {"body": ext.response_body, "probability": ext.response_p},
        "failure_lambda": [f.mode for f in failure_flags] or None,
        "reserved_concurrency": reserved_concurrency,
        "timeout": timeout_s,
        "memory": memory_mb,
    }
