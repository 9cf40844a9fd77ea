"""The API Gateway of the twin: REST API stages and HTTP API stages with Lambda proxy
integrations (payload 1.0), served by uvicorn on 127.0.0.1 (one host for every API).

Routing, as API Gateway does it. REST API routes are served under their stage name
(`/<stage>/orders`), HTTP API routes on their own stage (`$default`: no prefix). A route's
path may hold variables, `{id}`, and end in a greedy `{proxy+}` (one or more segments);
literal segments win over variables, greedy last, and the proxy event carries
`pathParameters`. The refusals: no REST resource or method -> 403
`{"message":"Missing Authentication Token"}` (AWS Knowledge Center, "How do I resolve
Missing Authentication Token errors", repost.aws/knowledge-center/
api-gateway-authentication-token-errors); no HTTP API stage or route -> 404
`{"message":"Not Found"}` (API Gateway Developer Guide, "Routing API requests" in
docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html).

Per request: path -> function and alias, a proxy event, the invocation through the Lambda
service, and API Gateway's mapping of the outcome — throttled -> 500, function error or
malformed proxy response -> 502 (`{"message": "Internal server error"}`), past the
integration timeout (29 s on AWS; configurable here) -> 504 (`{"message": "Endpoint request
timed out"}`). Like AWS's, responses carry no `X-Amz-Executed-Version` (only the Lambda
Invoke API has it): a client learns the serving version only if the function says so, as the
stand-in health handlers do (`releaseId`). The legacy relaxation `executed-version-header`
adds the header back until the harness no longer reads it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from .runtime import Invocation, LambdaService, RawPayload

__all__ = [
    "ApiKind",
    "Gateway",
    "GatewayServer",
    "Route",
    "RouteTable",
    "proxy_response",
    "stage_prefix",
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_INTERNAL = b'{"message": "Internal server error"}'
_TIMED_OUT = b'{"message": "Endpoint request timed out"}'
_MISSING = b'{"message":"Missing Authentication Token"}'
_NOT_FOUND = b'{"message":"Not Found"}'
_PROXY_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


ApiKind = Literal["REST", "HTTP"]
DEFAULT_STAGE = "$default"


@dataclass(frozen=True)
class Route:
    """One API route: a path (it may hold `{var}` and a final `{proxy+}`) served by a
    function through an alias, on a REST or HTTP API's stage (None: the twin's stage for
    REST, `$default` for HTTP)."""

    path: str
    function: str
    alias: str | None = "production"
    methods: tuple[str, ...] = ("GET",)
    api: ApiKind = "REST"
    stage: str | None = None

    @property
    def templated(self) -> bool:
        return "{" in self.path


def stage_prefix(stage: str) -> str:
    """The URL prefix of a stage: `$default` serves at the root."""
    return "" if stage == DEFAULT_STAGE else f"/{stage}"


class RouteTable(dict[str, Route]):
    """The twin's routes by path; counts its changes so the gateway recompiles its
    matcher only when a route was added or removed, not on every request."""

    version = 0

    def __setitem__(self, key: str, value: Route) -> None:
        super().__setitem__(key, value)
        self.version += 1

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.version += 1

    def pop(self, key: str, *default: Any) -> Any:
        self.version += 1
        return super().pop(key, *default)

    def clear(self) -> None:
        super().clear()
        self.version += 1

    def update(self, *args: Any, **kwargs: Route) -> None:
        super().update(*args, **kwargs)
        self.version += 1


_Segment = tuple[int, str]  # (0 literal | 1 variable | 2 greedy, text or variable name)


def _segments(path: str) -> tuple[_Segment, ...]:
    out: list[_Segment] = []
    for part in path.strip("/").split("/") if path.strip("/") else []:
        if part.startswith("{") and part.endswith("+}"):
            out.append((2, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            out.append((1, part[1:-1]))
        else:
            out.append((0, part))
    return tuple(out)


def _match(pattern: tuple[_Segment, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, (kind, text) in enumerate(pattern):
        if kind == 2:  # greedy: one or more segments, the rest of the path
            if i >= len(parts):
                return None
            params[text] = "/".join(parts[i:])
            return params
        if i >= len(parts):
            return None
        if kind == 0 and parts[i] != text:
            return None
        if kind == 1:
            params[text] = parts[i]
    return params if len(parts) == len(pattern) else None


@dataclass(frozen=True)
class _Stage:
    """One API stage of the twin: its literal routes by path, its templated ones in AWS's
    priority (literal segments before variables, greedy last)."""

    api: ApiKind
    prefix: str
    literal: dict[str, Route]
    templated: tuple[tuple[tuple[_Segment, ...], Route], ...]


@dataclass(frozen=True)
class _Match:
    route: Route | None  # None: refused
    api: ApiKind
    stage: str
    path: str  # the path inside the stage
    params: dict[str, str] | None


def _compile(routes: Iterable[Route], default_stage: str) -> tuple[_Stage, ...]:
    groups: dict[tuple[ApiKind, str], list[Route]] = {}
    for route in routes:
        stage = route.stage or (default_stage if route.api == "REST" else DEFAULT_STAGE)
        groups.setdefault((route.api, stage), []).append(route)
    stages = []
    for (api, stage), members in groups.items():
        literal = {r.path: r for r in members if not r.templated}
        templated = sorted(
            ((_segments(r.path), r) for r in members if r.templated),
            key=lambda item: tuple(kind for kind, _ in item[0]),
        )
        stages.append(_Stage(api, stage_prefix(stage), literal, tuple(templated)))
    # the longest prefix first; `$default` (no prefix) last, as AWS picks a named stage first
    return tuple(sorted(stages, key=lambda st: (-len(st.prefix), st.api)))


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def proxy_response(payload: object) -> ProxyResponse | None:
    """API Gateway's reading of a Lambda proxy response; None when it is malformed."""
    if isinstance(payload, RawPayload):
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    if not isinstance(payload, dict) or not set(payload) <= _PROXY_KEYS:
        return None
    status = payload.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    headers: list[tuple[bytes, bytes]] = []
    single = payload.get("headers") or {}
    multi = payload.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    for key, value in single.items():
        if key not in multi:
            headers.append((str(key).encode("latin-1"), str(value).encode("latin-1")))
    for key, values in multi.items():
        if not isinstance(values, list):
            return None
        headers.extend((str(key).encode("latin-1"), str(v).encode("latin-1")) for v in values)
    body = payload.get("body")
    if body is None:
        raw = b""
    elif isinstance(body, str):
        if payload.get("isBase64Encoded") is True:
            try:
                raw = base64.b64decode(body, validate=True)
            except ValueError:
                return None
        else:
            raw = body.encode()
    else:
        return None
    if not any(k.lower() == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    return ProxyResponse(status, headers, raw)


class Gateway:
    """The ASGI application: one API Gateway stage."""

    def __init__(
        self,
        service: LambdaService,
        routes: Mapping[str, Route],
        *,
        stage: str,
        account_id: str,
        integration_timeout_s: float = 29.0,
        executed_version_header: bool = False,
    ):
        self.service = service
        self.routes = routes
        self.executed_version_header = executed_version_header  # legacy relaxation only
        self.stage = stage
        self.account_id = account_id
        self.integration_timeout_s = integration_timeout_s
        self.api_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{account_id}-{stage}").hex[:10]
        self._resource_ids: dict[str, str] = {}
        self._compiled: tuple[int, int, tuple[_Stage, ...]] | None = None

    def _stages(self) -> tuple[_Stage, ...]:
        # recompiled when the table changed (RouteTable.version), else reused: a request's
        # cost does not grow with the number of routes
        key = (id(self.routes), getattr(self.routes, "version", -1))
        if self._compiled is None or self._compiled[:2] != key or key[1] == -1:
            self._compiled = (*key, _compile(self.routes.values(), self.stage))
        return self._compiled[2]

    def stage_of(self, route: Route) -> str:
        return route.stage or (self.stage if route.api == "REST" else DEFAULT_STAGE)

    def url_path(self, route: Route) -> str:
        """Where the twin serves `route` (its stage's prefix + its path)."""
        prefix = stage_prefix(self.stage_of(route))
        return prefix + route.path if route.path != "/" or not prefix else prefix

    def match(self, method: str, raw_path: str) -> _Match:
        """The route for a request, or the refusal of the API the path reached."""
        stages = self._stages()
        path = raw_path.rstrip("/") or "/"
        reached: _Stage | None = None
        for st in stages:
            if st.prefix and not (path == st.prefix or path.startswith(st.prefix + "/")):
                continue
            inner = path[len(st.prefix) :] or "/"
            reached = reached or st
            route = st.literal.get(inner)
            params: dict[str, str] | None = None
            if route is None or (st.api == "HTTP" and method not in route.methods):
                # HTTP APIs match route *and* method, so another route may take it;
                # a REST API finds the resource by path, then needs the method on it
                route = None
                parts = inner.strip("/").split("/") if inner != "/" else []
                for pattern, candidate in st.templated:
                    got = _match(pattern, parts)
                    if got is None or (st.api == "HTTP" and method not in candidate.methods):
                        continue
                    route, params = candidate, got
                    break
            if route is None:
                continue
            stage = st.prefix[1:] or DEFAULT_STAGE
            if method not in route.methods:
                return _Match(None, st.api, stage, inner, None)
            return _Match(route, st.api, stage, inner, params)
        if reached is None:
            # no stage reached: an HTTP API without a `$default` stage answers Not Found;
            # with no HTTP API at all the host is the REST API's
            api: ApiKind = "HTTP" if any(st.api == "HTTP" for st in stages) else "REST"
            return _Match(None, api, "", path, None)
        return _Match(None, reached.api, reached.prefix[1:] or DEFAULT_STAGE, path, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        found = self.match(scope["method"], scope["path"])
        route = found.route
        request_id = str(uuid.uuid4())
        if route is None:
            if found.api == "HTTP":
                json_type = (b"content-type", b"application/json")
                await _send(send, 404, [json_type], _NOT_FOUND, request_id)
                return
            await _send(
                send,
                403,
                [(b"x-amzn-errortype", b"MissingAuthenticationTokenException")],
                _MISSING,
                request_id,
            )
            return
        path = found.path
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        event = self._event(scope, route, path, body, request_id, found.stage, found.params)
        task = asyncio.ensure_future(self.service.invoke(route.function, route.alias, event))
        try:
            inv = await asyncio.wait_for(asyncio.shield(task), self.integration_timeout_s)
        except TimeoutError:
            # API Gateway gives up; the function keeps running to its own timeout.
            await _send(send, 504, [(b"content-type", b"application/json")], _TIMED_OUT, request_id)
            return
        await self._reply(send, inv, request_id)

    def _resource_id(self, path: str) -> str:
        rid = self._resource_ids.get(path)
        if rid is None:
            rid = self._resource_ids[path] = uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]
        return rid

    async def _reply(self, send: Send, inv: Invocation, request_id: str) -> None:
        extra: list[tuple[bytes, bytes]] = []
        if self.executed_version_header and inv.executed_version is not None:
            extra.append((b"x-amz-executed-version", inv.executed_version.encode()))
        json_type = (b"content-type", b"application/json")
        if inv.outcome == "throttled":
            await _send(send, 500, [json_type, *extra], _INTERNAL, request_id)
            return
        if inv.outcome == "not_found":
            await _send(send, 500, [json_type], _INTERNAL, request_id)
            return
        response = proxy_response(inv.payload) if inv.outcome == "ok" else None
        if response is None:
            await _send(send, 502, [json_type, *extra], _INTERNAL, request_id)
            return
        await _send(send, response.status, [*response.headers, *extra], response.body, request_id)

    def _event(
        self,
        scope: Scope,
        route: Route,
        path: str,
        body: bytes,
        request_id: str,
        stage: str,
        params: dict[str, str] | None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for raw_key, raw_value in scope.get("headers", ()):
            key, value = raw_key.decode("latin-1"), raw_value.decode("latin-1")
            headers[key] = value
            multi_headers.setdefault(key, []).append(value)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(
            scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        ):
            query[key] = value
            multi_query.setdefault(key, []).append(value)
        now = time.time() + self.service.telemetry.clock_skew_s  # stamped on AWS's clock
        client = scope.get("client") or ("127.0.0.1", 0)
        try:
            text: str | None = body.decode() if body else None
            b64 = False
        except UnicodeDecodeError:
            text, b64 = base64.b64encode(body).decode(), True
        method = scope["method"]
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": self._resource_id(route.path),
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": request_id[:16],
                "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": stage_prefix(stage) + path,
                "accountId": self.account_id,
                "protocol": "HTTP/" + scope.get("http_version", "1.1"),
                "stage": stage,
                "domainPrefix": self.api_id,
                "requestTimeEpoch": int(now * 1000),
                "requestId": request_id,
                "identity": {"sourceIp": client[0], "userAgent": headers.get("user-agent")},
                "domainName": headers.get("host", "127.0.0.1"),
                "apiId": self.api_id,
            },
            "body": text,
            "isBase64Encoded": b64,
        }


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, request_id: str
) -> None:
    headers = [
        *headers,
        (b"x-amzn-requestid", request_id.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GatewayServer:
    """uvicorn serving an ASGI app on a socket the caller bound, on an existing loop."""

    def __init__(self, app: Callable[..., Awaitable[None]], sock: socket.socket):
        import uvicorn

        self.sock = sock
        self._config = uvicorn.Config(
            app,
            http="auto",  # httptools when installed (it is a dependency), else h11
            loop="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(self._config)
        self._future: Any = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self, loop: asyncio.AbstractEventLoop, timeout: float = 10.0) -> None:
        self._future = asyncio.run_coroutine_threadsafe(
            self._server.serve(sockets=[self.sock]), loop
        )
        deadline = time.monotonic() + timeout
        ready = threading.Event()
        while not self._server.started:
            if self._future.done():
                self._future.result()  # raises the startup error
                raise RuntimeError("the gateway stopped during startup")
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start in time")
            ready.wait(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._future is not None:
            with contextlib.suppress(Exception):  # already reported, or cancelled with the loop
                self._future.result(timeout=timeout)
        self.sock.close()
