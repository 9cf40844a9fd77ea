"""Lint: what cannot work, said before any game day. Pure rules over typed specs.

Rules (each finding names the resource and the fix):

* `period-invalid`        Period AWS rejects (not 10/20/30 or a multiple of 60), more
                          datapoints than periods, Period x EvaluationPeriods over a day,
                          unknown operator / statistic / TreatMissingData.
* `period-below-resolution` a sub-minute period on a standard-resolution AWS metric.
* `detection-over-budget` the alarm's fastest possible detection — Period x
                          DatapointsToAlarm, plus the AWS/Lambda metric delay (~60-120 s)
                          on AWS, plus the FIS ramp-up when faults go through AWS FIS (the
                          extension's slow poll: up to 60 s before a fault shows) — already
                          reaches the MTTR budget.
* `wrong-dimensions`      region-wide (no dimensions) or function-wide alarms guarding a
                          canary: the stable version's traffic dilutes the canary's errors.
* `fault-invisible`       a fault that moves no metric its function's alarms watch (a
                          response-body swap does not move Lambda Errors), or a latency
                          fault under the Duration alarm's threshold.
* `deployment-unguarded`  a deployment group with no alarms, or no rollback on alarm.
* `bake-shorter-than-detection` the first traffic step is promoted before its alarms can fire.

The readers that build these specs from a target, a CloudFormation/Serverless resources
block or experiment files live in `lint_reader`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..findings import Finding

__all__ = [
    "AlarmSpec",
    "DeploymentGroupSpec",
    "FaultSpec",
    "LintInputs",
    "fastest_detection_s",
    "lint",
]

FaultType = Literal[
    "exception", "latency", "statuscode", "timeout", "error_body", "throttle", "dependency", "none"
]

OPERATORS = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
}
STATISTICS = {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
TREAT_MISSING = {"missing", "ignore", "breaching", "notBreaching"}
_PERCENTILE = re.compile(r"^(p|tm|wm|tc|ts)\d{1,2}(\.\d+)?$")

# Which Lambda / API Gateway metrics each fault moves (aws-behaviour.md).
FAULT_METRICS: dict[FaultType, frozenset[str]] = {
    "exception": frozenset({"Errors", "5XXError"}),
    "timeout": frozenset({"Errors", "Duration", "5XXError"}),
    "latency": frozenset({"Duration", "Latency", "IntegrationLatency"}),
    "statuscode": frozenset({"5XXError"}),
    "error_body": frozenset({"5XXError"}),
    "throttle": frozenset({"Throttles", "5XXError"}),
    "dependency": frozenset({"5XXError"}),
    "none": frozenset(),
}


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    namespace: str
    metric: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    datapoints_to_alarm: int | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    treat_missing: str = "missing"

    @property
    def m(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    def dimension(self, name: str) -> str | None:
        return next((v for k, v in self.dimensions if k == name), None)


@dataclass(frozen=True)
class DeploymentGroupSpec:
    name: str
    application: str
    config_name: str
    alarms: tuple[str, ...]
    alarms_enabled: bool = True
    auto_rollback_events: tuple[str, ...] = ()
    function: str | None = None


@dataclass(frozen=True)
class FaultSpec:
    source: str  # experiment file
    kind: FaultType
    function: str
    latency_ms: float | None = None


def _finding(
    severity: Literal["error", "warning"], rule: str, resource: str, message: str, fix: str
) -> Finding:
    return Finding(severity, resource, message, fix, rule=rule)


@dataclass(frozen=True)
class LintInputs:
    alarms: Sequence[AlarmSpec]
    groups: Sequence[DeploymentGroupSpec] = ()
    faults: Sequence[FaultSpec] = ()
    function_alarms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    budget_s: float = 120.0
    on_aws: bool = True
    metric_delay_s: tuple[float, float] = (60.0, 120.0)
    # faults through AWS FIS reach traffic only at the extension's next poll (0 otherwise)
    fis_ramp_up_s: float = 0.0


def fastest_detection_s(alarm: AlarmSpec, delay: tuple[float, float] | None) -> tuple[float, float]:
    """(best, typical-worst) seconds from the first bad request to ALARM: M periods must
    close with breaching datapoints, then the metric delay on AWS."""
    base = float(alarm.period * alarm.m)
    lo, hi = delay or (0.0, 0.0)
    return base + lo, base + hi


def _alarm_validity(a: AlarmSpec, on_aws: bool) -> list[Finding]:
    out = []

    def bad(message: str, fix: str) -> None:
        out.append(_finding("error", "period-invalid", f"alarm {a.name}", message, fix))

    if a.period not in (10, 20, 30) and (a.period <= 0 or a.period % 60):
        message = (
            f"Period {a.period} s is rejected by AWS (allowed: 10, 20, 30 or a multiple of 60)."
        )
        fix = "use Period 60 (or 10/30 for high-resolution custom metrics)."
        if on_aws:
            bad(message, fix)
        else:
            # The sandbox accepts short periods on purpose (fast timing) and says so; the
            # config still could not be deployed as is, which is worth a warning, not a fail.
            out.append(
                _finding(
                    "warning",
                    "period-invalid",
                    f"alarm {a.name}",
                    message + " The sandbox accepted it (fast timing).",
                    fix + " Or run the sandbox with --faithful.",
                )
            )
    if a.datapoints_to_alarm is not None and a.datapoints_to_alarm > a.evaluation_periods:
        bad(
            f"DatapointsToAlarm {a.datapoints_to_alarm} exceeds EvaluationPeriods "
            f"{a.evaluation_periods}.",
            "set DatapointsToAlarm <= EvaluationPeriods.",
        )
    if a.period * a.evaluation_periods > 86_400:
        bad(
            f"Period x EvaluationPeriods = {a.period * a.evaluation_periods} s exceeds one day.",
            "shorten the period or evaluate fewer periods.",
        )
    if a.comparison not in OPERATORS:
        bad(
            f"ComparisonOperator {a.comparison!r} is not one AWS knows.",
            f"use one of {', '.join(sorted(OPERATORS)[:4])}.",
        )
    if a.extended_statistic is None and a.statistic not in STATISTICS:
        bad(
            f"Statistic {a.statistic!r} is not one of {', '.join(sorted(STATISTICS))}.",
            "use Sum for counts, Average or ExtendedStatistic p99 for Duration.",
        )
    if a.extended_statistic is not None and not _PERCENTILE.match(a.extended_statistic):
        bad(
            f"ExtendedStatistic {a.extended_statistic!r} is not a percentile like p99.",
            "use p90, p95 or p99.",
        )
    if a.treat_missing not in TREAT_MISSING:
        bad(
            f"TreatMissingData {a.treat_missing!r} is not one of "
            f"{', '.join(sorted(TREAT_MISSING))}.",
            "use notBreaching for error counts.",
        )
    return out


def _detection(a: AlarmSpec, inputs: LintInputs) -> list[Finding]:
    out = []
    aws_metric = a.namespace.startswith("AWS/")
    delay = inputs.metric_delay_s if inputs.on_aws and aws_metric else None
    if inputs.on_aws and aws_metric and a.period < 60:
        out.append(
            _finding(
                "warning",
                "period-below-resolution",
                f"alarm {a.name}",
                f"Period {a.period} s on {a.namespace} {a.metric}, which AWS publishes at "
                "1-minute resolution: most periods have no datapoint.",
                "use Period 60, or alarm on a high-resolution custom metric.",
            )
        )
    best, worst = fastest_detection_s(a, delay)
    ramp = inputs.fis_ramp_up_s
    best, worst = best + ramp, worst + ramp
    if best >= inputs.budget_s:
        arithmetic = f"{a.period} s x {a.m} datapoint{'s' if a.m != 1 else ''} = {a.period * a.m} s"
        if delay:
            arithmetic += f" + {delay[0]:g}-{delay[1]:g} s {a.namespace} metric delay"
        if ramp:
            arithmetic += f" + up to {ramp:g} s FIS ramp-up (the extension's slow poll)"
        if delay or ramp:
            arithmetic += f" = {best:g}-{worst:g} s"
        out.append(
            _finding(
                "error",
                "detection-over-budget",
                f"alarm {a.name}",
                f"fastest possible detection is {arithmetic}, which already reaches the "
                f"{inputs.budget_s:g} s MTTR budget before any rollback starts.",
                "alarm on fewer, shorter periods (e.g. DatapointsToAlarm 1 of EvaluationPeriods 1"
                " at Period 60 — still >= 120 s with AWS/Lambda's delay), or on a high-resolution"
                " custom metric such as synthetic SuccessPercent at Period 10.",
            )
        )
    return out


def _dimensions(a: AlarmSpec, guarded: bool) -> list[Finding]:
    if a.namespace != "AWS/Lambda":
        return []
    names = {k for k, _ in a.dimensions}
    if not names:
        return [
            _finding(
                "error" if guarded else "warning",
                "wrong-dimensions",
                f"alarm {a.name}",
                f"{a.metric} has no dimensions: it sums every function in the region, so one "
                "function's canary is drowned by all the others (and any function trips it).",
                "add Dimensions FunctionName=<fn> and Resource=<fn>:<alias>"
                " (one alarm per function).",
            )
        ]
    if guarded and "Resource" not in names and "ExecutedVersion" not in names:
        fn = a.dimension("FunctionName") or "<fn>"
        return [
            _finding(
                "warning",
                "wrong-dimensions",
                f"alarm {a.name}",
                f"{a.metric} is function-wide ({fn}): during a 10 % canary the stable version's "
                "traffic dilutes the canary's errors tenfold.",
                f"use Dimensions FunctionName={fn}, Resource={fn}:<alias> (or ExecutedVersion).",
            )
        ]
    return []


def _covers(a: AlarmSpec, function: str, listed: tuple[str, ...]) -> bool:
    if a.name in listed:
        return True
    fn = a.dimension("FunctionName")
    return fn == function or (fn is None and a.namespace == "AWS/Lambda" and not listed)


def _faults(inputs: LintInputs) -> list[Finding]:
    out = []
    for f in inputs.faults:
        if f.kind == "none":
            continue
        listed = inputs.function_alarms.get(f.function, ())
        alarms = [a for a in inputs.alarms if _covers(a, f.function, listed)]
        watched = {a.metric for a in alarms}
        moved = FAULT_METRICS[f.kind]
        visible = [a for a in alarms if a.metric in moved]
        if f.kind == "latency" and f.latency_ms is not None:
            visible = [a for a in visible if a.metric != "Duration" or a.threshold < f.latency_ms]
        if not visible:
            why = (f"moves only {', '.join(sorted(moved))}" if moved else "moves no metric") + (
                f"; its alarms watch {', '.join(sorted(watched))}"
                if watched
                else "; no alarm watches it"
            )
            if f.kind == "latency" and f.latency_ms is not None and "Duration" in watched:
                why += f" with thresholds above the injected {f.latency_ms:g} ms"
            fix = {
                "error_body": "alarm on AWS/ApiGateway 5XXError for the stage (a body swap "
                "does not move Lambda Errors), or on synthetic SuccessPercent.",
                "statuscode": "alarm on AWS/ApiGateway 5XXError, or on synthetic SuccessPercent.",
                "throttle": "alarm on AWS/Lambda Throttles (Sum > 0) for the function.",
                "dependency": "alarm on AWS/ApiGateway 5XXError for /health/ready, or on "
                "synthetic SuccessPercent of the readiness check.",
                "latency": "alarm on Duration p99 with a threshold under the latency SLO.",
            }.get(f.kind, "alarm on AWS/Lambda Errors for the function's alias.")
            out.append(
                _finding(
                    "error",
                    "fault-invisible",
                    f"{f.kind} fault on {f.function} ({f.source})",
                    f"this fault {why}: no alarm can fire, so nothing will roll it back.",
                    fix,
                )
            )
    return out


_CONFIG = re.compile(r"(Canary|Linear)\d+Percent(?:Every)?(\d+)Minutes?")


def _first_step_s(config: str) -> float | None:
    if config.endswith("AllAtOnce"):
        return 0.0
    m = _CONFIG.search(config)
    return float(m.group(2)) * 60 if m else None


def _groups(inputs: LintInputs) -> list[Finding]:
    out = []
    by_name = {a.name: a for a in inputs.alarms}
    for g in inputs.groups:
        res = f"deployment group {g.application}/{g.name}"
        if not g.alarms or not g.alarms_enabled:
            out.append(
                _finding(
                    "error",
                    "deployment-unguarded",
                    res,
                    "no alarms are enabled: a faulty canary is promoted regardless.",
                    "add the function's error and duration alarms to the group.",
                )
            )
        elif "DEPLOYMENT_STOP_ON_ALARM" not in g.auto_rollback_events:
            out.append(
                _finding(
                    "error",
                    "deployment-unguarded",
                    res,
                    "automatic rollback on DEPLOYMENT_STOP_ON_ALARM is off: an alarm "
                    "stops the deployment but leaves the canary serving.",
                    "enable autoRollbackConfiguration events DEPLOYMENT_STOP_ON_ALARM "
                    "and DEPLOYMENT_FAILURE.",
                )
            )
        step = _first_step_s(g.config_name)
        specs = [by_name[n] for n in g.alarms if n in by_name]
        if step is not None and specs:
            delay = inputs.metric_delay_s if inputs.on_aws else None
            fastest = min(
                fastest_detection_s(a, delay if a.namespace.startswith("AWS/") else None)[0]
                for a in specs
            )
            if fastest > step:
                out.append(
                    _finding(
                        "warning",
                        "bake-shorter-than-detection",
                        res,
                        f"{g.config_name} moves on after {step:g} s but its alarms need at least "
                        f"{fastest:g} s to fire: a bad canary gets more traffic before detection.",
                        "use a canary config whose first interval exceeds the alarms'"
                        " detection time.",
                    )
                )
    return out


def lint(inputs: LintInputs) -> list[Finding]:
    """Every finding, errors first."""
    guarded = {n for g in inputs.groups for n in g.alarms} | {
        n for names in inputs.function_alarms.values() for n in names
    }
    findings: list[Finding] = []
    for a in inputs.alarms:
        findings += _alarm_validity(a, inputs.on_aws)
        findings += _detection(a, inputs)
        findings += _dimensions(a, a.name in guarded)
    findings += _faults(inputs)
    findings += _groups(inputs)
    return sorted(findings, key=lambda f: f.severity != "error")
