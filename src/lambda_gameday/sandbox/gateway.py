"""The API Gateway stage of the twin: a REST API with Lambda proxy integrations (payload
1.0), served by uvicorn on 127.0.0.1.

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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from .runtime import Invocation, LambdaService, RawPayload

__all__ = ["Gateway", "GatewayServer", "Route", "proxy_response"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_INTERNAL = b'{"message": "Internal server error"}'
_TIMED_OUT = b'{"message": "Endpoint request timed out"}'
_MISSING = b'{"message":"Missing Authentication Token"}'
_PROXY_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


@dataclass(frozen=True)
class Route:
    """One API resource: a path served by a function through an alias."""

    path: str
    function: str
    alias: str | None = "production"
    methods: tuple[str, ...] = ("GET",)


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
        self._prefix = f"/{stage}"
        self._resource_ids: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(self._prefix + "/") or path == self._prefix:
            path = path[len(self._prefix) :] or "/"
        route = self.routes.get(path.rstrip("/") or "/")
        request_id = str(uuid.uuid4())
        if route is None or scope["method"] not in route.methods:
            await _send(
                send,
                403,
                [(b"x-amzn-errortype", b"MissingAuthenticationTokenException")],
                _MISSING,
                request_id,
            )
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        event = self._event(scope, route, path, body, request_id)
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
        self, scope: Scope, route: Route, path: str, body: bytes, request_id: str
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
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": self._resource_id(route.path),
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": request_id[:16],
                "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{path}",
                "accountId": self.account_id,
                "protocol": "HTTP/" + scope.get("http_version", "1.1"),
                "stage": self.stage,
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
