"""The stack model of a deployed CloudFormation stack, for `gameday target discover`.

1. DescribeStacks (its parameters), ListStackResources (every page; DescribeStackResources
   returns only the first 100 resources) and GetTemplate (Processed: after SAM's transform).
2. The template is read with the deployed physical names (CloudFormation's generated names
   replace the model's `<stack>-<LogicalId>`), so routes and the alias <-> deployment group
   links come from the stack's own template.
3. Each resource's own API then gives its live state: the function's configuration, each
   alias's version, weights and provisioned concurrency, each deployment group's alarms and
   config, and the alarms' existence. A resource the template names but the API does not
   find is an error (the stack drifted), never silently dropped.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from .aws import Clients, aws_errors
from .config import Target, TargetKind
from .exceptions import ConfigError, TargetError

if TYPE_CHECKING:
    from .sandbox.serverless_stack import StackSpec

__all__ = ["discover_stack"]

# Types whose PhysicalResourceId is the name the model uses for them.
_NAMED = {
    "AWS::Lambda::Function",
    "AWS::CloudWatch::Alarm",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodeDeploy::DeploymentConfig",
}


def discover_stack(
    stack_name: str,
    *,
    region: str,
    endpoint_url: str | None,
    kind: TargetKind = "aws",
    profile: str | None = None,
    stage: str = "dev",
) -> StackSpec:
    from .sandbox.stacks import StackFileError
    from .sandbox.stacks.cloudformation import ReadOptions, read_cloudformation

    probe = Target(
        name=stack_name,
        kind=kind,
        environment="dev",
        region=region,
        api_url="http://127.0.0.1/",
        functions=(),
        endpoint_url=endpoint_url,
        profile=profile,
    )
    clients = Clients(probe)
    cfn = clients.client("cloudformation")
    where = f"stack {stack_name}"
    with aws_errors(where):
        (described,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
        resources = [
            r
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
            for r in page["StackResourceSummaries"]
        ]
        body: Any = cfn.get_template(StackName=stack_name, TemplateStage="Processed")[
            "TemplateBody"
        ]
    template = body if isinstance(body, dict) else None
    if template is None and str(body).lstrip()[:1] == "{":
        template = json.loads(body)
    if template is None:
        from .sandbox.stacks.yamlfile import load_yaml

        try:
            template = load_yaml(str(body), where)
        except StackFileError as exc:
            raise TargetError(" ".join(str(exc).split())) from None
    params = {
        p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])
    }
    names: dict[str, str] = {}
    for r in resources:
        kind_ = r["ResourceType"]
        if kind_ in _NAMED:
            names[r["LogicalResourceId"]] = r["PhysicalResourceId"]
        elif kind_ == "AWS::SNS::Topic":
            names[r["LogicalResourceId"]] = r["PhysicalResourceId"].rsplit(":", 1)[-1]
    declared = set(template.get("Parameters") or {})
    try:
        options = ReadOptions(
            where,
            stack_name,
            region=region,
            parameters={k: v for k, v in params.items() if k in declared},
            stage=stage,
        )
        spec = read_cloudformation(template, options, physical_names=names)
    except StackFileError as exc:
        raise ConfigError(" ".join(str(exc).split())) from None
    return _live(spec, clients, where)


def _order(template_aliases: tuple[Any, ...], name: str) -> tuple[int, str]:
    names = [a.name for a in template_aliases]
    return (names.index(name) if name in names else len(names), name)


def _live(spec: StackSpec, clients: Clients, where: str) -> StackSpec:
    """The model with each resource's live state from its own API."""
    from .sandbox.serverless_stack import AliasDef

    lam, cw, cd = clients.lambda_(), clients.cloudwatch(), clients.codedeploy()
    functions = []
    with aws_errors(where):
        for fn in spec.functions:
            conf = lam.get_function_configuration(FunctionName=fn.name)
            aliases = []
            for page in lam.get_paginator("list_aliases").paginate(FunctionName=fn.name):
                for a in page["Aliases"]:
                    weights = (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
                    provisioned = 0
                    try:
                        pc = lam.get_provisioned_concurrency_config(
                            FunctionName=fn.name, Qualifier=a["Name"]
                        )
                        provisioned = int(pc.get("RequestedProvisionedConcurrentExecutions", 0))
                    except botocore.exceptions.ClientError as exc:
                        code = exc.response.get("Error", {}).get("Code", "")
                        if code != "ProvisionedConcurrencyConfigNotFoundException":
                            raise
                    aliases.append(
                        AliasDef(
                            a["Name"],
                            a["FunctionVersion"],
                            tuple((str(v), float(w)) for v, w in weights.items()),
                            provisioned,
                        )
                    )
            functions.append(
                replace(
                    fn,
                    memory_mb=int(conf.get("MemorySize", fn.memory_mb)),
                    timeout_s=int(conf.get("Timeout", fn.timeout_s)),
                    runtime=str(conf.get("Runtime", fn.runtime)),
                    # the template's order first (as `target init` writes them)
                    aliases=tuple(sorted(aliases, key=lambda a: _order(fn.aliases, a.name))),
                )
            )
        names = [a.name for a in spec.alarms]
        found: set[str] = set()
        for i in range(0, len(names), 100):
            for alarm_page in cw.get_paginator("describe_alarms").paginate(
                AlarmNames=names[i : i + 100]
            ):
                found |= {a["AlarmName"] for a in alarm_page["MetricAlarms"]}
        missing = [n for n in names if n not in found]
        if missing:
            raise TargetError(f"{where}: alarms in the template not found: {', '.join(missing)}")
        groups = []
        for g in spec.groups:
            info = cd.get_deployment_group(
                applicationName=g.application or spec.application, deploymentGroupName=g.name
            )["deploymentGroupInfo"]
            alarm_cfg = info.get("alarmConfiguration") or {}
            alarms = (
                tuple(a["name"] for a in alarm_cfg.get("alarms") or [])
                if alarm_cfg.get("enabled")
                else ()
            )
            groups.append(
                replace(g, alarms=alarms, config=info.get("deploymentConfigName", g.config))
            )
    return replace(spec, functions=tuple(functions), groups=tuple(groups))
