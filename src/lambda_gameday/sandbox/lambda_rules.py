"""Lambda API behaviour moto lacks, added by intercepting the sandbox's Lambda REST calls.

* Invoke runs the function through the data plane (moto would need Docker).
* Provisioned concurrency configs (moto answers 404): IN_PROGRESS, then READY once the
  environments are initialised; never on `$LATEST`.
* Validation AWS does and moto doesn't: alias weights in [0, 1], one additional version,
  no `$LATEST` in routing; configuration and code changes addressed to a published version
  (a qualified name or ARN) are rejected — published versions are immutable.
* Layers and limits as AWS refuses them (`lambda_limits`): at most 5 layers, only the
  function's Region, foreign layers only if public (`public_layers`); environment <= 4 KB,
  Timeout 1-900, MemorySize 128-10 240. moto rejects layer ARNs it doesn't hold, so the
  sandbox records the public ones itself.
* The Invoke API answers X-Amz-Executed-Version (API Gateway does not: see gateway),
  x-amzn-RequestId (the invocation's request id) and, for LogType=Tail, X-Amz-Log-Result.

Configuration changes are applied in-process so the data plane sees them before the call
returns (`on_change(function)` is called synchronously).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from .awsapi import ApiCall, aws_error
from .lambda_limits import Refusal, check_layers, check_limits
from .moto_adapter import aws_utcnow
from .runtime import LATEST, LambdaService, LambdaState, ProvisionedConfig, RawPayload

__all__ = ["LambdaRules", "split_function_name"]

_FN = r"(?P<fn>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^/2015-03-31/functions/{_FN}/invocations/?$"), "invoke"),
    ("PUT", re.compile(rf"^/2015-03-31/functions/{_FN}/configuration/?$"), "update_configuration"),
    ("PUT", re.compile(rf"^/2015-03-31/functions/{_FN}/code/?$"), "update_code"),
    ("PUT", re.compile(rf"^/2017-10-31/functions/{_FN}/concurrency/?$"), "put_concurrency"),
    ("DELETE", re.compile(rf"^/2017-10-31/functions/{_FN}/concurrency/?$"), "delete_concurrency"),
    ("POST", re.compile(rf"^/2015-03-31/functions/{_FN}/aliases/?$"), "create_alias"),
    ("PUT", re.compile(rf"^/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)$"), "update_alias"),
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "create_function"),
    ("PUT", re.compile(rf"^/2019-09-30/functions/{_FN}/provisioned-concurrency/?$"), "put_pc"),
    ("GET", re.compile(rf"^/2019-09-30/functions/{_FN}/provisioned-concurrency/?$"), "get_pc"),
    (
        "DELETE",
        re.compile(rf"^/2019-09-30/functions/{_FN}/provisioned-concurrency/?$"),
        "delete_pc",
    ),
]
_LAYER_ARN = re.compile(
    r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+$"
)
_INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
_LOG_TYPES = ("None", "Tail")
LOG_TAIL_BYTES = 4096  # Invoke's X-Amz-Log-Result: "the last 4 KB of the execution log"
_FUNCTION_ARN = re.compile(r"^arn:[a-zA-Z0-9-]+:lambda:[a-z0-9-]+:\d{12}:function:")


def split_function_name(raw: str) -> tuple[str, str | None]:
    """`name`, `name:qualifier` or a (qualified) function ARN -> (name, qualifier)."""
    raw = unquote(raw)
    if _FUNCTION_ARN.match(raw):
        raw = raw.split(":function:", 1)[1]
    name, _, qualifier = raw.partition(":")
    return name, (qualifier or None)


def _enum(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )


def _validation(call: ApiCall, value: str, where: str, constraint: str) -> Response:
    return aws_error(
        call,
        400,
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: {constraint}",
    )


class _Refused(Exception):
    """A check deep in a handler answers the call with AWS's refusal; `LambdaRules` sends it."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def _whole_number(call: ApiCall, member: str, minimum: int) -> int:
    """The request's `member` if it is a whole number of at least `minimum` (a JSON
    boolean is not one), else AWS's refusal, which names the member in lowerCamelCase."""
    value = call.params().get(member)
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    raise _Refused(
        _validation(
            call,
            str(value),
            member[0].lower() + member[1:],
            f"Member must have value greater than or equal to {minimum}",
        )
    )


def _refuse(call: ApiCall, refusal: Refusal) -> Response:
    return aws_error(call, refusal.status, refusal.code, refusal.message)


def _moto_error(call: ApiCall, exc: Exception) -> Response:
    status = int(getattr(exc, "code", 400))
    code = str(getattr(exc, "error_type", type(exc).__name__))
    message = str(getattr(exc, "message", exc))
    return aws_error(call, status, code, message)


class LambdaRules:
    """The Lambda interceptor: `AwsApi.intercept("lambda", rules)`."""

    def __init__(
        self,
        state: LambdaState,
        service: LambdaService,
        loop: asyncio.AbstractEventLoop,
        on_change: Callable[[str], None],
        *,
        allow_other_region_layers: bool = False,
    ):
        self.state = state
        self.service = service
        self.loop = loop
        self.on_change = on_change
        self.allow_other_region_layers = allow_other_region_layers

    def __call__(self, call: ApiCall) -> Response | None:
        for method, pattern, op in _ROUTES:
            if call.method != method:
                continue
            m = pattern.match(call.path)
            if m is None:
                continue
            handler: Callable[..., Response | None] = getattr(self, "_" + op)
            try:
                return handler(call, **m.groupdict())
            except _Refused as refused:
                return refused.response
            except Exception as exc:
                if hasattr(exc, "error_type"):  # a moto service error: answer it as AWS would
                    return _moto_error(call, exc)
                raise
        return None

    def _arn(self, name: str, qualifier: str | None = None) -> str:
        arn = self.state.function_arn(name)
        return f"{arn}:{qualifier}" if qualifier else arn

    def _not_found(self, call: ApiCall, name: str, qualifier: str | None = None) -> Response:
        return aws_error(
            call,
            404,
            "ResourceNotFoundException",
            f"Function not found: {self._arn(name, qualifier)}",
        )

    def _published(self, call: ApiCall, name: str, qualifier: str) -> Response:
        return aws_error(
            call,
            400,
            "InvalidParameterValueException",
            f"Cannot change the configuration of a published version or alias "
            f"({self._arn(name, qualifier)}): published versions are immutable; "
            "change $LATEST (the unqualified function name) and publish a new version.",
        )

    # -- invoke ---------------------------------------------------------------------------

    def _invoke(self, call: ApiCall, fn: str) -> Response:
        # Every Invoke answer names the request: x-amzn-RequestId is the invocation's id,
        # the one its START/END/REPORT log lines carry
        # (docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
        request_id = str(uuid.uuid4())
        response = self._invoke_as(call, fn, request_id)
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _invoke_as(self, call: ApiCall, fn: str, request_id: str) -> Response:
        name, qualifier = split_function_name(fn)
        qualifier = call.request.args.get("Qualifier") or qualifier
        kind = call.request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        log_type = call.request.headers.get("X-Amz-Log-Type", "None")
        for value, member, allowed in (
            (kind, "invocationType", _INVOCATION_TYPES),
            (log_type, "logType", _LOG_TYPES),
        ):
            if value not in allowed:
                return _validation(
                    call, value, member, f"Member must satisfy enum value set: {_enum(allowed)}"
                )
        if self.state.latest(name) is None:
            return self._not_found(call, name)
        try:
            event = json.loads(call.body) if call.body else {}
        except ValueError:
            return aws_error(
                call,
                400,
                "InvalidRequestContentException",
                "Could not parse request body into json",
            )
        if kind == "DryRun":  # validates parameters and permissions, runs nothing
            return Response(b"", status=204)
        future = asyncio.run_coroutine_threadsafe(
            self.service.invoke(name, qualifier, event, request_id), self.loop
        )
        if kind == "Event":
            return Response(b"", status=202)
        inv = future.result(timeout=960)
        if inv.outcome == "not_found":
            return self._not_found(call, name, qualifier)
        if inv.outcome == "throttled":
            return _json(
                429,
                {
                    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                    "Type": "User",
                    "message": "Rate Exceeded.",
                },
                {"x-amzn-ErrorType": "TooManyRequestsException"},
            )
        headers = {"X-Amz-Executed-Version": inv.executed_version or LATEST}
        if inv.outcome != "ok":
            headers["X-Amz-Function-Error"] = "Unhandled"
        if log_type == "Tail":  # the last 4 KB of the execution log, base64 (synchronous only)
            headers["X-Amz-Log-Result"] = base64.b64encode(
                inv.log.encode()[-LOG_TAIL_BYTES:]
            ).decode()
        payload = inv.payload
        body = str(payload) if isinstance(payload, RawPayload) else json.dumps(payload)
        return Response(body, status=200, headers=headers, content_type="application/json")

    # -- configuration ----------------------------------------------------------------------

    def _layers(self, call: ApiCall, arns: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for arn in arns:
            if not isinstance(arn, str) or not _LAYER_ARN.match(arn):
                raise _Refused(
                    _validation(
                        call,
                        json.dumps(arns),
                        "layers",
                        "Member must satisfy constraint: [Member must satisfy regular expression "
                        f"pattern: {_LAYER_ARN.pattern[1:-1]}]",
                    )
                )
        refusal = check_layers(
            arns,
            region=self.state.region,
            account_id=self.state.account_id,
            own_layer_exists=lambda a: self.state.backend.layers_versions_by_arn(a) is not None,
            allow_other_regions=self.allow_other_region_layers,
        )
        if refusal is not None:
            raise _Refused(_refuse(call, refusal))
        for arn in arns:
            known = self.state.backend.layers_versions_by_arn(arn)
            out.append({"Arn": arn, "CodeSize": known.code_size if known else 0})
        return out

    def _update_configuration(self, call: ApiCall, fn: str) -> Response:
        name, qualifier = split_function_name(fn)
        if qualifier:
            return self._published(call, name, qualifier)
        latest = self.state.latest(name)
        if latest is None:
            return self._not_found(call, name)
        body = call.params()
        refusal = check_limits(body)
        if refusal is not None:
            return _refuse(call, refusal)
        layers = body.pop("Layers", None)
        resolved = None if layers is None else self._layers(call, list(layers))
        self.on_change(name)  # baseline first: the diff after is exact
        latest.update_configuration(body)
        if resolved is not None:
            latest.layers = resolved
            latest.code_or_config_updated = True
        # AWS stamps LastModified on every configuration change (moto only on create/publish)
        latest.last_modified = aws_utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        self.on_change(name)
        return _json(200, latest.get_configuration())

    def _update_code(self, call: ApiCall, fn: str) -> Response | None:
        name, qualifier = split_function_name(fn)
        if qualifier:
            return self._published(call, name, qualifier)
        return None  # moto applies it; the watcher retires $LATEST environments

    def _unqualified(self, call: ApiCall, fn: str) -> str:
        """The function a per-function setting names, or AWS's refusal: a version or alias
        (published versions are immutable), or no such function."""
        name, qualifier = split_function_name(fn)
        if qualifier:
            raise _Refused(self._published(call, name, qualifier))
        if self.state.latest(name) is None:
            raise _Refused(self._not_found(call, name))
        return name

    def _put_concurrency(self, call: ApiCall, fn: str) -> Response:
        name = self._unqualified(call, fn)
        value = _whole_number(call, "ReservedConcurrentExecutions", 0)
        self.on_change(name)  # baseline first: the diff after is exact
        self.state.backend.put_function_concurrency(name, value)
        self.on_change(name)
        return _json(200, {"ReservedConcurrentExecutions": value})

    def _delete_concurrency(self, call: ApiCall, fn: str) -> Response:
        name = self._unqualified(call, fn)
        self.on_change(name)  # baseline first: the diff after is exact
        self.state.backend.delete_function_concurrency(name)
        self.on_change(name)
        return Response(b"", status=204)

    def _create_function(self, call: ApiCall) -> Response | None:
        body = call.params()
        refusal = check_limits(body)
        if refusal is not None:
            return _refuse(call, refusal)
        layers = body.get("Layers")
        if not layers:
            return None
        resolved = self._layers(call, list(layers))
        spec = {k: v for k, v in body.items() if k != "Layers"}
        fn = self.state.backend.create_function(spec)
        fn.layers = resolved
        return _json(201, fn.get_configuration(on_create=True))

    # -- aliases ----------------------------------------------------------------------------

    def _check_routing(
        self, call: ApiCall, name: str, primary: str | None, routing: object
    ) -> Response | None:
        if routing is None:
            return None
        weights = routing.get("AdditionalVersionWeights") if isinstance(routing, dict) else None
        if not weights:
            return None
        assert isinstance(weights, dict)
        shown = "{" + ", ".join(f"{k}={v}" for k, v in weights.items()) + "}"
        where = "routingConfig.additionalVersionWeights"
        for key, value in weights.items():
            if not re.fullmatch(r"[0-9]+", str(key)):
                return _validation(
                    call,
                    shown,
                    where,
                    "Map keys must satisfy constraint: [Member must have length less than or "
                    "equal to 1024, Member must have length greater than or equal to 1, Member "
                    "must satisfy regular expression pattern: [0-9]+]",
                )
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0.0 <= value <= 1.0
            ):
                return _validation(
                    call,
                    shown,
                    where,
                    "Map value must satisfy constraint: [Member must have value less than or "
                    "equal to 1.0, Member must have value greater than or equal to 0.0, Member "
                    "must not be null]",
                )
        if len(weights) > 1:
            return aws_error(
                call,
                400,
                "InvalidParameterValueException",
                "Number of additional versions in routing config is limited to 1.",
            )
        if primary == LATEST:
            return aws_error(
                call,
                400,
                "InvalidParameterValueException",
                "$LATEST is not supported for an alias pointing to more than 1 version",
            )
        extra = str(next(iter(weights)))
        if extra == primary:
            return aws_error(
                call,
                400,
                "InvalidParameterValueException",
                f"Invalid function version {extra}. Function version {extra} is already "
                "included in routing configuration.",
            )
        if self.state.version(name, extra) is None:
            return self._not_found(call, name, extra)
        return None

    def _create_alias(self, call: ApiCall, fn: str) -> Response | None:
        name, _ = split_function_name(fn)
        body = call.params()
        return self._check_routing(
            call, name, body.get("FunctionVersion"), body.get("RoutingConfig")
        )

    def _update_alias(self, call: ApiCall, fn: str, alias: str) -> Response:
        name, _ = split_function_name(fn)
        current = self.state.alias(name, unquote(alias))
        if self.state.latest(name) is None:
            return self._not_found(call, name)
        if current is None:
            return aws_error(
                call, 404, "ResourceNotFoundException", f"Alias not found: {self._arn(name, alias)}"
            )
        body = call.params()
        primary = body.get("FunctionVersion") or str(current.function_version)
        error = self._check_routing(call, name, primary, body.get("RoutingConfig"))
        if error is not None:
            return error
        self.on_change(name)  # baseline first: the diff after is exact
        updated = self.state.backend.update_alias(
            name=unquote(alias),
            function_name=name,
            function_version=body.get("FunctionVersion"),
            description=body.get("Description"),
            routing_config=body.get("RoutingConfig"),
        )
        self.on_change(name)
        return _json(200, updated.to_json())

    # -- provisioned concurrency ------------------------------------------------------------

    def _pc_target(self, call: ApiCall, fn: str) -> tuple[str, str]:
        name, in_name = split_function_name(fn)
        qualifier = call.request.args.get("Qualifier") or in_name
        if self.state.latest(name) is None:
            raise _Refused(self._not_found(call, name))
        if not qualifier or qualifier == LATEST:
            raise _Refused(
                aws_error(
                    call,
                    400,
                    "InvalidParameterValueException",
                    "Provisioned Concurrency Configs cannot be applied to unpublished function "
                    "versions.",
                )
            )
        if (
            self.state.alias(name, qualifier) is None
            and self.state.version(name, qualifier) is None
        ):
            raise _Refused(self._not_found(call, name, qualifier))
        return name, qualifier

    @staticmethod
    def _pc_json(config: ProvisionedConfig) -> dict[str, object]:
        return {
            "RequestedProvisionedConcurrentExecutions": config.requested,
            "AvailableProvisionedConcurrentExecutions": config.allocated,
            "AllocatedProvisionedConcurrentExecutions": config.allocated,
            "Status": config.status,
            "LastModified": config.last_modified,
        }

    def _put_pc(self, call: ApiCall, fn: str) -> Response:
        target = self._pc_target(call, fn)
        requested = _whole_number(call, "ProvisionedConcurrentExecutions", 1)
        config = self.service.put_provisioned(target[0], target[1], requested)
        body = self._pc_json(config)
        body.pop("AvailableProvisionedConcurrentExecutions")
        return _json(202, body)

    def _get_pc(self, call: ApiCall, fn: str) -> Response:
        if call.request.args.get("List") == "ALL":
            name, _ = split_function_name(fn)
            if self.state.latest(name) is None:
                return self._not_found(call, name)
            configs = [
                {"FunctionArn": self._arn(c.function, c.qualifier), **self._pc_json(c)}
                for c in list(self.service.provisioned.values())
                if c.function == name
            ]
            return _json(200, {"ProvisionedConcurrencyConfigs": configs})
        target = self._pc_target(call, fn)
        config = self.service.provisioned.get(target)
        if config is None:
            return aws_error(
                call,
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        return _json(200, self._pc_json(config))

    def _delete_pc(self, call: ApiCall, fn: str) -> Response:
        target = self._pc_target(call, fn)
        if not self.service.delete_provisioned(*target):
            return aws_error(
                call,
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        return Response(b"", status=204)
