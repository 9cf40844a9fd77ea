"""Read a CloudFormation template (what `cdk synth` and the SAM transform emit) into the
stack model.

Read: AWS::Lambda::Function / Version / Alias (RoutingConfig, ProvisionedConcurrencyConfig,
the CodeDeployLambdaAliasUpdate update policy that ties an alias to its deployment group and
hooks), AWS::CodeDeploy::Application / DeploymentGroup / DeploymentConfig,
AWS::CloudWatch::Alarm, AWS::SNS::Topic / Subscription, API Gateway REST (RestApi with an
OpenAPI Body, or Resource + Method with an AWS_PROXY integration) and HTTP APIs
(ApiGatewayV2 Api with a Body, or Route + Integration). Parameters take their Default or an
override; resources whose Condition is false are skipped.

Read and without effect in the twin (no finding): IAM roles and policies, Lambda
permissions, API deployments and stages, log groups, CDK metadata. Every other type is listed
once in `StackSpec.unsupported` and ignored.

Physical names: a resource's own name property when it has one, else `<stack>-<LogicalId>`
(CloudFormation would add a random suffix; the model keeps names reproducible).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..deployments.configs import DeploymentConfig
from ..serverless_stack import (
    AlarmDef,
    AliasDef,
    ApiKind,
    FunctionDef,
    GroupDef,
    RouteDef,
    StackFormat,
    StackSpec,
    TopicDef,
)
from .errors import StackFileError
from .intrinsics import Resolver, ResourceValue

__all__ = ["HANDLED_TYPES", "QUIET_TYPES", "ReadOptions", "read_cloudformation"]

QUIET_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Permission",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Account",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Deployment",
        "AWS::Logs::LogGroup",
        "AWS::CDK::Metadata",
        "AWS::SNS::TopicPolicy",
    }
)
_LAMBDA_ARN = re.compile(r"arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:/]+)(?::([^:/]+))?")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_CODEDEPLOY_DEFAULT = "CodeDeployDefault.LambdaAllAtOnce"


@dataclass(frozen=True)
class ReadOptions:
    """What a template is read with: `source` names it in messages; the stack name, Region
    and account fill the pseudo parameters and ARNs; `parameters` override its Parameters'
    defaults; `stage` is the stack's stage (SAM's transform and the model read them too)."""

    source: str
    stack_name: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    parameters: Mapping[str, str] = field(default_factory=dict)
    stage: str = "dev"


@dataclass
class _Fn:
    logical: str
    name: str
    handler: str
    runtime: str
    memory: int
    timeout: int
    environment: tuple[tuple[str, str], ...]
    code_path: str | None
    versions: list[str] = field(default_factory=list)  # Version logical ids, in order
    aliases: list[AliasDef] = field(default_factory=list)
    routes: list[RouteDef] = field(default_factory=list)


@dataclass(frozen=True)
class _AliasLink:
    function: str
    alias: str
    application: str | None
    group: str | None
    pre_hook: str | None
    post_hook: str | None
    where: str


class _Reader:
    def __init__(
        self,
        template: Mapping[str, Any],
        options: ReadOptions,
        code_paths: Mapping[str, str],
        physical_names: Mapping[str, str],
    ):
        self.t = template
        self.physical_names = physical_names
        self.stage = options.stage
        self._stages: dict[str, str] = {}  # API Ref token -> its stage name
        self.source = source = options.source
        self.stack_name = stack_name = options.stack_name
        self.region = region = options.region
        self.account = account_id = options.account_id
        self.code_paths = code_paths
        resources = template.get("Resources")
        if not isinstance(resources, Mapping) or not resources:
            raise StackFileError(f"{source}: Resources: a template needs at least one resource")
        for logical, res in resources.items():
            if not isinstance(res, Mapping) or not isinstance(res.get("Type"), str):
                raise StackFileError(f"{source}: Resources.{logical}.Type is required")
        self.resources: Mapping[str, Mapping[str, Any]] = resources
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/0",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": "",
        }
        self.params = self._parameters(options.parameters)
        self.r = Resolver(source, template, self.params, pseudo, self._resource_value)
        self._values: dict[str, ResourceValue] = {}
        self._naming: set[str] = set()

    # -- parameters ---------------------------------------------------------------------

    def _parameters(self, overrides: Mapping[str, str]) -> dict[str, str | list[str]]:
        declared = self.t.get("Parameters") or {}
        if not isinstance(declared, Mapping):
            raise StackFileError(f"{self.source}: Parameters must be a mapping")
        for name in overrides:
            if name not in declared:
                raise StackFileError(
                    f"{self.source}: Parameters.{name}: --param {name} names no parameter "
                    f"(declared: {', '.join(declared) or 'none'})"
                )
        values: dict[str, str | list[str]] = {}
        for name, spec in declared.items():
            spec = spec if isinstance(spec, Mapping) else {}
            if name in overrides:
                raw: object = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                raise StackFileError(
                    f"{self.source}: Parameters.{name}: no Default; give one with "
                    f"--param {name}=VALUE"
                )
            allowed = spec.get("AllowedValues")
            if isinstance(allowed, list) and str(raw) not in [str(a) for a in allowed]:
                raise StackFileError(
                    f"{self.source}: Parameters.{name}: {raw!r} is not one of its AllowedValues"
                )
            kind = str(spec.get("Type", "String"))
            if kind.startswith("List<") or kind == "CommaDelimitedList":
                values[name] = [s.strip() for s in str(raw).split(",")]
            else:
                values[name] = str(raw).lower() if isinstance(raw, bool) else str(raw)
        return values

    # -- names and Ref values -------------------------------------------------------------

    def active(self, logical: str) -> bool:
        cond = self.resources[logical].get("Condition")
        return cond is None or self.r.condition(cond, f"Resources.{logical}.Condition")

    def props(self, logical: str) -> Mapping[str, Any]:
        props = self.resources[logical].get("Properties") or {}
        if not isinstance(props, Mapping):
            raise StackFileError(f"{self.source}: Resources.{logical}.Properties must be a mapping")
        return props

    def need(self, logical: str, key: str) -> Any:
        props = self.props(logical)
        if key not in props:
            raise StackFileError(f"{self.source}: Resources.{logical}.Properties.{key} is required")
        return props[key]

    def where(self, logical: str, key: str) -> str:
        return f"Resources.{logical}.Properties.{key}"

    def _own_name(self, logical: str, key: str) -> str:
        props = self.props(logical)
        if logical in self.physical_names:  # a deployed stack's own name for it
            return self.physical_names[logical]
        if key in props:
            return self.r.string(props[key], self.where(logical, key))
        return f"{self.stack_name}-{logical}"

    def _resource_value(self, logical: str, path: str) -> ResourceValue | None:
        if logical not in self.resources:
            return None
        if logical in self._values:
            return self._values[logical]
        if logical in self._naming:
            raise StackFileError(f"{self.source}: {path}: {logical} refers to itself")
        self._naming.add(logical)
        try:
            value = self._compute_value(logical)
        finally:
            self._naming.discard(logical)
        self._values[logical] = value
        return value

    def _compute_value(self, logical: str) -> ResourceValue:
        kind = str(self.resources[logical]["Type"])
        region, account = self.region, self.account
        if kind == "AWS::Lambda::Function":
            name = self._own_name(logical, "FunctionName")
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            return ResourceValue(name, {"Arn": arn})
        if kind == "AWS::Lambda::Version":
            fn = self.function_name(self.need(logical, "FunctionName"), logical, "FunctionName")
            number = str(self.version_number(logical))
            arn = f"arn:aws:lambda:{region}:{account}:function:{fn}:{number}"
            return ResourceValue(arn, {"Version": number})
        if kind == "AWS::Lambda::Alias":
            fn = self.function_name(self.need(logical, "FunctionName"), logical, "FunctionName")
            alias = self.r.string(self.need(logical, "Name"), self.where(logical, "Name"))
            arn = f"arn:aws:lambda:{region}:{account}:function:{fn}:{alias}"
            return ResourceValue(arn, {"AliasArn": arn})
        if kind == "AWS::CloudWatch::Alarm":
            name = self._own_name(logical, "AlarmName")
            return ResourceValue(
                name, {"Arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"}
            )
        if kind == "AWS::SNS::Topic":
            name = self._own_name(logical, "TopicName")
            arn = f"arn:aws:sns:{region}:{account}:{name}"
            return ResourceValue(arn, {"TopicName": name, "TopicArn": arn})
        if kind == "AWS::CodeDeploy::Application":
            return ResourceValue(self._own_name(logical, "ApplicationName"), {})
        if kind == "AWS::CodeDeploy::DeploymentGroup":
            return ResourceValue(self._own_name(logical, "DeploymentGroupName"), {})
        if kind == "AWS::CodeDeploy::DeploymentConfig":
            return ResourceValue(self._own_name(logical, "DeploymentConfigName"), {})
        if kind == "AWS::ApiGateway::RestApi":
            return ResourceValue(f"restapi:{logical}", {"RootResourceId": f"root:{logical}"})
        if kind == "AWS::ApiGateway::Resource":
            return ResourceValue(f"resource:{logical}", {"ResourceId": f"resource:{logical}"})
        if kind == "AWS::ApiGatewayV2::Api":
            return ResourceValue(f"httpapi:{logical}", {"ApiId": f"httpapi:{logical}"})
        if kind == "AWS::ApiGatewayV2::Integration":
            return ResourceValue(f"integration:{logical}", {})
        name = f"{self.stack_name}-{logical}"
        return ResourceValue(name, {"Arn": f"arn:aws:cloudformation:::{name}"})

    def function_name(self, node: Any, logical: str, key: str) -> str:
        """A FunctionName property: a name, a function ARN or a partial ARN."""
        raw = self.r.string(node, self.where(logical, key))
        found = _LAMBDA_ARN.fullmatch(raw)
        return found.group(1) if found else raw.split(":")[0]

    def version_number(self, logical: str) -> int:
        fn = self.function_name(self.need(logical, "FunctionName"), logical, "FunctionName")
        same = [
            other
            for other, res in self.resources.items()
            if res["Type"] == "AWS::Lambda::Version"
            and self.function_name(self.props(other).get("FunctionName"), other, "FunctionName")
            == fn
        ]
        return same.index(logical) + 1

    # -- the model ------------------------------------------------------------------------

    def read(self, fmt: StackFormat) -> StackSpec:
        by_type: dict[str, list[str]] = {}
        unsupported: list[str] = []
        for logical, res in self.resources.items():
            kind = str(res["Type"])
            if not self.active(logical):
                continue
            by_type.setdefault(kind, []).append(logical)
            if kind not in HANDLED_TYPES and kind not in QUIET_TYPES and kind not in unsupported:
                unsupported.append(kind)

        functions: dict[str, _Fn] = {}
        for logical in by_type.get("AWS::Lambda::Function", []):
            functions[logical] = self._function(logical)
        by_name = {f.name: f for f in functions.values()}
        for logical in by_type.get("AWS::Lambda::Version", []):
            fn = self.function_name(self.need(logical, "FunctionName"), logical, "FunctionName")
            if fn not in by_name:
                raise StackFileError(
                    f"{self.source}: {self.where(logical, 'FunctionName')}: function {fn!r} "
                    "is not defined in this template"
                )
            by_name[fn].versions.append(logical)
        links: list[_AliasLink] = []
        for logical in by_type.get("AWS::Lambda::Alias", []):
            links.extend(self._alias(logical, by_name))

        topics = {lg: self._topic(lg) for lg in by_type.get("AWS::SNS::Topic", [])}
        for logical in by_type.get("AWS::SNS::Subscription", []):
            arn = self.r.string(self.need(logical, "TopicArn"), self.where(logical, "TopicArn"))
            name = arn.rsplit(":", 1)[-1]
            for lg, topic in topics.items():
                if topic.name == name:
                    protocol = self.r.string(
                        self.need(logical, "Protocol"), self.where(logical, "Protocol")
                    )
                    endpoint = self.r.string(
                        self.props(logical).get("Endpoint", ""), self.where(logical, "Endpoint")
                    )
                    topics[lg] = TopicDef(topic.name, (*topic.subscriptions, (protocol, endpoint)))
        topic_names = {
            f"arn:aws:sns:{self.region}:{self.account}:{t.name}": t.name for t in topics.values()
        }
        alarms = [self._alarm(lg, topic_names) for lg in by_type.get("AWS::CloudWatch::Alarm", [])]

        kinds: list[ApiKind] = []
        self._stages = self._api_stages(by_type)
        self._rest_routes(by_type, by_name, kinds)
        self._http_routes(by_type, by_name, kinds)

        configs = [self._config(lg) for lg in by_type.get("AWS::CodeDeploy::DeploymentConfig", [])]
        apps = [
            self._resource_value(lg, f"Resources.{lg}")
            for lg in by_type.get("AWS::CodeDeploy::Application", [])
        ]
        groups: list[GroupDef] = []
        warnings: list[str] = []
        for logical in by_type.get("AWS::CodeDeploy::DeploymentGroup", []):
            group = self._group(logical, links)
            if group is None:
                warnings.append(
                    f"{self.source}: Resources.{logical}: no alias names this deployment group "
                    "in its CodeDeployLambdaAliasUpdate policy; not created"
                )
                continue
            groups.append(group)
        application = next((a.ref for a in apps if a is not None), f"{self.stack_name}")
        return StackSpec(
            application=application,
            functions=tuple(
                FunctionDef(
                    key=f.logical,
                    name=f.name,
                    handler=f.handler,
                    http=tuple((r.method, r.path) for r in f.routes),
                    memory_mb=f.memory,
                    timeout_s=f.timeout,
                    environment=f.environment,
                    runtime=f.runtime,
                    routes=tuple(f.routes),
                    aliases=tuple(f.aliases),
                    versions=len(f.versions),
                    code_path=f.code_path,
                )
                for f in functions.values()
            ),
            topics=tuple(topics.values()),
            alarms=tuple(alarms),
            groups=tuple(groups),
            configs=tuple(configs),
            warnings=tuple(warnings),
            format=fmt,
            name=self.stack_name,
            source=self.source,
            stage=self.stage,
            parameters=tuple(
                (k, ",".join(v) if isinstance(v, list) else v) for k, v in self.params.items()
            ),
            unsupported=tuple(unsupported),
            api_kinds=tuple(dict.fromkeys(kinds)),
            resources=tuple(
                (lg, str(self.resources[lg]["Type"]), self._ref_of(lg))
                for kind_list in by_type.values()
                for lg in kind_list
            ),
        )

    def _ref_of(self, logical: str) -> str:
        value = self._resource_value(logical, f"Resources.{logical}")
        assert value is not None
        return value.ref

    def _function(self, logical: str) -> _Fn:
        props = self.props(logical)
        self.need(logical, "Code")
        self.need(logical, "Role")
        package = str(props.get("PackageType", "Zip"))
        if package == "Zip":
            handler = self.r.string(self.need(logical, "Handler"), self.where(logical, "Handler"))
            runtime = self.r.string(self.need(logical, "Runtime"), self.where(logical, "Runtime"))
        else:
            handler, runtime = "", "image"
        env_node = (props.get("Environment") or {}).get("Variables") or {}
        env = self.r.value(env_node, self.where(logical, "Environment.Variables"))
        name = self._resource_value(logical, f"Resources.{logical}")
        assert name is not None
        metadata = self.resources[logical].get("Metadata") or {}
        code_path = self.code_paths.get(logical) or (
            str(metadata["aws:asset:path"]) if "aws:asset:path" in metadata else None
        )
        return _Fn(
            logical=logical,
            name=name.ref,
            handler=handler,
            runtime=runtime,
            memory=int(
                self.r.string(props.get("MemorySize", 128), self.where(logical, "MemorySize"))
            ),
            timeout=int(self.r.string(props.get("Timeout", 3), self.where(logical, "Timeout"))),
            environment=tuple((str(k), str(v)) for k, v in dict(env).items()),
            code_path=code_path,
        )

    def _alias(self, logical: str, by_name: Mapping[str, _Fn]) -> list[_AliasLink]:
        fn_name = self.function_name(self.need(logical, "FunctionName"), logical, "FunctionName")
        fn = by_name.get(fn_name)
        if fn is None:
            raise StackFileError(
                f"{self.source}: {self.where(logical, 'FunctionName')}: function {fn_name!r} "
                "is not defined in this template"
            )
        alias = self.r.string(self.need(logical, "Name"), self.where(logical, "Name"))
        version = self.r.string(
            self.need(logical, "FunctionVersion"), self.where(logical, "FunctionVersion")
        )
        props = self.props(logical)
        weights: list[tuple[str, float]] = []
        routing = self.r.value(
            props.get("RoutingConfig") or {}, self.where(logical, "RoutingConfig")
        )
        for i, w in enumerate(routing.get("AdditionalVersionWeights") or []):
            where = self.where(logical, f"RoutingConfig.AdditionalVersionWeights[{i}]")
            if (
                not isinstance(w, Mapping)
                or "FunctionVersion" not in w
                or "FunctionWeight" not in w
            ):
                raise StackFileError(
                    f"{self.source}: {where}: needs FunctionVersion and FunctionWeight"
                )
            weights.append(
                (str(w["FunctionVersion"]).rsplit(":", 1)[-1], float(w["FunctionWeight"]))
            )
        pc = self.r.value(
            props.get("ProvisionedConcurrencyConfig") or {},
            self.where(logical, "ProvisionedConcurrencyConfig"),
        )
        fn.aliases.append(
            AliasDef(
                name=alias,
                version=version.rsplit(":", 1)[-1],
                weights=tuple(weights),
                provisioned=int(pc.get("ProvisionedConcurrentExecutions", 0) or 0),
            )
        )
        policy = (self.resources[logical].get("UpdatePolicy") or {}).get(
            "CodeDeployLambdaAliasUpdate"
        )
        if not isinstance(policy, Mapping):
            return []
        where = f"Resources.{logical}.UpdatePolicy.CodeDeployLambdaAliasUpdate"
        resolved = self.r.value(policy, where)

        def hook(key: str) -> str | None:
            value = resolved.get(key)
            if value is None:
                return None
            found = _LAMBDA_ARN.fullmatch(str(value))
            return found.group(1) if found else str(value)

        return [
            _AliasLink(
                function=fn.name,
                alias=alias,
                application=str(resolved["ApplicationName"])
                if "ApplicationName" in resolved
                else None,
                group=str(resolved["DeploymentGroupName"])
                if "DeploymentGroupName" in resolved
                else None,
                pre_hook=hook("BeforeAllowTrafficHook"),
                post_hook=hook("AfterAllowTrafficHook"),
                where=where,
            )
        ]

    def _topic(self, logical: str) -> TopicDef:
        value = self._resource_value(logical, f"Resources.{logical}")
        assert value is not None
        subs = []
        for i, s in enumerate(self.props(logical).get("Subscription") or []):
            s = self.r.value(s, self.where(logical, f"Subscription[{i}]"))
            if not isinstance(s, Mapping) or "Protocol" not in s or "Endpoint" not in s:
                raise StackFileError(
                    f"{self.source}: {self.where(logical, f'Subscription[{i}]')}: needs "
                    "Protocol and Endpoint"
                )
            subs.append((str(s["Protocol"]), str(s["Endpoint"])))
        return TopicDef(value.attributes["TopicName"], tuple(subs))

    def _alarm(self, logical: str, topic_names: Mapping[str, str]) -> AlarmDef:
        props = self.props(logical)
        if "Metrics" in props:
            raise StackFileError(
                f"{self.source}: {self.where(logical, 'Metrics')}: metric-math alarms are not "
                "supported; use MetricName/Namespace/Statistic"
            )

        def get(key: str) -> str:
            return self.r.string(self.need(logical, key), self.where(logical, key))

        name = self._resource_value(logical, f"Resources.{logical}")
        assert name is not None
        dims = self.r.value(props.get("Dimensions") or [], self.where(logical, "Dimensions"))
        actions = self.r.value(props.get("AlarmActions") or [], self.where(logical, "AlarmActions"))
        try:
            statistic = (
                get("Statistic") if "ExtendedStatistic" not in props else get("ExtendedStatistic")
            )
            return AlarmDef(
                name=name.ref,
                metric=get("MetricName"),
                statistic=statistic,
                period=int(get("Period")),
                evaluation_periods=int(get("EvaluationPeriods")),
                threshold=float(get("Threshold")),
                comparison=get("ComparisonOperator"),
                namespace=get("Namespace"),
                treat_missing_data=str(props.get("TreatMissingData", "missing")),
                dimensions=tuple((str(d["Name"]), str(d["Value"])) for d in dims),
                description=str(props.get("AlarmDescription", "")),
                topics=tuple(topic_names.get(str(a), str(a)) for a in actions),
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise StackFileError(f"{self.source}: Resources.{logical}: {exc}") from None

    def _config(self, logical: str) -> DeploymentConfig:
        name = self._resource_value(logical, f"Resources.{logical}")
        assert name is not None
        routing = self.r.value(
            self.need(logical, "TrafficRoutingConfig"), self.where(logical, "TrafficRoutingConfig")
        )
        kind = str(routing.get("Type", "AllAtOnce"))
        detail = routing.get("TimeBasedCanary") or routing.get("TimeBasedLinear") or {}
        pct = detail.get("CanaryPercentage", detail.get("LinearPercentage", 0))
        interval = detail.get("CanaryInterval", detail.get("LinearInterval", 0))
        return DeploymentConfig(name.ref, kind, int(pct), int(interval))  # type: ignore[arg-type]

    def _group(self, logical: str, links: list[_AliasLink]) -> GroupDef | None:
        name = self._resource_value(logical, f"Resources.{logical}")
        assert name is not None
        app = self.r.string(
            self.need(logical, "ApplicationName"), self.where(logical, "ApplicationName")
        )
        self.need(logical, "ServiceRoleArn")
        props = self.props(logical)
        config = self.r.string(
            props.get("DeploymentConfigName", _CODEDEPLOY_DEFAULT),
            self.where(logical, "DeploymentConfigName"),
        )
        alarm_cfg = self.r.value(
            props.get("AlarmConfiguration") or {}, self.where(logical, "AlarmConfiguration")
        )
        alarms = (
            tuple(str(a["Name"]) for a in alarm_cfg.get("Alarms") or [])
            if alarm_cfg.get("Enabled", True) not in (False, "false")
            else ()
        )
        rollback = self.r.value(
            props.get("AutoRollbackConfiguration") or {},
            self.where(logical, "AutoRollbackConfiguration"),
        )
        events: tuple[str, ...] = ()
        if rollback.get("Enabled") in (True, "true"):
            events = tuple(str(e) for e in rollback.get("Events") or [])
        link = next(
            (lk for lk in links if lk.group == name.ref and lk.application in (None, app)), None
        )
        if link is None:
            return None
        return GroupDef(
            name=name.ref,
            function=link.function,
            alias=link.alias,
            alarms=alarms,
            config=config,
            pre_traffic_hook=link.pre_hook,
            post_traffic_hook=link.post_hook,
            application=app,
            where=f"Resources.{logical}",
            rollback_events=events,
        )

    # -- routes ---------------------------------------------------------------------------

    def _target(self, uri: str, where: str, by_name: Mapping[str, _Fn]) -> tuple[_Fn, str | None]:
        found = _LAMBDA_ARN.search(uri)
        if found is None or found.group(1) not in by_name:
            raise StackFileError(
                f"{self.source}: {where}: the integration does not invoke a function of this "
                f"template ({uri[:80]})"
            )
        qualifier = found.group(2)
        return by_name[found.group(1)], None if qualifier in (None, "$LATEST") else qualifier

    def _api_stages(self, by_type: Mapping[str, list[str]]) -> dict[str, str]:
        """API (its Ref token) -> the stage it is deployed to: a REST API's
        AWS::ApiGateway::Stage (or its Deployment's StageName), an HTTP API's
        AWS::ApiGatewayV2::Stage (`$default` serves at the root). The first one listed
        when an API has several: the twin serves one stage per API."""
        stages: dict[str, str] = {}
        for kind, api_key in (
            ("AWS::ApiGateway::Stage", "RestApiId"),
            ("AWS::ApiGateway::Deployment", "RestApiId"),
            ("AWS::ApiGatewayV2::Stage", "ApiId"),
        ):
            for logical in by_type.get(kind, []):
                props = self.props(logical)
                if "StageName" not in props or api_key not in props:
                    continue
                api = self.r.string(props[api_key], self.where(logical, api_key))
                name = self.r.string(props["StageName"], self.where(logical, "StageName"))
                stages.setdefault(api, name)
        return stages

    def _stage(self, api_token: str) -> str | None:
        return self._stages.get(api_token)

    def _body_routes(
        self, logical: str, kind: ApiKind, by_name: Mapping[str, _Fn], api_token: str
    ) -> None:
        """The routes of an API's inline OpenAPI `Body` (none without one)."""
        body = self.props(logical).get("Body")
        if not isinstance(body, Mapping):
            return
        where = self.where(logical, "Body")
        resolved = self.r.value(body, where)
        stage = self._stage(api_token)
        for path, ops in (resolved.get("paths") or {}).items():
            if not isinstance(ops, Mapping):
                continue
            for method, op in ops.items():
                integ = (
                    op.get("x-amazon-apigateway-integration") if isinstance(op, Mapping) else None
                )
                if (
                    not isinstance(integ, Mapping)
                    or str(integ.get("type", "")).lower() != "aws_proxy"
                ):
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else str(method).upper()
                fn, alias = self._target(
                    str(integ.get("uri", "")), f"{where}.paths.{path}", by_name
                )
                fn.routes.append(RouteDef(verb, str(path), alias, kind, stage))

    def _rest_routes(
        self, by_type: Mapping[str, list[str]], by_name: Mapping[str, _Fn], kinds: list[ApiKind]
    ) -> None:
        for logical in by_type.get("AWS::ApiGateway::RestApi", []):
            kinds.append("REST")
            self._body_routes(logical, "REST", by_name, f"restapi:{logical}")
        for logical in by_type.get("AWS::ApiGateway::Method", []):
            props = self.props(logical)
            method = self.r.string(
                self.need(logical, "HttpMethod"), self.where(logical, "HttpMethod")
            ).upper()
            integ = self.r.value(props.get("Integration") or {}, self.where(logical, "Integration"))
            if str(integ.get("Type", "")).upper() != "AWS_PROXY":
                continue
            resource = self.r.string(
                self.need(logical, "ResourceId"), self.where(logical, "ResourceId")
            )
            path = self._rest_path(resource, self.where(logical, "ResourceId"))
            fn, alias = self._target(
                str(integ.get("Uri", "")), self.where(logical, "Integration.Uri"), by_name
            )
            api = self.r.string(props.get("RestApiId", ""), self.where(logical, "RestApiId"))
            verb = method if method in _METHODS else "ANY"
            fn.routes.append(RouteDef(verb, path, alias, "REST", self._stage(api)))

    def _rest_path(self, token: str, where: str, depth: int = 0) -> str:
        if token.startswith("root:"):
            return "/"
        if not token.startswith("resource:") or depth > 30:
            raise StackFileError(f"{self.source}: {where}: not a resource of a RestApi here")
        logical = token.split(":", 1)[1]
        part = self.r.string(self.need(logical, "PathPart"), self.where(logical, "PathPart"))
        parent = self.r.string(self.need(logical, "ParentId"), self.where(logical, "ParentId"))
        base = self._rest_path(parent, self.where(logical, "ParentId"), depth + 1)
        return base.rstrip("/") + "/" + part

    def _http_routes(
        self, by_type: Mapping[str, list[str]], by_name: Mapping[str, _Fn], kinds: list[ApiKind]
    ) -> None:
        for logical in by_type.get("AWS::ApiGatewayV2::Api", []):
            props = self.props(logical)
            if str(props.get("ProtocolType", "HTTP")) != "HTTP":
                continue
            kinds.append("HTTP")
            self._body_routes(logical, "HTTP", by_name, f"httpapi:{logical}")
        integrations: dict[str, str] = {}
        for logical in by_type.get("AWS::ApiGatewayV2::Integration", []):
            props = self.props(logical)
            if str(props.get("IntegrationType", "")).upper() == "AWS_PROXY":
                integrations[f"integrations/integration:{logical}"] = self.r.string(
                    self.need(logical, "IntegrationUri"), self.where(logical, "IntegrationUri")
                )
        for logical in by_type.get("AWS::ApiGatewayV2::Route", []):
            key = self.r.string(self.need(logical, "RouteKey"), self.where(logical, "RouteKey"))
            target = self.r.string(
                self.props(logical).get("Target", ""), self.where(logical, "Target")
            )
            if target not in integrations or " " not in key:
                continue  # $default or a non-Lambda route
            method, path = key.split(" ", 1)
            fn, alias = self._target(integrations[target], self.where(logical, "Target"), by_name)
            api = self.r.string(self.props(logical).get("ApiId", ""), self.where(logical, "ApiId"))
            fn.routes.append(RouteDef(method.upper(), path, alias, "HTTP", self._stage(api)))


HANDLED_TYPES = frozenset(
    {
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::CodeDeploy::DeploymentConfig",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
    }
)


def read_cloudformation(
    template: Mapping[str, Any],
    options: ReadOptions,
    *,
    code_paths: Mapping[str, str] | None = None,
    fmt: StackFormat = "cloudformation",
    physical_names: Mapping[str, str] | None = None,
) -> StackSpec:
    return _Reader(template, options, code_paths or {}, physical_names or {}).read(fmt)
