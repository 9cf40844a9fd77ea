"""The steps of shipping a Lambda release, shared by every canary: read the alias and the
`$LATEST` configuration, change `$LATEST` (and its undo), publish a version, route the alias
to it (weight or CodeDeploy), and wait until it does; `ship_canary` runs the last three in
order behind the canary's ledger entry. `deploy_canary` (awslambda/actions.py) and the FIS
canary (fis/canary.py) both ship through these. Not an activity module: nothing here is
discovered by `chaos discover`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ...aws import Throttled, aws_errors
from ...exceptions import GamedayError
from ..faults import Scope, inject
from ..ledger import UndoStep
from ..undo import config_change, wait_function_updated

__all__ = [
    "Arch",
    "CanaryRoute",
    "ShippedCanary",
    "alias_state",
    "config_before",
    "config_step",
    "latest_published",
    "publish_changed",
    "restore_alias_step",
    "route_canary",
    "ship_canary",
    "update_latest",
    "wait_alias_routes",
]


Arch = Literal["x86_64", "arm64"]


@dataclass(frozen=True)
class CanaryRoute:
    """How a canary reaches users: `weight` of `function:alias`'s traffic, by the alias's
    own weights (`via="alias"`) or by a CodeDeploy deployment of the group (`"codedeploy"`)."""

    function: str
    alias: str
    weight: float
    via: str
    application: str | None
    deployment_group: str | None
    deployment_config: str | None

    @property
    def resource(self) -> str:
        return f"{self.function}:{self.alias}"

    def describe(self, fault: str) -> str:
        """The ledger's description of a canary shipping `fault` this way."""
        return (
            f"{fault} canary of {self.function} at {self.weight:.0%} of {self.alias} via {self.via}"
        )


def config_before(sc: Scope, function: str) -> tuple[tuple[dict[str, str], list[str], int], Arch]:
    """The configuration a fault is about to change (environment, layers, timeout), and the
    function's architecture (which extension layer fits it)."""
    with aws_errors(f"reading {function}'s configuration"):
        # GetFunction: its own 100/s quota, not the 15/s control plane (same configuration)
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    env = dict(cfg.get("Environment", {}).get("Variables", {}))
    layers = [layer["Arn"] for layer in cfg.get("Layers", [])]
    arch: Arch = "arm64" if "arm64" in (cfg.get("Architectures") or []) else "x86_64"
    return (env, layers, int(cfg.get("Timeout", 3))), arch


def config_step(
    function: str,
    before: tuple[dict[str, str], list[str], int],
    env: dict[str, str],
    layers: list[str],
    timeout: int | None,
) -> UndoStep:
    """The undo of a $LATEST change: only the keys it changes (see undo.config_change)."""
    env0, layers0, timeout0 = before
    return config_change(function, env0, env, layers0, layers, timeout0, timeout)


def latest_published(sc: Scope, function: str) -> str:
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


def route_canary(
    sc: Scope, route: CanaryRoute, stable: str, version: str, marker: str = ""
) -> str | None:
    """Send the route's weight of the alias's traffic from `stable` to `version`: by
    shifting the alias itself, or through a CodeDeploy deployment (its id is returned; its
    description carries `marker`)."""
    if route.via != "alias":
        from ..codedeploy.actions import create_lambda_deployment

        return create_lambda_deployment(
            sc,
            route.application or "",
            route.deployment_group or "",
            route.function,
            route.alias,
            stable,
            version,
            route.deployment_config,
            marker,
        )
    lam = sc.clients.lambda_()
    with aws_errors(f"shifting alias {route.resource}"):
        if route.weight < 1.0:
            lam.update_alias(
                FunctionName=route.function,
                Name=route.alias,
                FunctionVersion=stable,
                RoutingConfig={"AdditionalVersionWeights": {version: route.weight}},
            )
        else:
            lam.update_alias(
                FunctionName=route.function,
                Name=route.alias,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
    return None


def alias_state(sc: Scope, function: str, alias: str) -> tuple[str, dict[str, float]]:
    with aws_errors(f"reading alias {function}:{alias}"):
        got = sc.clients.lambda_().get_alias(FunctionName=function, Name=alias)
    weights = dict(got.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
    return got["FunctionVersion"], {k: float(v) for k, v in weights.items()}


def update_latest(
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


def publish_changed(
    sc: Scope,
    function: str,
    before: tuple[dict[str, str], list[str], int],
    env: dict[str, str],
    layers: list[str],
    timeout: int | None,
    description: str,
) -> str:
    """Publish a version of `function` with this environment, layers (and timeout), then
    put `$LATEST` back as it was (`before`): the change lives on in the published version
    only, so a later deploy from `$LATEST` does not ship it. Returns the version."""
    env0, layers0, timeout0 = before
    update_latest(sc, function, env, layers, timeout)
    with aws_errors(f"publishing a version of {function}"):
        version = str(
            sc.clients.lambda_().publish_version(FunctionName=function, Description=description)[
                "Version"
            ]
        )
    update_latest(sc, function, env0, layers0, timeout0 if timeout is not None else None)
    return version


def wait_alias_routes(
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
            current, weights = alias_state(sc, function, alias)
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


def restore_alias_step(
    route: CanaryRoute, stable: str, weights: dict[str, float], published: str
) -> UndoStep:
    """The undo of a canary's routing: the alias back to its version and weights. The
    canary is the first version published after `published`."""
    return {
        "op": "restore_alias",
        "function": route.function,
        "alias": route.alias,
        "version": stable,
        "weights": weights,
        "published_above": published,
    }


@dataclass(frozen=True)
class ShippedCanary:
    ledger_id: str
    version: str
    deployment: str | None  # the CodeDeploy deployment that shifts the traffic, if any
    injected_at: float  # the first instant the alias routed to `version`


def ship_canary(
    sc: Scope,
    route: CanaryRoute,
    stable: str,
    description: str,
    undo: list[UndoStep],
    publish: Callable[[], str],
    **extra: str,
) -> ShippedCanary:
    """Ship a canary: its ledger entry first (with `undo`), then `publish()`, which makes
    the new version and returns it, and the route from `stable` to it; a CodeDeploy
    deployment gets a ledger entry of its own (stopped on undo). Returns once the alias
    routes to the version: that instant, the user-visible injection, is marked on the entry."""
    shipped: dict[str, str | None] = {}
    marker = ""
    if route.via != "alias":
        # A kill between CreateDeployment's answer and the ledger write below would leave a
        # deployment cleanup cannot name: the entry says, before it exists, how to find it
        # (run first, so it is stopped before the alias is restored).
        marker = f"gameday-canary-{uuid.uuid4().hex}"
        undo = [
            {
                "op": "stop_deployment",
                "application": route.application or "",
                "deployment_group": route.deployment_group or "",
                "marker": marker,
                # AWS's clock may be ahead of ours: a margin far beyond any offset we accept
                "listed_from": time.time() - 600,
            },
            *undo,
        ]

    def ship() -> None:
        version = publish()
        shipped["version"] = version
        deployment = shipped["deployment"] = route_canary(sc, route, stable, version, marker)
        if deployment:
            # Recorded before `inject` marks the canary injected: a kill after that mark
            # must find the deployment in the ledger, or cleanup restores the alias while
            # the deployment goes on shifting weight onto the canary.
            sc.ledger.record(
                "deployment",
                route.resource,
                f"deployment {deployment} of {route.resource}",
                sc.ref,
                [{"op": "stop_deployment", "deployment_id": deployment}],
            )

    entry, _, _ = inject(sc, "canary", route.resource, description, undo, ship, **extra)
    version = shipped.get("version") or ""
    deployment = shipped.get("deployment")
    at = wait_alias_routes(sc, route.function, route.alias, version, 60.0, deployment)
    sc.ledger.mark_injected(entry.id, at)
    return ShippedCanary(entry.id, version, deployment, at)
