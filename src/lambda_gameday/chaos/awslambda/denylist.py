"""Dependency faults that work on AWS: failure-lambda's `denylist` mode.

A dependency outage, as a function sees it, is its connections to the dependency's host
failing. failure-lambda's `denylist` mode does exactly that for the hosts matching its
patterns (it fails the DNS lookup), per invocation, for every version of the function that
reads the parameter — which is the function's own `FAILURE_INJECTION_PARAM`. The host comes
from the function's configuration (e.g. the `DATABASE_HOST` it connects to), never from a
guess. failure-lambda caches its parameter for 60 s, so on AWS the fault reaches traffic up
to a minute after it is written (and leaves as late).

The parameter's previous value is ledgered first; `allow_hosts` (or cleanup) writes it
back. The other modes the team's parameter holds are kept as they were.
"""

from __future__ import annotations

import json
import re

from ...aws import aws_errors
from ...exceptions import TargetError
from ..faults import FaultResult, Scope, fault_result, inject, scope, undo_faults
from ..ledger import UndoStep

__all__ = ["allow_hosts", "deny_hosts"]


def _resource(dependency: str) -> str:
    return f"denylist:{dependency}"


def _function_env(sc: Scope, function: str) -> dict[str, str]:
    with aws_errors(f"reading {function}'s configuration"):
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    return dict(cfg.get("Environment", {}).get("Variables", {}))


def deny_hosts(
    dependency: str,
    function_names: list[str],
    host_env: str | None = None,
    hosts: list[str] | None = None,
    percentage: int = 100,
    configuration: dict[str, object] | None = None,
) -> FaultResult:
    """Cut `dependency` off from each function: failure-lambda denylist on the host the
    function's environment variable `host_env` names (e.g. DATABASE_HOST) and/or the
    `hosts` given. Undo: `allow_hosts(dependency)`."""
    if not 0 <= percentage <= 100:
        raise TargetError(f"percentage {percentage} is invalid; expected 0 to 100")
    sc = scope(configuration)
    ssm = sc.clients.ssm()
    undo: list[UndoStep] = []
    writes: list[tuple[str, str]] = []
    for fn in function_names:
        env = _function_env(sc, fn)
        param = env.get("FAILURE_INJECTION_PARAM")
        if not param:
            raise TargetError(
                f"{fn} is not set up for failure-lambda (no FAILURE_INJECTION_PARAM in its"
                " environment): wrap its handler with failure-lambda to cut its dependencies"
            )
        targets = list(hosts or [])
        if host_env is not None:
            if not env.get(host_env):
                raise TargetError(f"{fn}'s environment has no {host_env}: which host is it?")
            targets.append(env[host_env])
        if not targets:
            raise TargetError(f"deny_hosts on {fn}: no host given (host_env or hosts)")
        with aws_errors(f"reading parameter {param}"):
            try:
                old: str | None = ssm.get_parameter(Name=param)["Parameter"].get("Value")
            except ssm.exceptions.ParameterNotFound:
                old = None
        try:
            modes = json.loads(old) if old else {}
        except ValueError:
            modes = {}
        if not isinstance(modes, dict):
            modes = {}
        modes["denylist"] = {
            "enabled": True,
            "percentage": percentage,
            "deny_list": [f"^{re.escape(h)}$" for h in targets],
        }
        undo.append({"op": "restore_parameter", "parameter": param, "value": old})
        writes.append((param, json.dumps(modes)))

    def write() -> None:
        for param, value in writes:
            with aws_errors(f"writing parameter {param}"):
                ssm.put_parameter(Name=param, Value=value, Type="String", Overwrite=True)

    entry, _, at = inject(
        sc,
        "dependency",
        _resource(dependency),
        f"{dependency} denied to {', '.join(function_names)} (failure-lambda denylist)",
        undo,
        write,
    )
    return fault_result(entry, at)


def allow_hosts(dependency: str, configuration: dict[str, object] | None = None) -> list[str]:
    """Rollback: the functions' failure-lambda parameters back to what they were."""
    return undo_faults(scope(configuration), kind="dependency", resource=_resource(dependency))
