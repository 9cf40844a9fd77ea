"""The `application/health+json` contract (IETF draft-inadarei-api-health-check), checked.

- `status` is required and is one of pass | warn | fail (the draft also allows the aliases
  ok/up → pass and error/down → fail; they are accepted and normalised);
- pass and warn must be served with 2xx-3xx, fail with 4xx-5xx: a `fail` body with HTTP 200
  is a violation (a load balancer would keep routing to a broken service);
- `checks`, when present, maps `component:measurement` keys to arrays of objects whose keys
  are among componentId, componentType, observedValue, observedUnit, status,
  affectedEndpoints, time, output, links, with the types the draft gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .definitions import ObservedLimit

__all__ = ["HealthReport", "HealthStatus", "check_health", "check_observed"]

HealthStatus = Literal["pass", "warn", "fail"]
_ALIASES: dict[str, HealthStatus] = {
    "pass": "pass",
    "ok": "pass",
    "up": "pass",
    "warn": "warn",
    "fail": "fail",
    "error": "fail",
    "down": "fail",
}
_CHECK_KEYS: dict[str, tuple[type, ...]] = {
    "componentId": (str,),
    "componentType": (str,),
    "observedValue": (int, float, str, bool, dict, list),
    "observedUnit": (str,),
    "status": (str,),
    "affectedEndpoints": (list,),
    "time": (str,),
    "output": (str,),
    "links": (dict,),
}


@dataclass(frozen=True)
class HealthReport:
    """What the contract check found: the normalised status and any violations."""

    status: HealthStatus | None
    violations: tuple[str, ...]
    failing_checks: tuple[str, ...] = ()


def _check_entry(key: str, index: int, entry: object, problems: list[str]) -> str | None:
    where = f"checks[{key!r}][{index}]"
    if not isinstance(entry, dict):
        problems.append(f"{where} is {type(entry).__name__}, not an object")
        return None
    for name, value in entry.items():
        allowed = _CHECK_KEYS.get(name)
        if allowed is None:
            problems.append(f"{where} has unknown key {name!r}")
        elif value is not None and not isinstance(value, allowed):
            problems.append(f"{where}.{name} has type {type(value).__name__}")
    status = entry.get("status")
    if status is not None and (not isinstance(status, str) or status.lower() not in _ALIASES):
        problems.append(f"{where}.status is {status!r}, not pass/warn/fail")
        return None
    time_value = entry.get("time")
    if isinstance(time_value, str):
        try:
            datetime.fromisoformat(time_value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}.time {time_value!r} is not an ISO 8601 date-time")
    return _ALIASES[status.lower()] if isinstance(status, str) else None


def check_health(status_code: int, body: object) -> HealthReport:
    """Validate a parsed health body against the contract and the HTTP status code."""
    if not isinstance(body, dict):
        return HealthReport(None, (f"health body is {type(body).__name__}, not a JSON object",))
    problems: list[str] = []
    raw = body.get("status")
    status: HealthStatus | None = None
    if not isinstance(raw, str) or raw.lower() not in _ALIASES:
        problems.append(f"health status {raw!r} is not pass/warn/fail")
    else:
        status = _ALIASES[raw.lower()]
        healthy_code = 200 <= status_code < 400
        if status in ("pass", "warn") and not healthy_code:
            problems.append(
                f"health status {raw!r} with HTTP {status_code} (pass/warn need 2xx-3xx)"
            )
        if status == "fail" and healthy_code:
            problems.append(f"health status 'fail' with HTTP {status_code} (fail needs 4xx-5xx)")
    failing: list[str] = []
    checks = body.get("checks")
    if checks is not None:
        if not isinstance(checks, dict):
            problems.append(f"checks is {type(checks).__name__}, not an object")
        else:
            for key, entries in checks.items():
                if not key:
                    problems.append("checks has an empty key")
                if not isinstance(entries, list):
                    problems.append(f"checks[{key!r}] is {type(entries).__name__}, not an array")
                    continue
                for i, entry in enumerate(entries):
                    if _check_entry(key, i, entry, problems) == "fail":
                        failing.append(key)
    return HealthReport(status, tuple(problems), tuple(dict.fromkeys(failing)))


def check_observed(body: object, limits: tuple[ObservedLimit, ...]) -> list[str]:
    """Violations of per-check observedValue limits (every entry of the check is tested)."""
    problems: list[str] = []
    checks = body.get("checks") if isinstance(body, Mapping) else None
    for limit in limits:
        entries = checks.get(limit.check) if isinstance(checks, Mapping) else None
        if not isinstance(entries, list) or not entries:
            if limit.required:
                problems.append(f"health check {limit.check!r} is missing")
            continue
        for i, entry in enumerate(entries):
            value = entry.get("observedValue") if isinstance(entry, Mapping) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{limit.check}[{i}].observedValue {value!r} is not a number")
                continue
            unit = entry.get("observedUnit", "") if isinstance(entry, Mapping) else ""
            if limit.maximum is not None and value > limit.maximum:
                problems.append(
                    f"{limit.check}[{i}].observedValue {value:g}{unit} above max {limit.maximum:g}"
                )
            if limit.minimum is not None and value < limit.minimum:
                problems.append(
                    f"{limit.check}[{i}].observedValue {value:g}{unit} below min {limit.minimum:g}"
                )
    return problems
