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
from dataclasses import dataclass

from ...exceptions import ConfigError
from ..awslambda import release
from ..awslambda.release import CanaryRoute, ShippedCanary
from ..faults import Scope
from ..ledger import UndoStep
from .actions import check_ready, cleanup_step, start_fis
from .experiment import FisFault
from .setup import settings_of

__all__ = ["FisCanary", "deploy_fis_canary", "fis_fault_for"]


@dataclass(frozen=True)
class FisCanary:
    shipped: ShippedCanary
    stable_version: str
    fis_experiment_id: str
    fault_requested_at: float  # the FIS action started (AWS's clock)
    ramp_up_bound_s: float  # how long the fault may take to show in traffic


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
    route: CanaryRoute,
    fault: str,
    percentage: int,
    latency_ms: int,
    status_code: int,
    timeout_s: int | None,
) -> FisCanary:
    function_name = route.function
    check_ready(sc, function_name, None)  # $LATEST: the version about to be published
    stable, weights = release.alias_state(sc, function_name, route.alias)
    before = release.config_before(sc, function_name)[0]
    env, layers, current_timeout = before
    published = release.latest_published(sc, function_name)
    # PublishVersion returns the latest version when $LATEST has not changed since (Lambda
    # API reference): a marker makes the canary a version of its own, as a release would be
    marked = env | {"GAMEDAY_CANARY": sc.ledger.run_id}
    spec = fis_fault_for(fault, percentage, latency_ms, status_code, timeout_s or current_timeout)
    token = uuid.uuid4().hex
    undo: list[UndoStep] = [
        cleanup_step(sc, token),
        release.restore_alias_step(route, stable, weights, published),
        # $LATEST changes only for a moment: a marker (and the timeout of a regression)
        release.config_step(function_name, before, marked, layers, timeout_s),
    ]
    started: dict[str, str | float] = {}

    def publish() -> str:
        # the experiment targets the new version before any traffic is routed to it
        version = release.publish_changed(
            sc, function_name, before, marked, layers, timeout_s, f"gameday canary ({fault}, FIS)"
        )
        template_id, exp_id, requested = start_fis(
            sc, function_name, version, spec, token, dry_run=False
        )
        started.update(template=template_id, experiment=exp_id, requested=requested)
        return version

    description = f"{route.describe(fault)} (FIS {spec.describe()})"
    shipped = release.ship_canary(sc, route, stable, description, undo, publish, fis_token=token)
    requested = started.get("requested")
    return FisCanary(
        shipped=shipped,
        stable_version=stable,
        fis_experiment_id=str(started.get("experiment") or ""),
        fault_requested_at=requested if isinstance(requested, float) else shipped.injected_at,
        ramp_up_bound_s=settings_of(sc.target).ramp_up_bound_s,
    )
