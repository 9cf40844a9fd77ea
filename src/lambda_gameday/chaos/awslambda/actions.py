"""Lambda faults that reach real traffic, each written to the ledger before it is made.

AWS applies configuration changes to `$LATEST` only; an alias serves published versions.
So a fault put into `$LATEST` reaches users only once a version is published and the
alias shifted to it: `deploy_canary` does exactly that (the canary path). Faults that act
on every version (reserved concurrency) need no publish.
"""

from __future__ import annotations

import json
import time
from typing import Literal, NotRequired, TypedDict

from ...aws import aws_errors
from ...config import Backend
from ...exceptions import ConfigError, GamedayError
from ..failure_lambda import canary_parameter
from ..faults import FaultResult, Scope, fault_result, inject, scope, undo_faults
from ..ledger import UndoStep
from .layers import chaos_layer_for, with_layer
from .release import (
    Arch,
    CanaryRoute,
    ShippedCanary,
    alias_state,
    config_before,
    config_step,
    latest_published,
    publish_changed,
    restore_alias_step,
    ship_canary,
    update_latest,
)

__all__ = [
    "CanaryResult",
    "RollbackResult",
    "deploy_canary",
    "inject_error",
    "inject_latency",
    "manual_rollback",
    "remove_faults",
    "restore_alias",
    "restore_concurrency",
    "throttle",
]

CanaryFault = Literal["exception", "latency", "statuscode", "timeout", "error_body", "none"]
Via = Literal["alias", "codedeploy"]


class CanaryResult(TypedDict):
    ledger_id: str
    function: str
    alias: str
    stable_version: str
    canary_version: str
    weight: float
    fault: str
    deployment_id: str | None
    injected_at: float
    backend: NotRequired[str]  # how the fault was delivered (chaos/fis/backend.py)
    fis_experiment_id: NotRequired[str]
    fault_requested_at: NotRequired[float]  # FIS: the action started (AWS's clock)
    ramp_up_bound_s: NotRequired[float]  # FIS: how long the fault may take to show


class RollbackResult(TypedDict):
    function: str
    alias: str
    from_version: str
    to_version: str
    expected_version: str | None
    started_at: float
    finished_at: float
    duration_s: float
    matches_previous: bool


def _extension_layers(
    sc: Scope, function: str, layers: list[str], arch: Arch, layer: str | None
) -> list[str]:
    """The function's layers plus the target Region's chaos-lambda-extension layer."""
    chosen = chaos_layer_for(sc.target.region, arch, layer or sc.target.chaos_layer)
    return with_layer(function, layers, chosen)


def _extension_env(
    kind: Literal["latency", "error_body"], value: str, probability: float
) -> dict[str, str]:
    if not 0.0 <= probability <= 1.0:
        raise ConfigError(f"probability {probability} is invalid; expected 0.0 to 1.0")
    base = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap", "CHAOSTOOLKIT_EXPERIMENT": "true"}
    if kind == "latency":
        return base | {
            "CHAOS_EXTENSION__LAMBDA__ENABLE_LATENCY": "true",
            "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": value,
            "CHAOS_EXTENSION__LAMBDA__LATENCY_PROBABILITY": f"{probability}",
        }
    return base | {
        "CHAOS_EXTENSION__RESPONSE__ENABLE_CHANGE_RESPONSE_BODY": "true",
        "CHAOS_EXTENSION__RESPONSE__DEFAULT_RESPONSE": value,
        "CHAOS_EXTENSION__RESPONSE__CHANGE_RESPONSE_PROBABILITY": f"{probability}",
    }


def _inject_extension_fault(
    sc: Scope, function: str, extension_env: dict[str, str], layer: str | None, description: str
) -> FaultResult:
    """Add `extension_env` to `$LATEST`'s environment and the target Region's extension
    layer to its layers, as one ledger entry whose undo restores only what it changed."""
    before, arch = config_before(sc, function)
    new_env = before[0] | extension_env
    new_layers = _extension_layers(sc, function, before[1], arch, layer)
    undo = config_step(function, before, new_env, new_layers, None)
    entry, _, at = inject(
        sc,
        "env",
        function,
        description,
        [undo],
        lambda: update_latest(sc, function, new_env, new_layers, None),
    )
    return fault_result(entry, at)


def inject_latency(
    function_name: str,
    latency_s: int = 1,
    probability: float = 1.0,
    layer: str | None = None,
    configuration: dict[str, object] | None = None,
) -> FaultResult:
    """Add latency to `$LATEST` through the chaos-lambda-extension variables and the target
    Region's extension layer (appended to the function's own), as chaostoolkit-aws
    `add_latency` does — except that it keeps the function's layers. Reaches users only once
    published and routed (see `deploy_canary`). Undo: `remove_faults`."""
    return _inject_extension_fault(
        scope(configuration),
        function_name,
        _extension_env("latency", str(int(latency_s)), probability),
        layer,
        f"latency {latency_s}s p={probability} on {function_name}:$LATEST",
    )


def inject_error(
    function_name: str,
    body: str = '{"statusCode": 500, "body": "chaos"}',
    probability: float = 1.0,
    layer: str | None = None,
    configuration: dict[str, object] | None = None,
) -> FaultResult:
    """Swap successful response bodies on `$LATEST` (chaos-lambda-extension, the target
    Region's layer appended to the function's own), as chaostoolkit-aws `add_error` does.
    Note: Lambda's Errors metric does not move; only API-level 5xx do. Undo: `remove_faults`."""
    return _inject_extension_fault(
        scope(configuration),
        function_name,
        _extension_env("error_body", body, probability),
        layer,
        f"response body swap p={probability} on {function_name}:$LATEST",
    )


def _failure_param_value(fault: CanaryFault, percentage: int, latency_ms: int, status: int) -> str:
    modes: dict[str, dict[str, object]] = {}
    if fault == "exception":
        modes["exception"] = {
            "enabled": True,
            "percentage": percentage,
            "exception_msg": "gameday: injected exception",
        }
    elif fault == "latency":
        modes["latency"] = {
            "enabled": True,
            "percentage": percentage,
            "min_latency": latency_ms,
            "max_latency": latency_ms,
        }
    elif fault == "statuscode":
        modes["statuscode"] = {"enabled": True, "percentage": percentage, "status_code": status}
    elif fault == "timeout":
        modes["timeout"] = {"enabled": True, "percentage": percentage, "timeout_buffer_ms": 0}
    return json.dumps(modes)


def deploy_canary(
    function_name: str,
    alias: str = "production",
    fault: CanaryFault = "exception",
    weight: float = 0.1,
    percentage: int = 100,
    latency_ms: int = 2000,
    status_code: int = 502,
    timeout_s: int | None = None,
    via: Via = "alias",
    application: str | None = None,
    deployment_group: str | None = None,
    deployment_config: str | None = None,
    backend: str | None = None,
    configuration: dict[str, object] | None = None,
) -> CanaryResult:
    """Ship a faulty version the way a bad release ships: put the fault into `$LATEST`,
    wait for LastUpdateStatus, publish a version, then either weight it into the alias
    (`via="alias"`) or start a CodeDeploy deployment with an AppSpec (`via="codedeploy"`,
    the deployment group's alarms and auto-rollback then decide its fate).

    Faults: `exception` / `latency` / `statuscode` / `timeout` through a failure-lambda
    SSM parameter that only the new version reads (`FAILURE_INJECTION_PARAM`),
    `error_body` through the chaos-lambda-extension, `none` for a healthy release.
    `timeout_s` also shrinks the function timeout in the new version (timeout regression).
    `backend` (or --backend, the experiment's `gameday_backend`, the target's
    `chaos_backend`) = "fis" delivers the same fault through an AWS FIS experiment on the
    new version instead (chaos/fis/canary.py).
    Undo (`restore_alias` / `remove_faults`): alias back to its previous version and
    weights, `$LATEST` configuration restored, the parameter deleted.
    """
    if not 0.0 < weight <= 1.0:
        raise ConfigError(f"weight {weight} is invalid; expected more than 0.0 and at most 1.0")
    if via == "codedeploy" and not (application and deployment_group):
        raise ConfigError("via codedeploy needs application and deployment_group")
    sc = scope(configuration)
    route = CanaryRoute(
        function_name, alias, weight, via, application, deployment_group, deployment_config
    )
    from ..fis.backend import resolve_backend

    default: Backend = "extension" if fault == "error_body" else "failure-lambda"
    resolved = resolve_backend(configuration, sc.target, default, backend)
    if fault != "none" and resolved == "fis":
        from ..fis.canary import deploy_fis_canary

        done = deploy_fis_canary(sc, route, fault, percentage, latency_ms, status_code, timeout_s)
        result = _canary_result(route, fault, done.stable_version, done.shipped, "fis")
        result["fis_experiment_id"] = done.fis_experiment_id
        result["fault_requested_at"] = done.fault_requested_at
        result["ramp_up_bound_s"] = done.ramp_up_bound_s
        return result
    stable, weights = alias_state(sc, function_name, alias)
    before, arch = config_before(sc, function_name)
    env, layers, timeout0 = before
    published = latest_published(sc, function_name)
    param = canary_parameter(function_name)
    new_env = dict(env)
    new_layers = list(layers)
    undo: list[UndoStep] = []
    via_param = fault in ("exception", "latency", "statuscode", "timeout") and (
        resolved == "failure-lambda"
    )
    if via_param:
        with aws_errors(f"reading parameter {param}"):
            try:
                old = sc.clients.ssm().get_parameter(Name=param)["Parameter"].get("Value")
            except sc.clients.ssm().exceptions.ParameterNotFound:
                old = None
        undo.append(
            {
                "op": "restore_parameter",
                "parameter": param,
                "value": old,
                "after_value": _failure_param_value(fault, percentage, latency_ms, status_code),
            }
        )
        new_env |= {"FAILURE_INJECTION_PARAM": param}
    elif fault == "error_body":
        new_env |= _extension_env(
            "error_body", '{"statusCode": 502, "body": "chaos"}', percentage / 100
        )
        new_layers = _extension_layers(sc, function_name, layers, arch, None)
    elif fault != "none":  # backend "extension": the chaos-lambda-extension delivers it
        from ..fis.backend import extension_fault_env

        new_env |= extension_fault_env(
            fault, percentage, latency_ms, status_code, timeout_s or timeout0
        )
        new_layers = _extension_layers(sc, function_name, layers, arch, None)
    undo.append(restore_alias_step(route, stable, weights, published))
    undo.append(config_step(function_name, before, new_env, new_layers, timeout_s))

    def publish() -> str:
        if via_param:
            with aws_errors(f"writing parameter {param}"):
                sc.clients.ssm().put_parameter(
                    Name=param,
                    Value=_failure_param_value(fault, percentage, latency_ms, status_code),
                    Type="String",
                    Overwrite=True,
                )
        return publish_changed(
            sc, function_name, before, new_env, new_layers, timeout_s, f"gameday canary ({fault})"
        )

    shipped = ship_canary(sc, route, stable, route.describe(fault), undo, publish)
    return _canary_result(route, fault, stable, shipped, resolved if fault != "none" else "none")


def _canary_result(
    route: CanaryRoute, fault: str, stable: str, shipped: ShippedCanary, backend: str
) -> CanaryResult:
    return CanaryResult(
        ledger_id=shipped.ledger_id,
        function=route.function,
        alias=route.alias,
        stable_version=stable,
        canary_version=shipped.version,
        weight=route.weight,
        fault=fault,
        deployment_id=shipped.deployment,
        injected_at=shipped.injected_at,
        backend=backend,
    )


def throttle(
    function_name: str,
    reserved: int = 0,
    configuration: dict[str, object] | None = None,
) -> FaultResult:
    """Set reserved concurrency (0 throttles every version: API Gateway answers 500).
    Undo: `restore_concurrency`."""
    sc = scope(configuration)
    lam = sc.clients.lambda_()
    with aws_errors(f"reading {function_name}'s concurrency"):
        prev = lam.get_function_concurrency(FunctionName=function_name).get(
            "ReservedConcurrentExecutions"
        )
    entry, _, at = inject(
        sc,
        "concurrency",
        function_name,
        f"reserved concurrency {reserved} on {function_name}",
        [
            {
                "op": "restore_concurrency",
                "function": function_name,
                "reserved": prev,
                "after_reserved": reserved,
            }
        ],
        lambda: lam.put_function_concurrency(
            FunctionName=function_name, ReservedConcurrentExecutions=reserved
        ),
    )
    return fault_result(entry, at)


def remove_faults(
    function_name: str | None = None,
    configuration: dict[str, object] | None = None,
) -> list[str]:
    """Rollback: undo every fault this run recorded (for one function, or all), newest
    first, with the values the ledger saw before each change."""
    sc = scope(configuration)
    if function_name is None:
        return undo_faults(sc)
    done = []
    for entry in sc.ledger.open_entries(run_id=sc.ledger.run_id):
        if entry.resource == function_name or entry.resource.startswith(function_name + ":"):
            done += undo_faults(sc, resource=entry.resource)
    return done


def restore_alias(
    function_name: str,
    alias: str = "production",
    configuration: dict[str, object] | None = None,
) -> list[str]:
    """Rollback: put the alias back on the version and weights it had before this run's
    canary (no-op when an automatic rollback already did)."""
    sc = scope(configuration)
    return undo_faults(sc, resource=f"{function_name}:{alias}")


def restore_concurrency(
    function_name: str,
    configuration: dict[str, object] | None = None,
) -> list[str]:
    """Rollback: restore the reserved concurrency seen before `throttle`."""
    sc = scope(configuration)
    return undo_faults(sc, kind="concurrency", resource=function_name)


def manual_rollback(
    function_name: str,
    alias: str = "production",
    configuration: dict[str, object] | None = None,
) -> RollbackResult:
    """The seed's manual rollback procedure, timed: take the previous version
    (`list-versions-by-function ... Versions[-2]`) and `update-alias` to it. Reports
    whether that is the version the alias served before this run's canary — the seed's
    query picks the wrong one when more than one version was published since."""
    sc = scope(configuration)
    lam = sc.clients.lambda_()
    started = time.time()
    sc.run.check_abort()
    with aws_errors(f"listing versions of {function_name}"):
        versions: list[str] = []
        for page in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=function_name
        ):
            versions += [v["Version"] for v in page["Versions"]]
    if len(versions) < 2:
        raise GamedayError(f"{function_name}: no previous version to roll back to")
    previous = versions[-2]
    current, current_weights = alias_state(sc, function_name, alias)
    expected = None
    for entry in sc.ledger.open_entries(
        run_id=sc.ledger.run_id, resource=f"{function_name}:{alias}"
    ):
        for step in entry.undo:
            if step["op"] == "restore_alias":
                expected = step["version"]
    # A change the harness makes, so ledgered first. Its undo returns the alias to where it
    # was before the run (the canary's undo target, if any), never back to the canary.
    origin = expected or current
    origin_weights = {} if expected else current_weights

    def roll_back() -> None:
        with aws_errors(f"updating alias {function_name}:{alias}"):
            lam.update_alias(
                FunctionName=function_name,
                Name=alias,
                FunctionVersion=previous,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )

    inject(
        sc,
        "alias",
        f"{function_name}:{alias}",
        f"manual rollback of {function_name}:{alias} to version {previous}",
        [
            {
                "op": "restore_alias",
                "function": function_name,
                "alias": alias,
                "version": origin,
                "weights": origin_weights,
                "after_version": previous,
                "after_weights": {},
            }
        ],
        roll_back,
    )
    finished = time.time()
    return RollbackResult(
        function=function_name,
        alias=alias,
        from_version=current,
        to_version=previous,
        expected_version=expected,
        started_at=started,
        finished_at=finished,
        duration_s=finished - started,
        matches_previous=expected in (None, previous),
    )
