"""Which backend delivers a Lambda fault: `fis`, `extension` (chaos-lambda-extension) or
`failure-lambda`.

Precedence, most specific first: `gameday chaos NAME --backend B` (configuration key
`gameday_backend_override`), the experiment's own configuration (`gameday_backend`), the
target file (`chaos_backend`), then the fault's default (failure-lambda for exception,
latency, statuscode and timeout; the extension for error_body).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...config import BACKENDS, Backend, Target
from ...exceptions import ConfigError

__all__ = ["resolve_backend"]


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
