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
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .deployments.configs import DeploymentConfig

__all__ = [
    "AlarmDef",
    "AliasDef",
    "FunctionDef",
    "GroupDef",
    "RouteDef",
    "StackSettings",
    "StackSpec",
    "TopicDef",
    "default_stack",
    "provision",
]

log = logging.getLogger(__name__)
_PERCENTILE = re.compile(r"p\d{1,2}(\.\d+)?")

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


ApiKind = Literal["REST", "HTTP"]


@dataclass(frozen=True)
class RouteDef:
    """One API route: `method path` served by a function through `alias` (None: the
    unqualified function, i.e. `$LATEST`)."""

    method: str  # GET, POST, ..., or ANY
    path: str  # may hold `{var}` and a final greedy `{proxy+}`
    alias: str | None
    api: ApiKind = "REST"
    # the API's stage; None: the stack's stage for a REST API, `$default` for an HTTP API
    stage: str | None = None

    def stage_name(self, stack_stage: str) -> str:
        return self.stage or (stack_stage if self.api == "REST" else "$default")

    def url_prefix(self, stack_stage: str) -> str:
        """Where the route's API serves it: `/<stage>`, or nothing for `$default`."""
        stage = self.stage_name(stack_stage)
        return "" if stage == "$default" else f"/{stage}"

    @property
    def templated(self) -> bool:
        return "{" in self.path


@dataclass(frozen=True)
class AliasDef:
    name: str
    version: str = "1"  # the version the alias points at (published in order, 1..n)
    # RoutingConfig.AdditionalVersionWeights: (version, weight 0..1)
    weights: tuple[tuple[str, float], ...] = ()
    provisioned: int = 0  # ProvisionedConcurrentExecutions on this alias


@dataclass(frozen=True)
class FunctionDef:
    key: str  # the key in the file (Serverless key or CloudFormation logical id)
    name: str  # the deployed name, e.g. hasivu-dev-health-liveness
    handler: str = ""
    http: tuple[tuple[str, str], ...] = ()  # (method, path), kept for older callers
    memory_mb: int = 1024
    timeout_s: int = 6
    environment: tuple[tuple[str, str], ...] = ()
    runtime: str = "python3.12"
    routes: tuple[RouteDef, ...] = ()
    aliases: tuple[AliasDef, ...] = ()
    versions: int = 0  # versions the file publishes (an alias needs at least one)
    code_path: str | None = None  # where the code is in the repository, when the file says


@dataclass(frozen=True)
class GroupDef:
    name: str
    function: str
    alias: str
    alarms: tuple[str, ...]
    config: str
    pre_traffic_hook: str | None = None
    post_traffic_hook: str | None = None
    application: str | None = None  # None: the stack's application
    enabled: bool = True  # False: the file disables the preference (no group is created)
    where: str = ""  # the place in the file that defines it (for lint findings)
    # AutoRollbackConfiguration events (empty: automatic rollback off). SAM, CDK's
    # LambdaDeploymentGroup and the canary plugin roll back on failure and on alarm.
    rollback_events: tuple[str, ...] = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


StackFormat = Literal["serverless", "sam", "cloudformation", "default"]


@dataclass(frozen=True)
class StackSpec:
    application: str
    functions: tuple[FunctionDef, ...] = ()
    topics: tuple[TopicDef, ...] = ()
    alarms: tuple[AlarmDef, ...] = ()
    groups: tuple[GroupDef, ...] = ()
    configs: tuple[DeploymentConfig, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    format: StackFormat = "default"
    name: str = ""  # the stack's name (CloudFormation stack, or Serverless service-stage)
    source: str = "<built-in>"
    stage: str = "dev"
    parameters: tuple[tuple[str, str], ...] = ()  # resolved template parameters
    unsupported: tuple[str, ...] = ()  # resource types read and ignored (each listed once)
    api_kinds: tuple[ApiKind, ...] = ()
    # CloudFormation: every active resource as (logical id, type, what its Ref returns)
    resources: tuple[tuple[str, str, str], ...] = ()

    @property
    def routes(self) -> list[tuple[FunctionDef, RouteDef]]:
        return [(f, r) for f in self.functions for r in f.routes]

    def function(self, name: str) -> FunctionDef | None:
        return next((f for f in self.functions if name in (f.name, f.key)), None)


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
            **(
                {"ExtendedStatistic": alarm.statistic}
                if _PERCENTILE.fullmatch(alarm.statistic)
                else {"Statistic": alarm.statistic}
            ),
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
            TreatMissingData=alarm.treat_missing_data,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            AlarmActions=actions,
        )
    for config in stack.configs:
        # the config's own trafficRoutingConfig, as the twin's GetDeploymentConfig answers it
        routing = config.to_api()["trafficRoutingConfig"]
        cd.create_deployment_config(
            deploymentConfigName=config.name, computePlatform="Lambda", trafficRoutingConfig=routing
        )
    groups = [g for g in stack.groups if g.enabled]
    for app in dict.fromkeys(g.application or stack.application for g in groups):
        cd.create_application(applicationName=app, computePlatform="Lambda")
    for group in groups:
        if group.function not in existing_functions:
            warnings.append(
                f"deployment group {group.name}: function {group.function} is not "
                "in the sandbox; group not created"
            )
            continue
        cd.create_deployment_group(
            applicationName=group.application or stack.application,
            deploymentGroupName=group.name,
            deploymentConfigName=group.config,
            serviceRoleArn="arn:aws:iam::123456789012:role/CodeDeployServiceRole",
            alarmConfiguration={
                "enabled": bool(group.alarms),
                "ignorePollAlarmFailure": False,
                "alarms": [{"name": a} for a in group.alarms],
            },
            autoRollbackConfiguration={
                "enabled": bool(group.rollback_events),
                "events": list(group.rollback_events),
            },
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )
    for w in warnings:
        log.warning("%s", w)
    return warnings
