"""The Chaos Toolkit extension: faults that reach real traffic, probes that read the
target's own timestamps, controls that keep users' view and remove every fault.

Activity modules (each with `__all__` as the discovery contract):

    lambda_gameday.chaos.awslambda.actions    deploy_canary, inject_latency, inject_error,
                                              throttle, manual_rollback, restore_alias, ...
    lambda_gameday.chaos.awslambda.probes     wait_for_alias_version, alias_routing, observed_split
    lambda_gameday.chaos.cloudwatch.probes    wait_for_alarm_state, alarm_state
    lambda_gameday.chaos.codedeploy.actions   stop_deployment
    lambda_gameday.chaos.codedeploy.probes    wait_for_deployment, wait_for_rollback
    lambda_gameday.chaos.sandbox.actions      dependency_down, dependency_slow, dependency_up
    lambda_gameday.chaos.sns.actions          subscribe_queue, force_alarm_state,
                                              wait_for_alarm_message, remove_subscription
    lambda_gameday.chaos.http.probes          endpoint_available, wait_for_sustained_success
    lambda_gameday.chaos.fis.actions          inject_fis_fault, stop_fis_experiments
    lambda_gameday.chaos.fis.probes           fis_ready, fis_experiment_state
    lambda_gameday.chaos.controls.traffic     background user traffic + the MTTR timeline
    lambda_gameday.chaos.controls.safety      ledger cleanup, stop conditions, preflight

Run experiments with `gameday chaos NAME` or the stock `chaos run` (see docs/chaos.md).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ACTIVITY_MODULES", "discover"]

ACTIVITY_MODULES: tuple[tuple[str, str], ...] = (
    ("lambda_gameday.chaos.awslambda.actions", "action"),
    ("lambda_gameday.chaos.awslambda.probes", "probe"),
    ("lambda_gameday.chaos.cloudwatch.probes", "probe"),
    ("lambda_gameday.chaos.codedeploy.actions", "action"),
    ("lambda_gameday.chaos.codedeploy.probes", "probe"),
    ("lambda_gameday.chaos.sandbox.actions", "action"),
    ("lambda_gameday.chaos.sns.actions", "action"),
    ("lambda_gameday.chaos.http.probes", "probe"),
    ("lambda_gameday.chaos.fis.actions", "action"),
    ("lambda_gameday.chaos.fis.probes", "probe"),
)


def discover(discover_system: bool = True) -> dict[str, Any]:
    """Chaos Toolkit discovery: every activity this extension exports."""
    from chaoslib.discovery.discover import discover_activities, initialize_discovery_result

    from .. import __version__

    discovery: dict[str, Any] = initialize_discovery_result(
        "lambda-gameday", __version__, "aws-lambda"
    )
    for module, kind in ACTIVITY_MODULES:
        discovery["activities"].extend(discover_activities(module, kind))
    return discovery
