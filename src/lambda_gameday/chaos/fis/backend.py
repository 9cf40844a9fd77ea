"""Which backend delivers a Lambda fault: `fis`, `extension` (chaos-lambda-extension) or
`failure-lambda`.

Precedence, most specific first: `gameday chaos NAME --backend B` (configuration key
`gameday_backend_override`), the experiment's own configuration (`gameday_backend`), the
target file (`chaos_backend`), then the fault's default (failure-lambda for exception,
latency, statuscode and timeout; the extension for error_body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ...config import BACKENDS, Backend, Target
from ...exceptions import ConfigError

__all__ = ["extension_fault_env", "resolve_backend"]


def _named(value: object, where: str) -> Backend | None:
    if value is None or value == "":
        return None
    if value not in BACKENDS:
        raise ConfigError(f"{where} = {value!r} is invalid; expected one of {', '.join(BACKENDS)}")
    return value


def resolve_backend(
    configuration: Mapping[str, object] | None,
    target: Target,
    default: Backend,
    argument: str | None = None,
) -> Backend:
    conf = configuration or {}
    return (
        _named(conf.get("gameday_backend_override"), "--backend")
        or _named(argument, "argument backend")
        or _named(conf.get("gameday_backend"), "configuration gameday_backend")
        or target.chaos_backend
        or default
    )


def extension_fault_env(
    fault: str, percentage: int, latency_ms: int, status_code: int, timeout_s: int
) -> dict[str, str]:
    """The chaos-lambda-extension variables that reproduce a canary fault (backend
    `extension`, github.com/aws-samples/chaos-lambda-extension): latency before the handler,
    or a replaced response body. It cannot raise a function error, so `exception` becomes
    an API-level 502 that Lambda's Errors metric does not count — that backend's limit."""
    base = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap", "CHAOSTOOLKIT_EXPERIMENT": "true"}
    p = f"{percentage / 100:g}"
    if fault in ("latency", "timeout"):
        seconds = latency_ms / 1000 if fault == "latency" else timeout_s + 1
        return base | {
            "CHAOS_EXTENSION__LAMBDA__ENABLE_LATENCY": "true",
            "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": f"{seconds:g}",
            "CHAOS_EXTENSION__LAMBDA__LATENCY_PROBABILITY": p,
        }
    if fault in ("exception", "statuscode"):
        code = status_code if fault == "statuscode" else 502
        body = json.dumps({"statusCode": code, "body": "chaos"})
        return base | {
            "CHAOS_EXTENSION__RESPONSE__ENABLE_CHANGE_RESPONSE_BODY": "true",
            "CHAOS_EXTENSION__RESPONSE__DEFAULT_RESPONSE": body,
            "CHAOS_EXTENSION__RESPONSE__CHANGE_RESPONSE_PROBABILITY": p,
        }
    raise ConfigError(f"fault {fault!r} has no chaos-lambda-extension form (backend extension)")
