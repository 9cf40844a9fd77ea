"""List and Describe calls answer one page at a time, as AWS's do (moto returns everything).

* CloudWatch DescribeAlarms: MaxRecords 1-100, default 50; NextToken
  (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
* Lambda ListFunctions: MaxItems 1-50, default 50; Marker / NextMarker
  (docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html).
* CodeDeploy ListDeployments pages itself (deployments/controller.py): 100 per page.

Tokens are opaque: a client must pass back what it got, never compute one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TypeVar

from werkzeug.wrappers import Response

from .awsapi import ApiCall, AwsApi, aws_error

__all__ = ["Paginator", "decode_token", "encode_token", "page"]

T = TypeVar("T")


def encode_token(offset: int, scope: str) -> str:
    raw = json.dumps({"o": offset, "s": scope}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str, scope: str) -> int | None:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(doc, dict) or doc.get("s") != scope or not isinstance(doc.get("o"), int):
        return None
    return int(doc["o"])


def page(items: Sequence[T], offset: int, size: int, scope: str) -> tuple[list[T], str | None]:
    chunk = list(items[offset : offset + size])
    more = offset + size < len(items)
    return chunk, encode_token(offset + size, scope) if more else None


class Paginator:
    """Interceptor for the calls above: moto answers in full, this answers one page."""

    def __init__(self, api: AwsApi):
        self.api = api

    def cloudwatch(self, call: ApiCall) -> Response | None:
        if call.operation != "DescribeAlarms" or call.protocol != "json":
            return None
        params = call.params()
        size = params.get("MaxRecords", 50)
        if not isinstance(size, int) or not 1 <= size <= 100:
            return aws_error(
                call,
                400,
                "ValidationError",
                f"1 validation error detected: Value '{size}' at 'maxRecords' failed to satisfy "
                "constraint: Member must have value less than or equal to 100",
            )
        scope = "DescribeAlarms:" + json.dumps(
            {k: v for k, v in params.items() if k not in ("NextToken", "MaxRecords")},
            sort_keys=True,
        )
        offset = 0
        if params.get("NextToken"):
            got = decode_token(str(params["NextToken"]), scope)
            if got is None:
                return aws_error(
                    call, 400, "InvalidNextToken", "The service returned an invalid token."
                )
            offset = got
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
        if call.method != "GET" or call.path.rstrip("/") != "/2015-03-31/functions":
            return None
        args = call.request.args
        try:
            size = min(int(args.get("MaxItems", "50")), 50)  # at most 50 a page
        except ValueError:
            size = 0
        if size < 1:
            return aws_error(
                call, 400, "InvalidParameterValueException", "MaxItems must be at least 1."
            )
        scope = "ListFunctions:" + args.get("FunctionVersion", "")
        offset = 0
        if args.get("Marker"):
            got = decode_token(args["Marker"], scope)
            if got is None:
                return aws_error(
                    call, 400, "InvalidParameterValueException", "Invalid pagination token."
                )
            offset = got
        status, _, body = self.api.call_moto(call)
        if status != 200:
            return None
        doc = json.loads(body)
        functions = sorted(doc.get("Functions", []), key=lambda f: f.get("FunctionName", ""))
        doc["Functions"], token = page(functions, offset, size, scope)
        doc.pop("NextMarker", None)
        if token:
            doc["NextMarker"] = token
        return Response(json.dumps(doc), status=200, content_type="application/json")


def _ctype(headers: list[tuple[str, str]]) -> str:
    for k, v in headers:
        if k.lower() == "content-type":
            return v
    return "application/x-amz-json-1.0"
