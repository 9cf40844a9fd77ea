"""Dependency faults. The sandbox's database and Redis (and its S3 bucket) are controlled
by an SSM parameter `/gameday-sandbox/dependencies/<name>` holding
`{"state": "up"|"down", "latency_ms": N}`; each change is ledgered first."""

from __future__ import annotations

import json

from ...aws import aws_errors
from ...exceptions import ResourceNotFound
from ..faults import FaultResult, fault_result, inject, scope, undo_faults

__all__ = ["PARAMETER_PREFIX", "dependency_down", "dependency_slow", "dependency_up"]

PARAMETER_PREFIX = "/gameday-sandbox/dependencies/"


def _set(
    dependency: str, value: dict[str, object], what: str, configuration: dict[str, object] | None
) -> FaultResult:
    sc = scope(configuration)
    name = PARAMETER_PREFIX + dependency
    ssm = sc.clients.ssm()
    with aws_errors(f"reading dependency {dependency}"):
        try:
            old = ssm.get_parameter(Name=name)["Parameter"].get("Value")
        except ssm.exceptions.ParameterNotFound:
            raise ResourceNotFound(
                f"dependency {dependency!r} is not known to the target"
            ) from None
    entry, _, at = inject(
        sc,
        "dependency",
        dependency,
        f"dependency {dependency} {what}",
        [{"op": "restore_parameter", "parameter": name, "value": old}],
        lambda: ssm.put_parameter(
            Name=name, Value=json.dumps(value), Type="String", Overwrite=True
        ),
    )
    return fault_result(entry, at)


def dependency_down(dependency: str, configuration: dict[str, object] | None = None) -> FaultResult:
    """Take a sandbox dependency (database, redis, s3) down. Undo: `dependency_up`."""
    return _set(dependency, {"state": "down", "latency_ms": 0}, "down", configuration)


def dependency_slow(
    dependency: str, latency_ms: float = 500.0, configuration: dict[str, object] | None = None
) -> FaultResult:
    """Delay every reply of a sandbox dependency. Undo: `dependency_up`."""
    return _set(
        dependency,
        {"state": "up", "latency_ms": latency_ms},
        f"slowed by {latency_ms:g} ms",
        configuration,
    )


def dependency_up(dependency: str, configuration: dict[str, object] | None = None) -> list[str]:
    """Rollback: restore the dependency's parameter to what it was before this run."""
    return undo_faults(scope(configuration), kind="dependency", resource=dependency)
