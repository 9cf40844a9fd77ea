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
    "read_alarms",
    "read_target",
]


def alarm_from_api(a: Mapping[str, Any]) -> AlarmSpec:
    """From a describe_alarms MetricAlarms item."""
    name = str(a["AlarmName"])
    return _alarm(a, name, tuple((d["Name"], d["Value"]) for d in a.get("Dimensions", [])))


def _alarm(
    fields: Mapping[str, Any], name: str, dimensions: tuple[tuple[str, str], ...]
) -> AlarmSpec:
    """An alarm from fields named as PutMetricAlarm names them: a describe_alarms item and
    an AWS::CloudWatch::Alarm's Properties use the same names."""
    return AlarmSpec(
        name=name,
        namespace=str(fields.get("Namespace", "")),
        metric=str(fields.get("MetricName", "")),
        period=int(fields.get("Period", 60)),
        evaluation_periods=int(fields.get("EvaluationPeriods", 1)),
        threshold=float(fields.get("Threshold", 0)),
        comparison=str(fields.get("ComparisonOperator", "")),
        statistic=fields.get("Statistic"),
        extended_statistic=fields.get("ExtendedStatistic"),
        datapoints_to_alarm=fields.get("DatapointsToAlarm"),
        dimensions=dimensions,
        treat_missing=str(fields.get("TreatMissingData", "missing")),
    )


def read_target(
    clients: Clients, target: Target
) -> tuple[list[AlarmSpec], list[DeploymentGroupSpec]]:
    """The target's alarms and deployment groups — read by name, never "all": an account
    is shared, and another team's alarm must not fail this target's lint. Alarms are those
    the target file names plus those its deployment groups watch; every read paginates."""
    groups = _read_groups(clients, target)
    names = list(
        dict.fromkeys(
            [*target.alarms, *(a for f in target.functions for a in f.alarms)]
            + [a for g in groups for a in g.alarms]
        )
    )
    return read_alarms(clients, names), groups


def read_alarms(clients: Clients, names: Sequence[str]) -> list[AlarmSpec]:
    """These metric alarms (missing ones are left out), paginated, 100 names per call."""
    cw = clients.cloudwatch()
    alarms: list[AlarmSpec] = []
    with aws_errors("reading the target's alarms"):
        for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
            for page in cw.get_paginator("describe_alarms").paginate(
                AlarmNames=list(names[start : start + 100]), AlarmTypes=["MetricAlarm"]
            ):
                alarms += [alarm_from_api(cast(Mapping[str, Any], a)) for a in page["MetricAlarms"]]
    return alarms


def _read_groups(clients: Clients, target: Target) -> list[DeploymentGroupSpec]:
    if not target.application:
        return []
    cd = clients.codedeploy()
    app = target.application
    groups: list[DeploymentGroupSpec] = []
    try:
        with aws_errors(f"reading deployment groups of {app}"):
            names = list(target.deployment_groups)
            if not names:  # the target's own application: its groups are the target's
                for page in cd.get_paginator("list_deployment_groups").paginate(
                    applicationName=app
                ):
                    names += page["deploymentGroups"]
    except ResourceNotFound:
        return []
    for name in names:
        try:
            with aws_errors(f"reading deployment group {app}/{name}"):
                info = cd.get_deployment_group(applicationName=app, deploymentGroupName=name)[
                    "deploymentGroupInfo"
                ]
        except ResourceNotFound:
            continue
        alarm_cfg = info.get("alarmConfiguration", {})
        rollback = info.get("autoRollbackConfiguration", {})
        groups.append(
            DeploymentGroupSpec(
                name=name,
                application=app,
                config_name=str(info.get("deploymentConfigName", "")),
                alarms=tuple(a["name"] for a in alarm_cfg.get("alarms", [])),
                alarms_enabled=bool(alarm_cfg.get("enabled", False)),
                auto_rollback_events=tuple(rollback.get("events", []))
                if rollback.get("enabled")
                else (),
            )
        )
    return groups


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
        return _alarm(props, _substitute(str(props.get("AlarmName", logical_id)), v), dims)
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


def _configuration(conf: Mapping[str, Any], target: Target | None) -> dict[str, str]:
    """Plain values, `{"type": "env", "key": ..., "default": ...}` entries, and the names
    the experiment takes from the target file (chaos/names.py probes) resolved — the ones
    that need no AWS read (functions, aliases, groups, application, topic)."""
    out: dict[str, str] = {}
    for key, value in conf.items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, Mapping) and value.get("type") == "env":
            got = os.environ.get(str(value.get("key")), value.get("default"))
            if got is not None:
                out[key] = str(got)
        elif isinstance(value, Mapping) and value.get("type") == "probe" and target is not None:
            got = _offline_name(target, value.get("provider") or {})
            if got is not None:
                out[key] = got
    return out


def _offline_name(target: Target, provider: Mapping[str, Any]) -> str | None:
    from .names import MODULE

    if provider.get("module") != MODULE:
        return None
    func = provider.get("func")
    path = str((provider.get("arguments") or {}).get("path", ""))
    try:
        if func == "function_name":
            return target.function(path).name
        if func == "function_alias":
            return target.function(path).alias
        if func == "deployment_group":
            return target.function(path).deployment_group
    except ConfigError:
        return None
    if func == "application_name":
        return target.application
    if func == "alert_topic":
        return target.alert_topic
    return None


_OUR_FAULTS: dict[str, FaultType] = {
    "inject_latency": "latency",
    "inject_error": "error_body",
    "throttle": "throttle",
    "dependency_down": "dependency",
    "dependency_slow": "dependency",
    "deny_hosts": "dependency",
    "add_latency": "latency",  # chaostoolkit-aws
    "add_error": "error_body",
}


def faults_from_experiments(
    paths: Sequence[Path], dependency_function: str | None = None, target: Target | None = None
) -> list[FaultSpec]:
    """The faults experiments inject, by function (dependency faults are charged to
    `dependency_function`, the readiness function by default). Names the experiments take
    from the target file are resolved from `target`."""
    found: list[FaultSpec] = []
    for path in paths:
        try:
            exp = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: not a readable JSON experiment ({exc})") from None
        conf = _configuration(exp.get("configuration", {}) or {}, target)
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
