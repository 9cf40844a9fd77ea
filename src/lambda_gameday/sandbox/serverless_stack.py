"""The stack the control loops provision: alarms, the alert topic, the CodeDeploy
application and one deployment group per function — the seed's, by default, or whatever a
Serverless Framework file describes (see `serverless.py`).

Default stack, fast timing (the default): per function `hasivu-<stage>-<short>-error-rate`
(Errors Sum > 1 over `alarm_period_s`=2 s x 2) and `...-duration` (Duration Average >
10000 ms, same periods), both on the production alias's dimensions {FunctionName, Resource=
fn:production}, TreatMissingData notBreaching, AlarmActions the alert topic; deployment
config TimeBasedLinear 10 % every 1 s. Faithful timing reproduces the seed exactly: the two
alarms `hasivu-<stage>-error-rate` / `-duration` (Period 60, EvaluationPeriods 2, Threshold
10 / 10000, no dimensions, so they watch every function in the region at once) and
CodeDeployDefault.LambdaLinear10PercentEvery3Minutes. Every group has automatic rollback on
DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .deployments import DeploymentConfig

__all__ = [
    "AlarmDef",
    "FunctionDef",
    "GroupDef",
    "StackSettings",
    "StackSpec",
    "TopicDef",
    "default_stack",
    "provision",
]

log = logging.getLogger(__name__)

SEED_FUNCTIONS = ("health-comprehensive", "health-liveness", "health-readiness", "health-startup")


@dataclass(frozen=True)
class StackSettings:
    """The knobs of the default stack (read from SandboxConfig.timing and .extra)."""

    faithful: bool = False
    alarm_period_s: int = 2
    alarm_evaluation_periods: int = 2
    error_threshold: float = 1.0
    duration_threshold_ms: float = 10000.0
    linear_percent: int = 10
    linear_interval: int = 1  # seconds in fast timing


@dataclass(frozen=True)
class AlarmDef:
    name: str
    metric: str
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str = "GreaterThanThreshold"
    namespace: str = "AWS/Lambda"
    treat_missing_data: str = "notBreaching"
    dimensions: tuple[tuple[str, str], ...] = ()
    description: str = ""
    topics: tuple[str, ...] = ()  # topic names (resolved to ARNs when provisioned)


@dataclass(frozen=True)
class TopicDef:
    name: str
    subscriptions: tuple[tuple[str, str], ...] = ()  # (protocol, endpoint)


@dataclass(frozen=True)
class FunctionDef:
    key: str  # the Serverless key, e.g. health-liveness
    name: str  # the deployed name, e.g. hasivu-dev-health-liveness
    handler: str = ""
    http: tuple[tuple[str, str], ...] = ()  # (method, path)
    memory_mb: int = 1024
    timeout_s: int = 6
    environment: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GroupDef:
    name: str
    function: str
    alias: str
    alarms: tuple[str, ...]
    config: str
    pre_traffic_hook: str | None = None
    post_traffic_hook: str | None = None


@dataclass(frozen=True)
class StackSpec:
    application: str
    functions: tuple[FunctionDef, ...] = ()
    topics: tuple[TopicDef, ...] = ()
    alarms: tuple[AlarmDef, ...] = ()
    groups: tuple[GroupDef, ...] = ()
    configs: tuple[DeploymentConfig, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def default_stack(
    service: str, stage: str, settings: StackSettings, functions: Sequence[str] = SEED_FUNCTIONS
) -> StackSpec:
    prefix = f"{service}-{stage}"
    topic = f"{prefix}-alerts"
    fdefs = tuple(FunctionDef(short, f"{prefix}-{short}") for short in functions)
    alarms: list[AlarmDef] = []
    groups: list[GroupDef] = []
    if settings.faithful:
        config = "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
        configs: tuple[DeploymentConfig, ...] = ()
        alarms = [
            AlarmDef(
                f"{prefix}-error-rate",
                "Errors",
                "Sum",
                60,
                2,
                10.0,
                description="Trigger rollback on high error rate",
                topics=(topic,),
            ),
            AlarmDef(
                f"{prefix}-duration",
                "Duration",
                "Average",
                60,
                2,
                10000.0,
                description="Trigger rollback on high latency",
                topics=(topic,),
            ),
        ]
        names = tuple(a.name for a in alarms)
        groups = [GroupDef(f"{prefix}-{f.key}", f.name, "production", names, config) for f in fdefs]
    else:
        config = (
            f"{prefix}-Linear{settings.linear_percent}PercentEvery{settings.linear_interval}Second"
        )
        configs = (
            DeploymentConfig(
                config, "TimeBasedLinear", settings.linear_percent, settings.linear_interval
            ),
        )
        p, n = settings.alarm_period_s, settings.alarm_evaluation_periods
        for f in fdefs:
            dims = (("FunctionName", f.name), ("Resource", f"{f.name}:production"))
            pair = (
                AlarmDef(
                    f"{prefix}-{f.key}-error-rate",
                    "Errors",
                    "Sum",
                    p,
                    n,
                    settings.error_threshold,
                    dimensions=dims,
                    description="Trigger rollback on high error rate",
                    topics=(topic,),
                ),
                AlarmDef(
                    f"{prefix}-{f.key}-duration",
                    "Duration",
                    "Average",
                    p,
                    n,
                    settings.duration_threshold_ms,
                    dimensions=dims,
                    description="Trigger rollback on high latency",
                    topics=(topic,),
                ),
            )
            alarms.extend(pair)
            groups.append(
                GroupDef(
                    f"{prefix}-{f.key}", f.name, "production", tuple(a.name for a in pair), config
                )
            )
    return StackSpec(
        application=prefix,
        functions=fdefs,
        topics=(TopicDef(topic, (("email", "devops@hasivu.com"),)),),
        alarms=tuple(alarms),
        groups=tuple(groups),
        configs=configs,
    )


def provision(stack: StackSpec, clients: dict[str, Any], existing_functions: set[str]) -> list[str]:
    """Create the stack through the sandbox's own AWS API (so every put goes through the same
    validation users hit). Returns warnings (e.g. a group whose function does not exist)."""
    warnings = list(stack.warnings)
    sns, cw, cd = clients["sns"], clients["cloudwatch"], clients["codedeploy"]
    arns: dict[str, str] = {}
    for topic in stack.topics:
        arn = sns.create_topic(Name=topic.name)["TopicArn"]
        arns[topic.name] = arn
        for protocol, endpoint in topic.subscriptions:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
    for alarm in stack.alarms:
        actions = [arns.get(t, t) for t in alarm.topics]
        cw.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description,
            MetricName=alarm.metric,
            Namespace=alarm.namespace,
            Statistic=alarm.statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
            TreatMissingData=alarm.treat_missing_data,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            AlarmActions=actions,
        )
    for config in stack.configs:
        routing: dict[str, Any] = {"type": config.type}
        if config.type == "TimeBasedLinear":
            routing["timeBasedLinear"] = {
                "linearPercentage": config.percentage,
                "linearInterval": config.interval_minutes,
            }
        elif config.type == "TimeBasedCanary":
            routing["timeBasedCanary"] = {
                "canaryPercentage": config.percentage,
                "canaryInterval": config.interval_minutes,
            }
        cd.create_deployment_config(
            deploymentConfigName=config.name, computePlatform="Lambda", trafficRoutingConfig=routing
        )
    if stack.groups:
        cd.create_application(applicationName=stack.application, computePlatform="Lambda")
    for group in stack.groups:
        if group.function not in existing_functions:
            warnings.append(
                f"deployment group {group.name}: function {group.function} is not "
                "in the sandbox; group not created"
            )
            continue
        cd.create_deployment_group(
            applicationName=stack.application,
            deploymentGroupName=group.name,
            deploymentConfigName=group.config,
            serviceRoleArn="arn:aws:iam::123456789012:role/CodeDeployServiceRole",
            alarmConfiguration={
                "enabled": bool(group.alarms),
                "ignorePollAlarmFailure": False,
                "alarms": [{"name": a} for a in group.alarms],
            },
            autoRollbackConfiguration={
                "enabled": True,
                "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
            },
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )
    for w in warnings:
        log.warning("%s", w)
    return warnings
