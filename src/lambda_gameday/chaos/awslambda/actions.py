"""Lambda faults that reach real traffic, each written to the ledger before it is made.

AWS applies configuration changes to `$LATEST` only; an alias serves published versions.
So a fault put into `$LATEST` reaches users only once a version is published and the
alias shifted to it: `deploy_canary` does exactly that (the canary path). Faults that act
on every version (reserved concurrency) need no publish.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal, NotRequired, TypedDict

from ...aws import Throttled, aws_errors
from ...config import Backend
from ...exceptions import ConfigError, GamedayError
from ..failure_lambda import canary_parameter
from ..faults import FaultResult, Scope, fault_result, inject, scope, undo_faults
from ..ledger import UndoStep
from ..undo import config_change, wait_function_updated
from .layers import chaos_layer_for, with_layer

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


Arch = Literal["x86_64", "arm64"]


def _config_undo(sc: Scope, function: str) -> tuple[tuple[dict[str, str], list[str], int], Arch]:
    """The configuration a fault is about to change (environment, layers, timeout), and the
    function's architecture (which extension layer fits it)."""
    with aws_errors(f"reading {function}'s configuration"):
        # GetFunction: its own 100/s quota, not the 15/s control plane (same configuration)
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    env = dict(cfg.get("Environment", {}).get("Variables", {}))
    layers = [layer["Arn"] for layer in cfg.get("Layers", [])]
    arch: Arch = "arm64" if "arm64" in (cfg.get("Architectures") or []) else "x86_64"
    return (env, layers, int(cfg.get("Timeout", 3))), arch


def _config_step(
    function: str,
    before: tuple[dict[str, str], list[str], int],
    env: dict[str, str],
    layers: list[str],
    timeout: int | None,
) -> UndoStep:
    """The undo of a $LATEST change: only the keys it changes (see undo.config_change)."""
    env0, layers0, timeout0 = before
    return config_change(function, env0, env, layers0, layers, timeout0, timeout)


def _latest_published(sc: Scope, function: str) -> str:
    """The highest version number published so far ("0": none)."""
    highest = 0
    with aws_errors(f"listing versions of {function}"):
        for page in (
            sc.clients.lambda_()
            .get_paginator("list_versions_by_function")
            .paginate(FunctionName=function)
        ):
            highest = max(
                [highest, *(int(v["Version"]) for v in page["Versions"] if v["Version"].isdigit())]
            )
    return str(highest)


def _extension_layers(
    sc: Scope, function: str, layers: list[str], arch: Arch, layer: str | None
) -> list[str]:
    """The function's layers plus the target Region's chaos-lambda-extension layer."""
    chosen = chaos_layer_for(sc.target.region, arch, layer or sc.target.chaos_layer)
    return with_layer(function, layers, chosen)


def _route_canary(
    sc: Scope,
    function_name: str,
    alias: str,
    stable: str,
    version: str,
    weight: float,
    via: str,
    application: str | None,
    deployment_group: str | None,
    deployment_config: str | None,
) -> str | None:
    """Send `weight` of the alias's traffic to `version`: by shifting the alias itself
    (`via="alias"`), or through a CodeDeploy deployment (its id is returned)."""
    if via != "alias":
        from ..codedeploy.actions import create_lambda_deployment

        return create_lambda_deployment(
            sc,
            application or "",
            deployment_group or "",
            function_name,
            alias,
            stable,
            version,
            deployment_config,
        )
    resource = f"{function_name}:{alias}"
    lam = sc.clients.lambda_()
    with aws_errors(f"shifting alias {resource}"):
        if weight < 1.0:
            lam.update_alias(
                FunctionName=function_name,
                Name=alias,
                FunctionVersion=stable,
                RoutingConfig={"AdditionalVersionWeights": {version: weight}},
            )
        else:
            lam.update_alias(
                FunctionName=function_name,
                Name=alias,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
    return None


def _alias_state(sc: Scope, function: str, alias: str) -> tuple[str, dict[str, float]]:
    with aws_errors(f"reading alias {function}:{alias}"):
        got = sc.clients.lambda_().get_alias(FunctionName=function, Name=alias)
    weights = dict(got.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
    return got["FunctionVersion"], {k: float(v) for k, v in weights.items()}


def _update_latest(
    sc: Scope, function: str, env: dict[str, str], layers: list[str], timeout: int | None
) -> None:
    lam = sc.clients.lambda_()
    with aws_errors(f"changing {function}'s $LATEST configuration"):
        wait_function_updated(sc.clients, function)
        if timeout is not None:
            lam.update_function_configuration(
                FunctionName=function,
                Environment={"Variables": env},
                Layers=layers,
                Timeout=timeout,
            )
        else:
            lam.update_function_configuration(
                FunctionName=function, Environment={"Variables": env}, Layers=layers
            )
        wait_function_updated(sc.clients, function)


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
    sc = scope(configuration)
    before, arch = _config_undo(sc, function_name)
    new_env = before[0] | _extension_env("latency", str(int(latency_s)), probability)
    new_layers = _extension_layers(sc, function_name, before[1], arch, layer)
    undo = _config_step(function_name, before, new_env, new_layers, None)
    entry, _, at = inject(
        sc,
        "env",
        function_name,
        f"latency {latency_s}s p={probability} on {function_name}:$LATEST",
        [undo],
        lambda: _update_latest(sc, function_name, new_env, new_layers, None),
    )
    return fault_result(entry, at)


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
    sc = scope(configuration)
    before, arch = _config_undo(sc, function_name)
    new_env = before[0] | _extension_env("error_body", body, probability)
    new_layers = _extension_layers(sc, function_name, before[1], arch, layer)
    undo = _config_step(function_name, before, new_env, new_layers, None)
    entry, _, at = inject(
        sc,
        "env",
        function_name,
        f"response body swap p={probability} on {function_name}:$LATEST",
        [undo],
        lambda: _update_latest(sc, function_name, new_env, new_layers, None),
    )
    return fault_result(entry, at)


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


def _wait_alias_routes(
    sc: Scope,
    function: str,
    alias: str,
    version: str,
    timeout_s: float,
    deployment: str | None = None,
) -> float:
    """The instant (to within one poll: 50 ms on the sandbox, paced inside the Lambda
    control-plane quota) the alias first routes to `version`. Fails at once when the
    deployment meant to shift it ends without doing so. A throttled read is "not yet"."""
    deadline = time.monotonic() + timeout_s
    pause = sc.clients.poll_interval(0.05)
    while True:
        sc.run.check_abort()
        try:
            current, weights = _alias_state(sc, function, alias)
            if current == version or weights.get(version, 0.0) > 0:
                return time.time()
            info: dict[str, Any] = {}
            if deployment is not None:
                with aws_errors(f"reading deployment {deployment}"):
                    info = dict(
                        sc.clients.codedeploy().get_deployment(deploymentId=deployment)[
                            "deploymentInfo"
                        ]
                    )
        except Throttled:
            info = {}
        if info and info.get("status") in ("Failed", "Stopped", "Succeeded"):
            err = info.get("errorInformation", {})
            raise GamedayError(
                f"deployment {deployment} ended {info.get('status')} before routing any"
                f" traffic to version {version}"
                + (f" ({err.get('code')}: {err.get('message')})" if err else "")
            )
        if time.monotonic() > deadline:
            raise GamedayError(
                f"alias {function}:{alias} did not route to version {version} within {timeout_s:g}s"
            )
        time.sleep(pause)


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
    from ..fis.backend import resolve_backend

    default: Backend = "extension" if fault == "error_body" else "failure-lambda"
    resolved = resolve_backend(configuration, sc.target, default, backend)
    if fault != "none" and resolved == "fis":
        from ..fis.canary import CanaryHelpers, deploy_fis_canary

        helpers = CanaryHelpers(
            _alias_state, lambda sc, fn: _config_undo(sc, fn)[0], _config_step,
            _latest_published, _update_latest, _wait_alias_routes, _route_canary,
        )  # fmt: skip
        done = deploy_fis_canary(
            sc, function_name, alias, fault, weight, percentage, latency_ms, status_code,
            timeout_s, via, application, deployment_group, deployment_config, helpers,
        )  # fmt: skip
        return CanaryResult(
            ledger_id=done.ledger_id,
            function=function_name,
            alias=alias,
            stable_version=done.stable_version,
            canary_version=done.canary_version,
            weight=weight,
            fault=fault,
            deployment_id=done.deployment_id,
            injected_at=done.injected_at,
            backend="fis",
            fis_experiment_id=done.fis_experiment_id,
            fault_requested_at=done.fault_requested_at,
            ramp_up_bound_s=done.ramp_up_bound_s,
        )
    lam = sc.clients.lambda_()
    stable, weights = _alias_state(sc, function_name, alias)
    before, arch = _config_undo(sc, function_name)
    env, layers, timeout0 = before
    published = _latest_published(sc, function_name)
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
    undo.append(
        {
            "op": "restore_alias",
            "function": function_name,
            "alias": alias,
            "version": stable,
            "weights": weights,
            # the canary is the first version published after these
            "published_above": published,
        }
    )
    undo.append(_config_step(function_name, before, new_env, new_layers, timeout_s))
    resource = f"{function_name}:{alias}"

    state: dict[str, str | None] = {"version": None, "deployment": None}

    def ship() -> None:
        if via_param:
            with aws_errors(f"writing parameter {param}"):
                sc.clients.ssm().put_parameter(
                    Name=param,
                    Value=_failure_param_value(fault, percentage, latency_ms, status_code),
                    Type="String",
                    Overwrite=True,
                )
        _update_latest(sc, function_name, new_env, new_layers, timeout_s)
        with aws_errors(f"publishing a version of {function_name}"):
            version = lam.publish_version(
                FunctionName=function_name, Description=f"gameday canary ({fault})"
            )["Version"]
        state["version"] = version
        # $LATEST goes back at once: the fault lives on in the published version only,
        # so a later deploy from $LATEST does not ship it.
        _update_latest(sc, function_name, env, layers, timeout0 if timeout_s else None)
        state["deployment"] = _route_canary(
            sc, function_name, alias, stable, version, weight, via,
            application, deployment_group, deployment_config,
        )  # fmt: skip
        if state["deployment"]:
            # before `inject` marks the canary injected: a kill after that mark finds the
            # deployment in the ledger (else cleanup restores the alias while it shifts on)
            sc.ledger.record(
                "deployment",
                resource,
                f"deployment {state['deployment']} of {resource}",
                sc.ref,
                [{"op": "stop_deployment", "deployment_id": state["deployment"]}],
            )

    entry, _, _ = inject(
        sc,
        "canary",
        resource,
        f"{fault} canary of {function_name} at {weight:.0%} of {alias} via {via}",
        undo,
        ship,
    )
    version = state["version"] or ""
    # The user-visible injection: the first instant the alias routes to the new version.
    at = _wait_alias_routes(sc, function_name, alias, version, 60.0, state["deployment"])
    sc.ledger.mark_injected(entry.id, at)
    return CanaryResult(
        ledger_id=entry.id,
        function=function_name,
        alias=alias,
        stable_version=stable,
        canary_version=version,
        weight=weight,
        fault=fault,
        deployment_id=state["deployment"],
        injected_at=at,
        backend=resolved if fault != "none" else "none",
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
    current, current_weights = _alias_state(sc, function_name, alias)
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
