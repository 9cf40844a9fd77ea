"""The twin's CloudFormation: CreateStack builds a template's stack with the same readers and
provisioning as `gameday sandbox --stack`, so `gameday target discover` can be tested against
a deployed stack. moto's own CloudFormation creates neither Lambda aliases, alarms nor
CodeDeploy resources, so the twin answers these operations itself:

CreateStack (TemplateBody, Parameters), DescribeStacks, ListStackResources (pages of 100,
NextToken), DescribeStackResources (the first 100, as AWS documents), GetTemplate
(Original / Processed). Refusals, never more permissive than AWS: a stack name in use
(AlreadyExistsException), a template the readers refuse (ValidationError with the place in
the file), a resource type the twin cannot create, a named function that exists already,
an unknown stack (ValidationError "Stack with id X does not exist"). Creation is synchronous:
the stack is CREATE_COMPLETE when CreateStack returns (a `stack_create_complete` waiter
returns on its first poll). Other operations (UpdateStack, DeleteStack, ...) go to moto.
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from ..awsapi import ApiCall, aws_error
from ..serverless_stack import StackSpec
from .cloudformation import HANDLED_TYPES, QUIET_TYPES, ReadOptions, read_cloudformation
from .errors import StackFileError
from .provision import function_names
from .sam import is_sam, transform_sam
from .yamlfile import load_yaml

if TYPE_CHECKING:
    from ..core import Sandbox

__all__ = ["CloudFormationTwin"]

_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
_PAGE = 100
_NOT_CREATED = frozenset(
    {
        "AWS::CodeDeploy::DeploymentConfig",  # custom configs: not provisioned by the twin
    }
)


@dataclass
class _Stack:
    name: str
    stack_id: str
    created: str
    parameters: dict[str, str]
    original: str
    processed: dict[str, Any]
    resources: list[tuple[str, str, str]]  # (logical id, type, physical id)


class CloudFormationTwin:
    def __init__(
        self,
        sandbox: Sandbox,
        clients: Callable[[], dict[str, Any]],
        provision_stack: Callable[[StackSpec], list[str]],
    ):
        self.sandbox = sandbox
        self._clients = clients
        self._provision = provision_stack
        self._stacks: dict[str, _Stack] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        self.sandbox.api.intercept("cloudformation", self)

    def __call__(self, call: ApiCall) -> Response | None:
        handler = {
            "CreateStack": self._create,
            "DescribeStacks": self._describe,
            "ListStackResources": self._list_resources,
            "DescribeStackResources": self._describe_resources,
            "GetTemplate": self._get_template,
        }.get(call.operation or "")
        if handler is None:
            return None
        return handler(call, call.params())

    # -- operations ---------------------------------------------------------------------

    def _create(self, call: ApiCall, p: dict[str, Any]) -> Response:
        name = str(p.get("StackName", ""))
        body = p.get("TemplateBody")
        if not name or body is None:
            return _invalid(
                call,
                "StackName and TemplateBody are required (TemplateURL is not "
                "supported by the sandbox)",
            )
        params = {
            str(p[f"Parameters.member.{i}.ParameterKey"]): str(
                p.get(f"Parameters.member.{i}.ParameterValue", "")
            )
            for i in range(1, 201)
            if f"Parameters.member.{i}.ParameterKey" in p
        }
        with self._lock:
            if name in self._stacks:
                return aws_error(
                    call, 400, "AlreadyExistsException", f"Stack [{name}] already exists"
                )
            cfg = self.sandbox.config
            try:
                doc = load_yaml(str(body), name)
                if not isinstance(doc, dict):
                    raise StackFileError(f"{name}: the template must be a mapping")
                options = ReadOptions(name, name, cfg.region, cfg.account_id, params, cfg.stage)
                template = doc
                if is_sam(doc):
                    template, _ = transform_sam(doc, options)
                spec = read_cloudformation(template, options)
            except StackFileError as exc:
                return _invalid(call, f"Template format error: {exc}")
            cannot = sorted(
                {
                    t
                    for _, t, _ in spec.resources
                    if t not in HANDLED_TYPES and t not in QUIET_TYPES and t not in _OTHERS
                }
                | {t for _, t, _ in spec.resources if t in _NOT_CREATED}
            )
            if cannot:
                return _invalid(
                    call, f"the sandbox cannot create resources of type {', '.join(cannot)}"
                )
            existing = function_names(self._clients()["lambda"])
            for fn in spec.functions:
                if fn.name in existing:
                    return _invalid(
                        call,
                        f"Resource of type 'AWS::Lambda::Function' with identifier '{fn.name}' "
                        "already exists.",
                    )
            stack_id = (
                f"arn:aws:cloudformation:{cfg.region}:{cfg.account_id}:stack/{name}/"
                + hashlib.sha1(name.encode()).hexdigest()[:8]
            )
            self._provision(spec)
            physical = {lg: _physical(lg, t, ref) for lg, t, ref in spec.resources}
            for lg, t, _ in spec.resources:
                if t in _OTHERS:
                    props = (template.get("Resources") or {}).get(lg, {}).get("Properties") or {}
                    physical[lg] = _OTHERS[t](self._clients(), f"{name}-{lg}", props)
            self._stacks[name] = _Stack(
                name=name,
                stack_id=stack_id,
                created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                parameters=dict(spec.parameters),
                original=str(body),
                processed=template,
                resources=[(lg, t, physical[lg]) for lg, t, _ in spec.resources],
            )
        return _ok("CreateStack", f"<StackId>{escape(stack_id)}</StackId>")

    def _stack(self, call: ApiCall, p: dict[str, Any]) -> _Stack | Response:
        name = str(p.get("StackName", ""))
        for stack in self._stacks.values():
            if name in (stack.name, stack.stack_id):
                return stack
        return _invalid(call, f"Stack with id {name} does not exist")

    def _describe(self, call: ApiCall, p: dict[str, Any]) -> Response:
        if "StackName" in p:
            found = self._stack(call, p)
            if isinstance(found, Response):
                return found
            stacks = [found]
        else:
            stacks = list(self._stacks.values())
        members = "".join(
            "<member>"
            f"<StackName>{escape(s.name)}</StackName><StackId>{escape(s.stack_id)}</StackId>"
            f"<CreationTime>{s.created}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>"
            "<Parameters>"
            + "".join(
                f"<member><ParameterKey>{escape(k)}</ParameterKey>"
                f"<ParameterValue>{escape(v)}</ParameterValue></member>"
                for k, v in s.parameters.items()
            )
            + "</Parameters></member>"
            for s in stacks
        )
        return _ok("DescribeStacks", f"<Stacks>{members}</Stacks>")

    def _list_resources(self, call: ApiCall, p: dict[str, Any]) -> Response:
        found = self._stack(call, p)
        if isinstance(found, Response):
            return found
        start = int(str(p.get("NextToken", "0"))) if str(p.get("NextToken", "0")).isdigit() else 0
        page = found.resources[start : start + _PAGE]
        members = "".join(
            f"<member><LogicalResourceId>{escape(lg)}</LogicalResourceId>"
            f"<PhysicalResourceId>{escape(phys)}</PhysicalResourceId>"
            f"<ResourceType>{escape(t)}</ResourceType><ResourceStatus>CREATE_COMPLETE"
            f"</ResourceStatus><LastUpdatedTimestamp>{found.created}</LastUpdatedTimestamp>"
            "</member>"
            for lg, t, phys in page
        )
        token = (
            f"<NextToken>{start + _PAGE}</NextToken>"
            if start + _PAGE < len(found.resources)
            else ""
        )
        return _ok(
            "ListStackResources",
            f"<StackResourceSummaries>{members}</StackResourceSummaries>{token}",
        )

    def _describe_resources(self, call: ApiCall, p: dict[str, Any]) -> Response:
        found = self._stack(call, p)
        if isinstance(found, Response):
            return found
        members = "".join(
            f"<member><StackName>{escape(found.name)}</StackName>"
            f"<StackId>{escape(found.stack_id)}</StackId>"
            f"<LogicalResourceId>{escape(lg)}</LogicalResourceId>"
            f"<PhysicalResourceId>{escape(phys)}</PhysicalResourceId>"
            f"<ResourceType>{escape(t)}</ResourceType><Timestamp>{found.created}</Timestamp>"
            "<ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>"
            for lg, t, phys in found.resources[:_PAGE]
        )
        return _ok("DescribeStackResources", f"<StackResources>{members}</StackResources>")

    def _get_template(self, call: ApiCall, p: dict[str, Any]) -> Response:
        found = self._stack(call, p)
        if isinstance(found, Response):
            return found
        processed = str(p.get("TemplateStage", "Original")) == "Processed"
        body = json.dumps(found.processed) if processed else found.original
        return _ok(
            "GetTemplate",
            f"<TemplateBody>{escape(body)}</TemplateBody>"
            "<StagesAvailable><member>Original</member><member>Processed</member>"
            "</StagesAvailable>",
        )


def _queue(clients: dict[str, Any], default_name: str, props: dict[str, Any]) -> str:
    name = str(props.get("QueueName") or default_name)
    return str(clients["sqs"].create_queue(QueueName=name)["QueueUrl"])


# Types outside the stack model that the twin still creates (through its own API), so a
# template using them deploys; their PhysicalResourceId is what AWS reports.
_OTHERS: dict[str, Callable[[dict[str, Any], str, dict[str, Any]], str]] = {
    "AWS::SQS::Queue": _queue,
}


def _physical(logical: str, kind: str, ref: str) -> str:
    """What CloudFormation reports as the PhysicalResourceId (mostly what Ref returns)."""
    if ":" in ref and ref.split(":", 1)[0] in ("restapi", "resource", "httpapi", "integration"):
        return hashlib.sha1(ref.encode()).hexdigest()[:10]
    return ref


def _ok(operation: str, result: str) -> Response:
    xml = (
        f'<{operation}Response xmlns="{_NS}"><{operation}Result>{result}</{operation}Result>'
        f"<ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )
    return Response(xml, status=200, content_type="text/xml")


def _invalid(call: ApiCall, message: str) -> Response:
    return aws_error(call, 400, "ValidationError", escape(" ".join(message.split())))
