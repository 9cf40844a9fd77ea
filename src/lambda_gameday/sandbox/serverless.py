"""Build the sandbox's stack from a Serverless Framework file.

Understood: `service`, `provider.stage` / `provider.region`, `functions` (handler,
memorySize, timeout, environment, `http` events), `custom.deploymentSettings` (and a
per-function `deploymentSettings`) as serverless-plugin-canary-deployments reads it
(type, alias, preTrafficHook, postTrafficHook, alarms), and `resources.Resources` of type
AWS::CloudWatch::Alarm and AWS::SNS::Topic. Variables `${self:...}`, `${opt:stage}`,
`${env:NAME, 'default'}` with fallbacks, and the `!Ref` / `!GetAtt` / `!Sub` tags are
resolved. Everything else is ignored (plugins, other resource types).

The plugin's behaviour is reproduced: one CodeDeploy application `<service>-<stage>` and one
deployment group per function, wired to the listed alarms, with automatic rollback on
DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM and deployment config
`CodeDeployDefault.Lambda<type>`. Alarm periods are taken as written (the file's 60 s
periods mean minutes-long alarms even in fast timing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .serverless_stack import (
    AlarmDef,
    AliasDef,
    FunctionDef,
    GroupDef,
    RouteDef,
    StackSpec,
    TopicDef,
)
from .stacks.errors import StackFileError

__all__ = ["ServerlessFileError", "load_serverless", "parse_serverless"]

_VAR = re.compile(r"\$\{([^{}]+)\}")


class ServerlessFileError(StackFileError):
    """The Serverless file cannot be read or lacks what the sandbox needs."""


class _Loader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node)
        else:
            value = loader.construct_mapping(node)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short, _long in (("!Ref", "Ref"), ("!GetAtt", "Fn::GetAtt"), ("!Sub", "Fn::Sub")):
    _Loader.add_constructor(_short, _tag(_long))


def load_serverless(
    path: str | os.PathLike[str], *, stage: str | None = None, faithful: bool = False
) -> StackSpec:
    """Read and resolve a serverless.yml into the stack the control loops provision."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ServerlessFileError(f"{p}: cannot read ({exc.strerror})") from None
    return parse_serverless(text, source=str(p), stage=stage)


def parse_serverless(
    text: str, *, source: str = "serverless.yml", stage: str | None = None
) -> StackSpec:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ServerlessFileError(f"{source}: not valid YAML ({_first_line(exc)})") from None
    if not isinstance(doc, Mapping):
        raise ServerlessFileError(f"{source}: the top level must be a mapping")
    service_raw = doc.get("service")
    if isinstance(service_raw, Mapping):
        service_raw = service_raw.get("name")
    if not isinstance(service_raw, str) or not service_raw:
        raise ServerlessFileError(f"{source}: 'service' is required")
    resolver = _Resolver(doc, source, {"stage": stage} if stage else {})
    resolved = resolver.resolve(doc)
    service = str(
        resolved["service"] if isinstance(resolved["service"], str) else resolved["service"]["name"]
    )
    provider = resolved.get("provider") or {}
    stg = stage or str(provider.get("stage") or "dev")
    prefix = f"{service}-{stg}"

    fn_section = resolved.get("functions") or {}
    if not isinstance(fn_section, Mapping):
        raise ServerlessFileError(f"{source}: functions: must be a mapping")
    custom = resolved.get("custom") or {}
    default_settings = custom.get("deploymentSettings") or {}

    def settings_of(key: str) -> Mapping[str, Any]:
        own = (fn_section.get(key) or {}).get("deploymentSettings") or {}
        return {**default_settings, **own} if (default_settings or own) else {}

    functions: list[FunctionDef] = []
    for key, body in fn_section.items():
        body = body or {}
        if not isinstance(body, Mapping):
            raise ServerlessFileError(f"{source}: functions.{key}: must be a mapping")
        settings = settings_of(str(key))
        # The canary plugin points the API at the alias it deploys; without it the Serverless
        # Framework integrates the unqualified function ($LATEST).
        alias = str(settings.get("alias", "Live")) if settings else None
        routes = tuple(_routes(body.get("events") or [], f"functions.{key}.events", alias, source))
        functions.append(
            FunctionDef(
                key=str(key),
                name=str(body.get("name") or f"{prefix}-{key}"),
                handler=str(body.get("handler", "")),
                http=tuple((r.method, r.path) for r in routes),
                memory_mb=int(body.get("memorySize", provider.get("memorySize", 1024))),
                timeout_s=int(body.get("timeout", provider.get("timeout", 6))),
                environment=tuple(
                    (str(k), str(v))
                    for k, v in {
                        **(provider.get("environment") or {}),
                        **(body.get("environment") or {}),
                    }.items()
                ),
                runtime=str(body.get("runtime", provider.get("runtime", "python3.12"))),
                routes=routes,
                aliases=(AliasDef(alias),) if alias else (),
                versions=1,
                code_path=_code_path(str(body.get("handler", ""))),
            )
        )

    resources = ((resolved.get("resources") or {}).get("Resources")) or {}
    topics: dict[str, TopicDef] = {}
    unsupported: list[str] = []
    for logical, res in resources.items():
        kind = str(res.get("Type")) if isinstance(res, Mapping) else "?"
        if kind not in ("AWS::SNS::Topic", "AWS::CloudWatch::Alarm") and kind not in unsupported:
            unsupported.append(kind)
        if isinstance(res, Mapping) and res.get("Type") == "AWS::SNS::Topic":
            props = res.get("Properties") or {}
            subs = tuple(
                (str(s.get("Protocol")), str(s.get("Endpoint")))
                for s in props.get("Subscription") or []
                if isinstance(s, Mapping)
            )
            topics[logical] = TopicDef(str(props.get("TopicName") or f"{prefix}-{logical}"), subs)
    alarms: dict[str, AlarmDef] = {}
    for logical, res in resources.items():
        if isinstance(res, Mapping) and res.get("Type") == "AWS::CloudWatch::Alarm":
            alarms[logical] = _alarm(logical, res.get("Properties") or {}, topics, source)
    alarms.update(_alerts(custom.get("alerts"), fn_section, functions, prefix, stg, source))
    # aws-alerts creates a topic given by name (an ARN names an existing one).
    for alarm in alarms.values():
        for t in alarm.topics:
            if not t.startswith("arn:") and t not in {x.name for x in topics.values()}:
                topics[t] = TopicDef(t)

    groups: list[GroupDef] = []
    warnings: list[str] = []
    by_key = {f.key: f for f in functions}
    for f in functions:
        settings = settings_of(f.key)
        if not settings:
            continue
        where = (
            f"functions.{f.key}.deploymentSettings"
            if (fn_section.get(f.key) or {}).get("deploymentSettings")
            else "custom.deploymentSettings"
        )
        kind = str(settings.get("type", "AllAtOnce"))
        names = []
        for ref in settings.get("alarms") or []:
            if isinstance(ref, Mapping) and "Ref" in ref:
                ref = ref["Ref"]
            if ref in alarms:
                names.append(alarms[str(ref)].name)
            else:
                warnings.append(
                    f"{source}: {where}.alarms: {ref!r} is not a resource in this file; taken "
                    "as an alarm name"
                )
                names.append(str(ref))

        def hook(name: object) -> str | None:
            if not name:
                return None
            return by_key[str(name)].name if str(name) in by_key else str(name)

        groups.append(
            GroupDef(
                name=f"{prefix}-{f.key}",
                function=f.name,
                alias=str(settings.get("alias", "Live")),
                alarms=tuple(names),
                config=kind
                if kind.startswith("CodeDeployDefault.")
                else f"CodeDeployDefault.Lambda{kind}",
                pre_traffic_hook=hook(settings.get("preTrafficHook")),
                post_traffic_hook=hook(settings.get("postTrafficHook")),
                where=where,
            )
        )
    return StackSpec(
        application=prefix,
        functions=tuple(functions),
        topics=tuple(topics.values()),
        alarms=tuple(alarms.values()),
        groups=tuple(groups),
        warnings=tuple(warnings),
        format="serverless",
        name=prefix,
        source=source,
        stage=stg,
        unsupported=tuple(unsupported),
        api_kinds=tuple(dict.fromkeys(r.api for f in functions for r in f.routes)),
    )


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


def _routes(events: object, where: str, alias: str | None, source: str) -> list[RouteDef]:
    """`http` (REST) and `httpApi` (HTTP API) events, short (`GET hello`) or long form."""
    if not isinstance(events, list):
        raise ServerlessFileError(f"{source}: {where}: must be a list")
    routes: list[RouteDef] = []
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            continue
        for kind, api in (("http", "REST"), ("httpApi", "HTTP")):
            if kind not in event:
                continue
            spec = event[kind]
            place = f"{where}[{i}].{kind}"
            if isinstance(spec, str):
                if spec.strip() == "*":
                    method, path = "ANY", "/"
                else:
                    parts = spec.split()
                    if len(parts) != 2:
                        raise ServerlessFileError(
                            f"{source}: {place}: {spec!r} is not `METHOD path`"
                        )
                    method, path = parts
            elif isinstance(spec, Mapping):
                if "path" not in spec:
                    raise ServerlessFileError(f"{source}: {place}.path is required")
                method, path = (
                    str(spec.get("method", "get" if kind == "http" else "*")),
                    str(spec["path"]),
                )
            else:
                raise ServerlessFileError(f"{source}: {place}: must be a string or a mapping")
            method = "ANY" if method == "*" else method.upper()
            if method not in _METHODS:
                raise ServerlessFileError(f"{source}: {place}: unknown method {method!r}")
            routes.append(RouteDef(method, "/" + path.lstrip("/"), alias, api))  # type: ignore[arg-type]
    return routes


def _code_path(handler: str) -> str | None:
    """`src/hooks/pre.handler` -> `src/hooks/pre` (the module; the extension is the
    runtime's)."""
    module = handler.rsplit(".", 1)[0] if "." in handler else ""
    return module or None


# serverless-plugin-aws-alerts' built-in definitions (src/defaults/definitions.js).
_ALERT_DEFAULTS: dict[str, dict[str, object]] = {
    "functionInvocations": {"metric": "Invocations", "threshold": 100, "statistic": "Sum"},
    "functionErrors": {"metric": "Errors", "threshold": 10, "statistic": "Sum"},
    "functionDuration": {"metric": "Duration", "threshold": 500, "statistic": "p50"},
    "functionThrottles": {"metric": "Throttles", "threshold": 50, "statistic": "Sum"},
}


def _normalised(name: str) -> str:
    name = name.replace("-", "Dash").replace("_", "Underscore")
    return name[:1].upper() + name[1:]


def _alerts(
    alerts: object,
    fn_section: Mapping[str, Any],
    functions: list[FunctionDef],
    prefix: str,
    stage: str,
    source: str,
) -> dict[str, AlarmDef]:
    """serverless-plugin-aws-alerts: `custom.alerts.alarms` (or `function`) for every function
    plus each function's own `alarms`, keyed by the plugin's logical ids
    (`<Function><AlarmName>Alarm`). Dimensions are the plugin's: FunctionName only."""
    if not isinstance(alerts, Mapping) and not any(
        isinstance(b, Mapping) and b.get("alarms") for b in fn_section.values()
    ):
        return {}
    cfg: Mapping[str, Any] = alerts if isinstance(alerts, Mapping) else {}
    stages = cfg.get("stages")
    if isinstance(stages, list) and stage not in stages:
        return {}
    definitions: dict[str, dict[str, object]] = {
        k: {
            "namespace": "AWS/Lambda",
            "period": 60,
            "evaluationPeriods": 1,
            "comparisonOperator": "GreaterThanThreshold",
            **v,
        }
        for k, v in _ALERT_DEFAULTS.items()
    }
    for name, body in (cfg.get("definitions") or {}).items():
        definitions[str(name)] = {**definitions.get(str(name), {}), **dict(body or {})}
    topics = cfg.get("topics") or {}
    alarm_topic = topics.get("alarm") if isinstance(topics, Mapping) else None
    if isinstance(alarm_topic, Mapping):
        alarm_topic = alarm_topic.get("topic")
    everyone = list(cfg.get("alarms") or []) + list(cfg.get("function") or [])
    out: dict[str, AlarmDef] = {}
    for f in functions:
        body = fn_section.get(f.key) or {}
        for i, entry in enumerate([*everyone, *(body.get("alarms") or [])]):
            where = f"functions.{f.key}.alarms[{i}]"
            if isinstance(entry, str):
                name, spec = entry, definitions.get(entry)
                if spec is None:
                    raise ServerlessFileError(
                        f"{source}: {where}: no alarm definition {entry!r} (custom.alerts."
                        "definitions or the plugin's built-ins)"
                    )
            elif isinstance(entry, Mapping) and "name" in entry:
                name = str(entry["name"])
                spec = {**definitions.get(name, {}), **dict(entry)}
            else:
                raise ServerlessFileError(f"{source}: {where}: a definition name or a mapping")
            for key in ("metric", "threshold", "statistic"):
                if key not in spec:
                    raise ServerlessFileError(f"{source}: {where}.{key} is required")
            logical = f"{_normalised(f.key)}{_normalised(name)}Alarm"
            stat = str(spec["statistic"])
            out[logical] = AlarmDef(
                name=f"{prefix}-{f.key}-{name}",
                metric=str(spec["metric"]),
                statistic=stat,
                period=int(str(spec.get("period", 60))),
                evaluation_periods=int(str(spec.get("evaluationPeriods", 1))),
                threshold=float(str(spec["threshold"])),
                comparison=str(spec.get("comparisonOperator", "GreaterThanThreshold")),
                namespace=str(spec.get("namespace", "AWS/Lambda")),
                treat_missing_data=str(spec.get("treatMissingData", "missing")),
                dimensions=(("FunctionName", f.name),),
                description=str(spec.get("description", "")),
                topics=(str(alarm_topic),) if alarm_topic else (),
            )
    return out


def _alarm(
    logical: str, props: Mapping[str, Any], topics: Mapping[str, TopicDef], source: str
) -> AlarmDef:
    def need(key: str) -> Any:
        if key not in props:
            raise ServerlessFileError(
                f"{source}: resources.Resources.{logical}.Properties.{key} is required"
            )
        return props[key]

    actions = []
    for action in props.get("AlarmActions") or []:
        ref = action.get("Ref") if isinstance(action, Mapping) else None
        if ref is not None:
            if ref not in topics:
                raise ServerlessFileError(
                    f"{source}: {logical}.AlarmActions references {ref!r}, which is not an "
                    "AWS::SNS::Topic in this file"
                )
            actions.append(topics[ref].name)
        else:
            actions.append(str(action))
    try:
        return AlarmDef(
            name=str(props.get("AlarmName") or logical),
            metric=str(need("MetricName")),
            statistic=str(need("Statistic")),
            period=int(need("Period")),
            evaluation_periods=int(need("EvaluationPeriods")),
            threshold=float(need("Threshold")),
            comparison=str(need("ComparisonOperator")),
            namespace=str(need("Namespace")),
            treat_missing_data=str(props.get("TreatMissingData", "missing")),
            dimensions=tuple(
                (str(d["Name"]), str(d["Value"])) for d in props.get("Dimensions") or []
            ),
            description=str(props.get("AlarmDescription", "")),
            topics=tuple(actions),
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise ServerlessFileError(f"{source}: {logical}: {exc}") from None


class _Resolver:
    def __init__(self, doc: Mapping[str, Any], source: str, opts: Mapping[str, str]):
        self.doc, self.source, self.opts = doc, source, opts

    def resolve(self, value: Any, depth: int = 0) -> Any:
        if depth > 20:
            raise ServerlessFileError(f"{self.source}: variables nest too deep (a cycle?)")
        if isinstance(value, Mapping):
            return {k: self.resolve(v, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, depth) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _VAR.fullmatch(value.strip())
        if whole:
            return self.resolve(self._lookup(whole.group(1), depth), depth + 1)
        return _VAR.sub(
            lambda m: str(self.resolve(self._lookup(m.group(1), depth), depth + 1)), value
        )

    def _lookup(self, expr: str, depth: int) -> Any:
        options = [o.strip() for o in _split_fallbacks(expr)]
        for option in options:
            if option[:1] in ("'", '"') and option[-1:] == option[:1]:
                return option[1:-1]
            try:
                found = self._source(option)
            except KeyError:
                continue
            if found is not None:
                return found
        raise ServerlessFileError(f"{self.source}: cannot resolve variable ${{{expr}}}")

    def _source(self, ref: str) -> Any:
        kind, _, path = ref.partition(":")
        if kind == "self":
            node: Any = self.doc
            for part in path.split("."):
                if not isinstance(node, Mapping) or part not in node:
                    raise KeyError(ref)
                node = node[part]
            return node
        if kind == "env":
            return os.environ.get(path)
        if kind == "opt":
            return self.opts.get(path)
        raise KeyError(ref)


def _split_fallbacks(expr: str) -> list[str]:
    parts, depth, quote, cur = [], 0, "", ""
    for ch in expr:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return parts


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
