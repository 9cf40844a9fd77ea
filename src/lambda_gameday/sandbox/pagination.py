"""List and Describe calls answer one page at a time, as AWS's do (moto returns everything).

* CloudWatch DescribeAlarms: MaxRecords 1-100, default 50; NextToken
  (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
* Lambda ListFunctions: MaxItems 1-50, default 50; Marker / NextMarker
  (docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html).
* Lambda ListVersionsByFunction: at most 50 a page "even if you set the number higher";
  Marker / NextMarker (docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html).
* CloudWatch DescribeAlarmHistory: MaxRecords 1-100, default 100; NextToken
  (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html);
  answered by the alarm engine (alarms/engine.py), paged with `page` here.
* CodeDeploy ListApplications and ListDeploymentGroups: nextToken, no page size in the API.
  AWS does not document how many a page holds; the twin answers 100, as ListDeployments
  does (deployments/controller.py), so a harness reading one page is caught.
* SNS ListTopics and ListSubscriptionsByTopic: moto already answers 100 a page, as AWS
  documents.

Tokens are opaque: a client must pass back what it got, never compute one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import TypeVar

from werkzeug.wrappers import Response

from .awsapi import ApiCall, AwsApi, aws_error

__all__ = ["CODEDEPLOY_PAGE", "Paginator", "encode_token", "page", "token_offset"]

T = TypeVar("T")
CODEDEPLOY_PAGE = 100
_VERSIONS_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/versions$")
_REGION_RE = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/[^/]+/aws4_request")


def encode_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": scope}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def token_offset(token: object, scope: str) -> int | None:
    """Where a page request starts: 0 without a token, the token's offset if this query
    (`scope`) issued it, None for any other token (the caller answers AWS's refusal)."""
    if not token:
        return 0
    try:
        doc = json.loads(base64.urlsafe_b64decode(str(token).encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(doc, dict) or doc.get("s") != scope or not isinstance(doc.get("o"), int):
        return None
    return int(doc["o"])


def page(items: Sequence[T], offset: int, size: int, scope: str) -> tuple[list[T], str | None]:
    chunk = list(items[offset : offset + size])
    more = offset + size < len(items)
    return chunk, encode_token(offset + size, scope) if more else None


def cloudwatch_page_request(
    call: ApiCall, params: dict[str, object], operation: str, default: int
) -> tuple[int, int, str] | Response:
    """(offset, size, scope) of a CloudWatch Describe* page request, or AWS's refusal: a
    MaxRecords outside 1-100 (ValidationError) or a token from another query
    (InvalidNextToken). The scope is the query without its paging keys."""
    size = params.get("MaxRecords", default)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        return aws_error(
            call,
            400,
            "ValidationError",
            f"1 validation error detected: Value '{size}' at 'maxRecords' failed to satisfy "
            "constraint: Member must have value less than or equal to 100",
        )
    scope = f"{operation}:" + json.dumps(
        {k: v for k, v in params.items() if k not in ("NextToken", "MaxRecords")},
        sort_keys=True,
    )
    offset = token_offset(params.get("NextToken"), scope)
    if offset is None:
        return aws_error(call, 400, "InvalidNextToken", "The service returned an invalid token.")
    return offset, size, scope


class Paginator:
    """Interceptor for the calls above: moto answers in full, this answers one page."""

    def __init__(self, api: AwsApi, account_id: str):
        self.api = api
        self.account_id = account_id

    def cloudwatch(self, call: ApiCall) -> Response | None:
        if call.operation != "DescribeAlarms" or call.protocol != "json":
            return None
        params = call.params()
        request = cloudwatch_page_request(call, params, "DescribeAlarms", 50)
        if isinstance(request, Response):
            return request
        offset, size, scope = request
        status, headers, body = self.api.call_moto(call)
        if status != 200:
            return None
        doc = json.loads(body)
        alarms = sorted(doc.get("MetricAlarms", []), key=lambda a: a.get("AlarmName", ""))
        doc["MetricAlarms"], token = page(alarms, offset, size, scope)
        doc.pop("NextToken", None)
        if token:
            doc["NextToken"] = token
        return Response(json.dumps(doc), status=200, content_type=_ctype(headers))

    def lambda_(self, call: ApiCall) -> Response | None:
        if call.method != "GET":
            return None
        path = call.path.rstrip("/")
        if path == "/2015-03-31/functions":
            return self._lambda_page(call, "ListFunctions", "Functions", "FunctionName")
        m = _VERSIONS_PATH.match(path)
        if m is not None:
            return self._lambda_page(call, f"ListVersionsByFunction:{m.group(1)}", "Versions", None)
        return None

    def _lambda_page(
        self, call: ApiCall, operation: str, key: str, sort_key: str | None
    ) -> Response | None:
        args = call.request.args
        try:
            size = min(int(args.get("MaxItems", "50")), 50)  # at most 50 a page
        except ValueError:
            size = 0
        if size < 1:
            return aws_error(
                call, 400, "InvalidParameterValueException", "MaxItems must be at least 1."
            )
        scope = f"{operation}:" + args.get("FunctionVersion", "")
        offset = token_offset(args.get("Marker"), scope)
        if offset is None:
            return aws_error(
                call, 400, "InvalidParameterValueException", "Invalid pagination token."
            )
        status, _, body = self.api.call_moto(call)
        if status != 200:
            return None
        doc = json.loads(body)
        items = list(doc.get(key, []))
        if sort_key is not None:
            items.sort(key=lambda item: item.get(sort_key, ""))
        doc[key], token = page(items, offset, size, scope)  # versions: $LATEST, then 1, 2, ...
        doc.pop("NextMarker", None)
        if token:
            doc["NextMarker"] = token
        return Response(json.dumps(doc), status=200, content_type="application/json")

    def codedeploy(self, call: ApiCall) -> Response | None:
        if call.operation not in ("ListApplications", "ListDeploymentGroups"):
            return None
        params = call.params()
        app = params.get("applicationName")
        if call.operation == "ListDeploymentGroups":
            refusal = _check_application(call, app, self.account_id)
            if refusal is not None:
                return refusal
        scope = f"{call.operation}:{app or ''}"
        offset = token_offset(params.get("nextToken"), scope)
        if offset is None:
            return aws_error(
                call,
                400,
                "InvalidNextTokenException",
                "The next token was specified in an invalid format.",
            )
        status, headers, body = self.api.call_moto(call)
        if status != 200:
            return None
        doc = json.loads(body)
        key = "applications" if call.operation == "ListApplications" else "deploymentGroups"
        doc[key], token = page(sorted(doc.get(key) or []), offset, CODEDEPLOY_PAGE, scope)
        doc.pop("nextToken", None)  # moto echoes the request's token back
        if token:
            doc["nextToken"] = token
        return Response(json.dumps(doc), status=200, content_type=_ctype(headers))


def _check_application(call: ApiCall, app: object, account_id: str) -> Response | None:
    """ListDeploymentGroups names an existing application (moto answers [] for any name)."""
    if not app:
        return aws_error(
            call,
            400,
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    from moto.codedeploy.models import codedeploy_backends

    backend = codedeploy_backends[account_id][_region_of(call)]
    if str(app) not in backend.applications:
        return aws_error(
            call,
            400,
            "ApplicationDoesNotExistException",
            f"No application found for name: {app}",
        )
    return None


def _region_of(call: ApiCall) -> str:
    m = _REGION_RE.search(call.request.headers.get("Authorization", ""))
    return m.group(1) if m else "us-east-1"


def _ctype(headers: list[tuple[str, str]]) -> str:
    for k, v in headers:
        if k.lower() == "content-type":
            return v
    return "application/x-amz-json-1.0"
