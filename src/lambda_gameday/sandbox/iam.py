"""IAM enforcing mode: the harness's credentials hold only the policy it was given.

`SandboxConfig(iam_policy=PATH)` / `gameday sandbox --iam POLICYFILE`. Every AWS API call on
the sandbox endpoint — including the ones the sandbox answers itself (Invoke, alias and
configuration changes), which moto's own access control would never see — is checked
against the policy's statements before it is answered; a refused call gets AWS's
`AccessDeniedException` (`AccessDenied` for query-protocol services), HTTP 403, naming the
action and resource. The sandbox's own platform roles (provisioning, the functions'
execution role, CodeDeploy's service role) sign with the key `sandbox` and are exempt.

What is evaluated (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-
logic.html, single account, identity-based policy only): an explicit Deny wins; otherwise
an Allow must match. Action and NotAction, Resource and NotResource with `*`/`?` wildcards.
Conditions: StringEquals / StringLike on `cloudwatch:namespace` (PutMetricData) are
evaluated; a statement with any other condition never matches (fails closed).
Resource ARNs are derived for Lambda functions (qualified when a qualifier is given),
CloudWatch alarms, CodeDeploy applications and deployment groups, SSM parameters, SNS
topics, SQS queues and log groups; other calls are checked against `*`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from .awsapi import ApiCall, aws_error
from .errors import SandboxError

__all__ = ["IamEnforcer", "IamPolicy", "Statement", "identify"]

EXEMPT_KEYS = frozenset({"sandbox"})
_PREFIX = {"monitoring": "cloudwatch"}  # signing name -> IAM service prefix, where they differ
_ACTION = {  # operation -> IAM action, where they differ
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeAsync",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
}
_FREE = frozenset({("sts", "GetCallerIdentity")})  # needs no permission on AWS
_KEY_RE = re.compile(r"Credential=([^/]+)/")


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    # (operator, key lower-cased, values); None: a condition the twin cannot evaluate
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] | None = ()

    def matches(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        if self.conditions is None or not _conditions_hold(self.conditions, context or {}):
            return False
        if self.actions and not _any(self.actions, action, fold=True):
            return False
        if self.not_actions and _any(self.not_actions, action, fold=True):
            return False
        if self.resources and not _any(self.resources, resource):
            return False
        return not (self.not_resources and _any(self.not_resources, resource))


_OPERATORS = {"StringEquals", "StringLike"}


def _parse_conditions(raw: object) -> tuple[tuple[str, str, tuple[str, ...]], ...] | None:
    """The conditions the twin evaluates: StringEquals / StringLike on a key it knows the
    value of. Anything else: None, and the statement never matches (fails closed)."""
    if not raw:
        return ()
    if not isinstance(raw, dict):
        return None
    out = []
    for op, block in raw.items():
        if op not in _OPERATORS or not isinstance(block, dict):
            return None
        for key, values in block.items():
            if str(key).lower() not in _CONTEXT_KEYS:
                return None
            try:
                out.append((str(op), str(key).lower(), _strings(values)))
            except ValueError:
                return None
    return tuple(out)


def _conditions_hold(
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...], context: Mapping[str, str]
) -> bool:
    # IAM: every operator and key of a Condition must hold; a key absent from the request
    # makes String* operators false; the values of one key are ORed
    for op, key, values in conditions:
        value = context.get(key)
        if value is None:
            return False
        if op == "StringEquals" and value not in values:
            return False
        if op == "StringLike" and not any(fnmatch.fnmatchcase(value, v) for v in values):
            return False
    return True


def _any(patterns: tuple[str, ...], value: str, *, fold: bool = False) -> bool:
    if fold:
        value = value.lower()
        return any(fnmatch.fnmatchcase(value, p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        raise ValueError("must be a string or a list of strings")
    return tuple(items)


@dataclass(frozen=True)
class IamPolicy:
    statements: tuple[Statement, ...]
    source: str = "<policy>"

    @classmethod
    def load(cls, path: str | Path) -> IamPolicy:
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SandboxError(f"{p}: IAM policy file not found") from None
        except (OSError, ValueError) as exc:
            raise SandboxError(f"{p}: not a readable JSON policy ({exc})") from None
        return cls.parse(doc, str(p))

    @classmethod
    def parse(cls, doc: object, source: str = "<policy>") -> IamPolicy:
        raw = doc.get("Statement") if isinstance(doc, dict) else None
        items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
        if not items:
            raise SandboxError(f"{source}: a policy needs a Statement list")
        out = []
        for i, st in enumerate(items):
            if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
                raise SandboxError(f"{source}: Statement[{i}] needs Effect Allow or Deny")
            try:
                statement = Statement(
                    effect=str(st["Effect"]),
                    actions=_strings(st.get("Action")),
                    not_actions=_strings(st.get("NotAction")),
                    resources=_strings(st.get("Resource")),
                    not_resources=_strings(st.get("NotResource")),
                    conditions=_parse_conditions(st.get("Condition")),
                )
            except ValueError as exc:
                raise SandboxError(f"{source}: Statement[{i}]: {exc}") from None
            if not (statement.actions or statement.not_actions):
                raise SandboxError(f"{source}: Statement[{i}] needs Action or NotAction")
            out.append(statement)
        return cls(tuple(out), source)

    def allows(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        matching = [s for s in self.statements if s.matches(action, resource, context)]
        if any(s.effect == "Deny" for s in matching):
            return False
        return any(s.effect == "Allow" for s in matching)


# -- which action on which resource a call is -------------------------------------------


def _uri_regex(uri: str) -> str:
    """`/2015-03-31/functions/{FunctionName}` -> a regex capturing FunctionName."""
    out = []
    for part in re.split(r"(\{\w+\+?\})", uri):
        if part.startswith("{") and part.endswith("}"):
            out.append(f"(?P<{part.strip('{}+')}>[^/]+)")
        else:
            out.append(re.escape(part))
    return "".join(out)


@cache
def _rest_routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path regex, operation) for a REST service, from botocore's own model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = str(http.get("requestUri", "")).split("?", 1)[0]
        routes.append((str(http.get("method", "GET")), re.compile(f"^{_uri_regex(uri)}/?$"), name))
    # literal paths before templated ones: /functions beats /functions/{FunctionName}
    routes.sort(key=lambda r: r[1].pattern.count("(?P<"))
    return tuple(routes)


def _rest_operation(call: ApiCall) -> tuple[str, dict[str, str]] | None:
    service = "lambda" if call.service == "lambda" else None
    if service is None:
        return None
    for method, pattern, name in _rest_routes(service):
        if method == call.method:
            m = pattern.match(call.path)
            if m is not None:
                return name, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


GroupOf = Callable[[str], "tuple[str, str] | None"]  # deployment id -> (application, group)


def identify(
    call: ApiCall, account: str, region: str, group_of: GroupOf | None = None
) -> tuple[str, tuple[str, ...]] | None:
    """(IAM action, the resource ARNs or `*` it is authorized on) of a call; None when the
    twin cannot tell. A call naming several resources (DescribeAlarms with AlarmNames) is
    allowed only when every one of them is; no resource: the action needs no permission."""
    params: dict[str, Any] = {}
    if call.operation is not None:
        op = call.operation
        try:
            params = call.params() if call.protocol in ("json", "query") else {}
        except ValueError:
            params = {}
    else:
        found = _rest_operation(call)
        if found is None:
            return None
        op, params = found[0], dict(found[1])
        params.update({k: v for k, v in call.request.args.items()})
    prefix = _PREFIX.get(call.service, call.service)
    action = f"{prefix}:{_ACTION.get((call.service, op), op)}"
    if (call.service, op) in _FREE:
        return action, ()
    return action, _resources(call.service, op, params, account, region, group_of)


# condition keys the twin can fill from a request (Service Authorization Reference)
_CONTEXT_KEYS = frozenset({"cloudwatch:namespace"})


def request_context(call: ApiCall) -> dict[str, str]:
    """The request's values of the condition keys the twin evaluates."""
    if call.service != "monitoring" or call.operation != "PutMetricData":
        return {}
    try:
        namespace = call.params().get("Namespace")
    except ValueError:
        return {}
    return {"cloudwatch:namespace": str(namespace)} if namespace else {}


def _resources(
    service: str,
    op: str,
    p: dict[str, Any],
    account: str,
    region: str,
    group_of: GroupOf | None = None,
) -> tuple[str, ...]:
    ids = p.get("deploymentIds") or ([p["deploymentId"]] if p.get("deploymentId") else [])
    if service == "codedeploy" and isinstance(ids, list) and ids and group_of is not None:
        # Get/BatchGet/StopDeployment are authorized on the deployment's group (Service
        # Authorization Reference, CodeDeploy: resource type deploymentgroup)
        groups = [group_of(str(i)) for i in ids]
        return tuple(
            f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{g[0]}/{g[1]}" if g else "*"
            for g in groups
        )
    if service == "monitoring":
        # DescribeAlarms' resource type is the alarm (Service Authorization Reference,
        # CloudWatch): named alarms are each authorized; an unnamed listing reads them all
        names = p.get("AlarmNames") or ([p["AlarmName"]] if p.get("AlarmName") else [])
        if not names:  # the query protocol: AlarmNames.member.1, .2, ...
            members = [k for k in p if k.startswith("AlarmNames.member.")]
            names = [p[k] for k in sorted(members, key=lambda k: int(k.rsplit(".", 1)[1]))]
        if isinstance(names, list) and names:
            return tuple(f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}" for n in names)
        return ("*",)
    return (_resource(service, op, p, account, region),)


def _resource(service: str, op: str, p: dict[str, Any], account: str, region: str) -> str:
    if service == "lambda" and p.get("FunctionName"):
        name = str(p["FunctionName"])
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        base, _, qualifier = name.partition(":")
        qualifier = str(p.get("Qualifier") or qualifier or p.get("Name") or "")
        arn = f"arn:aws:lambda:{region}:{account}:function:{base}"
        aliased = op in ("GetAlias", "UpdateAlias", "DeleteAlias")
        return (
            f"{arn}:{qualifier}"
            if qualifier and (aliased or "Qualifier" in p or ":" in name)
            else arn
        )
    if service == "codedeploy":
        app, group = p.get("applicationName"), p.get("deploymentGroupName")
        if app and group:
            return f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{app}/{group}"
        if app:
            return f"arn:aws:codedeploy:{region}:{account}:application:{app}"
        return "*"
    if service == "ssm" and p.get("Name"):
        name = str(p["Name"])
        path = name if name.startswith("/") else "/" + name
        return f"arn:aws:ssm:{region}:{account}:parameter{path}"
    if service == "sns" and p.get("TopicArn"):
        return str(p["TopicArn"])
    if service == "sqs" and p.get("QueueName"):  # CreateQueue, GetQueueUrl
        return f"arn:aws:sqs:{region}:{account}:{p['QueueName']}"
    if service == "sqs" and p.get("QueueUrl"):
        return f"arn:aws:sqs:{region}:{account}:{str(p['QueueUrl']).rstrip('/').rsplit('/', 1)[-1]}"
    if service == "iam" and p.get("RoleName"):
        return f"arn:aws:iam::{account}:role/{p['RoleName']}"
    if service == "iam" and p.get("PolicyArn"):
        return str(p["PolicyArn"])
    if service == "logs" and p.get("logGroupName"):
        return f"arn:aws:logs:{region}:{account}:log-group:{p['logGroupName']}:*"
    return "*"


class IamEnforcer:
    """`AwsApi.limit(enforcer)`: refuses calls the policy does not allow."""

    def __init__(self, policy: IamPolicy, account: str, region: str):
        self.policy, self.account, self.region = policy, account, region
        self.enabled = False  # on once the sandbox's own stack is provisioned
        self.deployment_group: GroupOf | None = None
        self.denied: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, call: ApiCall) -> Response | None:
        if not self.enabled:
            return None
        m = _KEY_RE.search(call.request.headers.get("Authorization", ""))
        if m is not None and m.group(1) in EXEMPT_KEYS:
            return None
        found = identify(call, self.account, self.region, self.deployment_group)
        if found is None:
            return None  # a call the twin cannot name (an S3 path, say): not judged here
        action, resources = found
        context = request_context(call)
        refused = [r for r in resources if not self.policy.allows(action, r, context)]
        if not refused:
            return None
        resource = refused[0]
        with self._lock:
            self.denied.append((action, resource))
        message = (
            f"User: arn:aws:iam::{self.account}:user/gameday is not authorized to perform: "
            f"{action} on resource: {resource} because no identity-based policy allows the "
            f"{action} action"
        )
        code = "AccessDenied" if call.protocol == "query" else "AccessDeniedException"
        return aws_error(call, 403, code, message)
