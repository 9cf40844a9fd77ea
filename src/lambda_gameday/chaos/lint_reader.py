"""Building lint inputs: from a live target, a Serverless/CloudFormation file, experiments."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import yaml

from ..aws import Clients, aws_errors
from ..config import Target
from ..exceptions import ConfigError, ResourceNotFound
from .lint import AlarmSpec, DeploymentGroupSpec, FaultSpec, FaultType

__all__ = [
    "alarm_from_api",
    "alarm_from_cloudformation",
    "alarms_from_template",
    "faults_from_experiments",
    "read_target",
]


def alarm_from_api(a: Mapping[str, Any]) -> AlarmSpec:
    """From a describe_alarms MetricAlarms item."""
    return AlarmSpec(
        name=str(a["AlarmName"]),
        namespace=str(a.get("Namespace", "")),
        metric=str(a.get("MetricName", "")),
        period=int(a.get("Period", 60)),
        evaluation_periods=int(a.get("EvaluationPeriods", 1)),
        threshold=float(a.get("Threshold", 0)),
        comparison=str(a.get("ComparisonOperator", "")),
        statistic=a.get("Statistic"),
        extended_statistic=a.get("ExtendedStatistic"),
        datapoints_to_alarm=a.get("DatapointsToAlarm"),
        dimensions=tuple((d["Name"], d["Value"]) for d in a.get("Dimensions", [])),
        treat_missing=str(a.get("TreatMissingData", "missing")),
    )


def read_target(
    clients: Clients, target: Target
) -> tuple[list[AlarmSpec], list[DeploymentGroupSpec]]:
    """The target's alarms and (its application's) deployment groups."""
    cw = clients.cloudwatch()
    alarms: list[AlarmSpec] = []
    with aws_errors("listing alarms"):
        for page in cw.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
            alarms += [alarm_from_api(cast(Mapping[str, Any], a)) for a in page["MetricAlarms"]]
    groups: list[DeploymentGroupSpec] = []
    if target.application:
        cd = clients.codedeploy()
        try:
            with aws_errors(f"listing deployment groups of {target.application}"):
                names = cd.list_deployment_groups(applicationName=target.application)[
                    "deploymentGroups"
                ]
                for name in names:
                    info = cd.get_deployment_group(
                        applicationName=target.application, deploymentGroupName=name
                    )["deploymentGroupInfo"]
                    alarm_cfg = info.get("alarmConfiguration", {})
                    rollback = info.get("autoRollbackConfiguration", {})
                    groups.append(
                        DeploymentGroupSpec(
                            name=name,
                            application=target.application,
                            config_name=str(info.get("deploymentConfigName", "")),
                            alarms=tuple(a["name"] for a in alarm_cfg.get("alarms", [])),
                            alarms_enabled=bool(alarm_cfg.get("enabled", False)),
                            auto_rollback_events=tuple(rollback.get("events", []))
                            if rollback.get("enabled")
                            else (),
                        )
                    )
        except ResourceNotFound:
            pass
    return alarms, groups


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation short tags (!Ref, !GetAtt, !Sub ...) kept as text."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> str:
    value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else "..."
    return f"!{suffix} {value}"


_CfnLoader.add_multi_constructor("!", _tag)


def _substitute(text: str, variables: Mapping[str, str]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1).strip(), m.group(0)), text)


def alarm_from_cloudformation(
    logical_id: str, props: Mapping[str, Any], variables: Mapping[str, str] | None = None
) -> AlarmSpec:
    """From an AWS::CloudWatch::Alarm's Properties (Serverless `${self:...}` substituted)."""
    v = variables or {}
    dims = tuple(
        (str(d.get("Name")), _substitute(str(d.get("Value")), v))
        for d in props.get("Dimensions", []) or []
    )
    try:
        return AlarmSpec(
            name=_substitute(str(props.get("AlarmName", logical_id)), v),
            namespace=str(props.get("Namespace", "")),
            metric=str(props.get("MetricName", "")),
            period=int(props.get("Period", 60)),
            evaluation_periods=int(props.get("EvaluationPeriods", 1)),
            threshold=float(props.get("Threshold", 0)),
            comparison=str(props.get("ComparisonOperator", "")),
            statistic=props.get("Statistic"),
            extended_statistic=props.get("ExtendedStatistic"),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            dimensions=dims,
            treat_missing=str(props.get("TreatMissingData", "missing")),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"alarm {logical_id}: invalid property ({exc})") from None


def alarms_from_template(path: Path, variables: Mapping[str, str] | None = None) -> list[AlarmSpec]:
    """Every AWS::CloudWatch::Alarm in a CloudFormation template or a serverless.yml
    (`resources.Resources`)."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    resources = doc.get("Resources") or (doc.get("resources") or {}).get("Resources") or {}
    v = dict(variables or {})
    if isinstance(doc.get("service"), str):
        v.setdefault("self:service", doc["service"])
    return [
        alarm_from_cloudformation(lid, r.get("Properties", {}), v)
        for lid, r in resources.items()
        if isinstance(r, dict) and r.get("Type") == "AWS::CloudWatch::Alarm"
    ]


def _configuration(conf: Mapping[str, Any]) -> dict[str, str]:
    """Plain values, and `{"type": "env", "key": ..., "default": ...}` entries resolved."""
    out: dict[str, str] = {}
    for key, value in conf.items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, Mapping) and value.get("type") == "env":
            got = os.environ.get(str(value.get("key")), value.get("default"))
            if got is not None:
                out[key] = str(got)
    return out


_OUR_FAULTS: dict[str, FaultType] = {
    "inject_latency": "latency",
    "inject_error": "error_body",
    "throttle": "throttle",
    "dependency_down": "dependency",
    "dependency_slow": "dependency",
    "add_latency": "latency",  # chaostoolkit-aws
    "add_error": "error_body",
}


def faults_from_experiments(
    paths: Sequence[Path], dependency_function: str | None = None
) -> list[FaultSpec]:
    """The faults experiments inject, by function (dependency faults are charged to
    `dependency_function`, the readiness function by default)."""
    found: list[FaultSpec] = []
    for path in paths:
        try:
            exp = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: not a readable JSON experiment ({exc})") from None
        conf = _configuration(exp.get("configuration", {}) or {})
        for act in exp.get("method", []) or []:
            prov = act.get("provider", {}) if isinstance(act, dict) else {}
            func = str(prov.get("func", ""))
            args = {
                k: _substitute(v, conf) if isinstance(v, str) else v
                for k, v in (prov.get("arguments", {}) or {}).items()
            }
            fn = args.get("function_name") or args.get("lambda_function_arn")
            if func == "deploy_canary":
                kind = cast(FaultType, args.get("fault", "exception"))
                lat = float(args.get("latency_ms", 2000)) if kind == "latency" else None
                timeout = args.get("timeout_s")
                if lat is not None and isinstance(timeout, int | float) and lat >= timeout * 1000:
                    kind, lat = "timeout", None  # the work outlasts the shrunk timeout
                found.append(FaultSpec(path.name, kind, str(fn), lat))
            elif func in _OUR_FAULTS:
                kind = _OUR_FAULTS[func]
                if kind == "dependency":
                    fn = dependency_function or "readiness"
                latency = None
                if kind == "latency":
                    latency = float(args.get("latency_s", args.get("delay", 1))) * 1000
                found.append(FaultSpec(path.name, kind, str(fn), latency))
    return found
