"""A faulty canary through FIS: the release ships healthy code and a FIS experiment makes
the new version fail, the way a bad release would fail, with AWS's own fault tooling.

The new version is published from `$LATEST` (which carries the FIS extension: checked by
the preflight), the experiment targets that version's qualified ARN with the function's
alarms as stop conditions, and only then is traffic shifted (alias weight or CodeDeploy).
So `fault requested` precedes the first routed request; `fault active` is whenever the
extension first applies the configuration in traffic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ...aws import aws_errors
from ...exceptions import ConfigError
from ..faults import Scope, inject
from ..ledger import UndoStep
from .actions import check_ready, cleanup_step, start_fis
from .experiment import FisFault
from .setup import settings_of

__all__ = ["CanaryHelpers", "FisCanary", "deploy_fis_canary", "fis_fault_for"]


@dataclass(frozen=True)
class CanaryHelpers:
    """deploy_canary's own steps, handed in (this module does not import awslambda)."""

    alias_state: Callable[[Scope, str, str], tuple[str, dict[str, float]]]
    config_before: Callable[[Scope, str], tuple[dict[str, str], list[str], int]]
    config_step: Callable[
        [str, tuple[dict[str, str], list[str], int], dict[str, str], list[str], int | None],
        UndoStep,
    ]
    latest_published: Callable[[Scope, str], str]
    update_latest: Callable[[Scope, str, dict[str, str], list[str], int | None], None]
    wait_routes: Callable[[Scope, str, str, str, float, str | None], float]
    route_canary: Callable[
        [Scope, str, str, str, str, float, str, str | None, str | None, str | None], str | None
    ]


@dataclass(frozen=True)
class FisCanary:
    ledger_id: str
    stable_version: str
    canary_version: str
    deployment_id: str | None
    injected_at: float
    fis_experiment_id: str
    fault_requested_at: float
    ramp_up_bound_s: float


def fis_fault_for(
    fault: str, percentage: int, latency_ms: int, status_code: int, timeout_s: int
) -> FisFault:
    """The FIS action that reproduces each canary fault of `deploy_canary`."""
    if fault == "exception":
        return FisFault("error", percentage=percentage)
    if fault in ("statuscode", "error_body"):
        return FisFault("http-status", percentage=percentage, status_code=status_code)
    if fault == "latency":
        return FisFault("delay", percentage=percentage, delay_ms=latency_ms)
    if fault == "timeout":
        # a delay past the function's timeout: the invocation times out, as the regression does
        return FisFault(
            "delay", percentage=percentage, delay_ms=min(900_000, timeout_s * 1000 + 1000)
        )
    raise ConfigError(f"fault {fault!r} has no FIS action (backend fis)")


def deploy_fis_canary(
    sc: Scope,
    function_name: str,
    alias: str,
    fault: str,
    weight: float,
    percentage: int,
    latency_ms: int,
    status_code: int,
    timeout_s: int | None,
    via: str,
    application: str | None,
    deployment_group: str | None,
    deployment_config: str | None,
    helpers: CanaryHelpers,
) -> FisCanary:
    _alias_state = helpers.alias_state
    _update_latest, _wait_alias_routes = helpers.update_latest, helpers.wait_routes

    check_ready(sc, function_name, None)  # $LATEST: the version about to be published
    lam = sc.clients.lambda_()
    stable, weights = _alias_state(sc, function_name, alias)
    before = helpers.config_before(sc, function_name)
    env, layers, current_timeout = before
    published = helpers.latest_published(sc, function_name)
    # PublishVersion returns the latest version when $LATEST has not changed since (Lambda
    # API reference): a marker makes the canary a version of its own, as a release would be
    marked = env | {"GAMEDAY_CANARY": sc.ledger.run_id}
    spec = fis_fault_for(fault, percentage, latency_ms, status_code, timeout_s or current_timeout)
    token = uuid.uuid4().hex
    undo: list[UndoStep] = [
        cleanup_step(sc, token),
        {
            "op": "restore_alias",
            "function": function_name,
            "alias": alias,
            "version": stable,
            "weights": weights,
            "published_above": published,  # the canary is the first version after these
        },
        # $LATEST changes only for a moment: a marker (and the timeout of a regression)
        helpers.config_step(function_name, before, marked, layers, timeout_s),
    ]
    resource = f"{function_name}:{alias}"
    state: dict[str, str | float | None] = {"version": None, "deployment": None}

    def ship() -> None:
        _update_latest(sc, function_name, marked, layers, timeout_s)
        with aws_errors(f"publishing a version of {function_name}"):
            version = lam.publish_version(
                FunctionName=function_name, Description=f"gameday canary ({fault}, FIS)"
            )["Version"]
        state["version"] = version
        _update_latest(
            sc, function_name, env, layers, current_timeout if timeout_s is not None else None
        )
        template_id, exp_id, requested = start_fis(
            sc, function_name, version, spec, token, dry_run=False
        )
        state.update(template=template_id, experiment=exp_id, requested=requested)
        state["deployment"] = helpers.route_canary(
            sc, function_name, alias, stable, version, weight, via,
            application, deployment_group, deployment_config,
        )  # fmt: skip
        deployment = state["deployment"]
        if isinstance(deployment, str) and deployment:
            # Recorded before `inject` marks the canary injected: a kill after that mark
            # must find the deployment in the ledger, or cleanup restores the alias while
            # the deployment goes on shifting weight onto the canary.
            sc.ledger.record(
                "deployment",
                resource,
                f"deployment {deployment} of {resource}",
                sc.ref,
                [{"op": "stop_deployment", "deployment_id": deployment}],
            )

    entry, _, _ = inject(
        sc,
        "canary",
        resource,
        f"{fault} canary of {function_name} at {weight:.0%} of {alias} via {via}"
        f" (FIS {spec.describe()})",
        undo,
        ship,
        fis_token=token,
    )
    version = str(state["version"] or "")
    deployment = state["deployment"]
    at = _wait_alias_routes(
        sc, function_name, alias, version, 60.0, deployment if isinstance(deployment, str) else None
    )
    sc.ledger.mark_injected(entry.id, at)
    requested = state.get("requested")
    return FisCanary(
        ledger_id=entry.id,
        stable_version=stable,
        canary_version=version,
        deployment_id=deployment if isinstance(deployment, str) else None,
        injected_at=at,
        fis_experiment_id=str(state.get("experiment") or ""),
        fault_requested_at=requested if isinstance(requested, float) else at,
        ramp_up_bound_s=settings_of(sc.target).ramp_up_bound_s,
    )
