"""The sandbox's AWS API endpoint: moto's server app behind a thin interception layer.

moto holds the control-plane state. Where moto lacks an operation or accepts what AWS
rejects (see aws-behaviour.md), a sandbox component registers an interceptor for that
call; everything else passes through to moto unchanged. Binds to loopback only.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .moto_adapter import aws_time

__all__ = ["ApiCall", "AwsApi", "Interceptor", "aws_error"]

_SERVICE_RE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True)
class ApiCall:
    """One AWS API request as the interceptors see it."""

    service: str
    operation: str | None  # None for REST protocols (Lambda, S3): match on method + path
    method: str
    path: str
    protocol: str  # "json" | "query" | "rest" (botocore sends JSON, not CBOR, to CloudWatch)
    body: bytes
    request: Request

    def params(self) -> dict[str, Any]:
        """The request's parameters, decoded from whichever protocol carried them."""
        if not self.body:
            return {}
        if self.protocol == "query":
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        return json.loads(self.body)  # type: ignore[no-any-return]


Interceptor = Callable[[ApiCall], Response | None]


def aws_error(call: ApiCall, status: int, code: str, message: str) -> Response:
    """An AWS-shaped error response for the protocol the caller used."""
    if call.protocol == "query":
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>sandbox</RequestId></ErrorResponse>"
        )
        return Response(xml, status=status, content_type="text/xml")
    headers = {"x-amzn-ErrorType": code}
    return Response(
        json.dumps({"__type": code, "Message": message, "message": message}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _classify(request: Request, body: bytes) -> ApiCall:
    auth = request.headers.get("Authorization", "")
    m = _SERVICE_RE.search(auth)
    service = m.group(1) if m else ""
    target = request.headers.get("X-Amz-Target")
    if target:
        return ApiCall(
            service, target.rsplit(".", 1)[-1], request.method, request.path, "json", body, request
        )
    ctype = request.headers.get("Content-Type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        op = parse_qs(body.decode()).get("Action", [None])[0]
        return ApiCall(service, op, request.method, request.path, "query", body, request)
    return ApiCall(service, None, request.method, request.path, "rest", body, request)


def _dated(start_response: Callable[..., Any], clock: Callable[[], float]) -> Callable[..., Any]:
    """start_response that stamps `Date` from AWS's clock (werkzeug keeps a given Date)."""

    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        kept = [(k, v) for k, v in headers if k.lower() != "date"]
        kept.append(("Date", formatdate(clock(), usegmt=True)))
        return start_response(status, kept, *args)

    return start


def _drained(response: Iterable[bytes]) -> list[bytes]:
    """The whole body of a WSGI response, produced (and closed) now: moto's stamps are
    made while the body is produced, inside `aws_time`."""
    try:
        return list(response)
    finally:
        close = getattr(response, "close", None)
        if callable(close):
            close()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # moto's per-request lines are noise
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        # http.server stamps Date from the local clock; AwsApi stamps it from AWS's (`_dated`)
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


class AwsApi:
    """moto's WSGI app with interceptors, served on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str | None = None,
        clock: Callable[[], float] | None = None,
    ):
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )

        self._moto = DomainDispatcherApplication(create_backend_app)
        self._interceptors: list[tuple[str, Interceptor]] = []
        self._limits: list[Interceptor] = []  # run before any interceptor, for every service
        self._observers: list[tuple[str, Callable[[ApiCall], None]]] = []
        self._lock = threading.Lock()
        self._host, self._port = host, port
        # moto's documented multi-account switch: every call to this endpoint is this account's
        self._account_id = account_id
        self._clock = clock or time.time  # AWS's clock, for the Date header
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def intercept(self, service: str, interceptor: Interceptor) -> None:
        """Route calls for `service` (the signing name, e.g. 'monitoring') through `interceptor`
        first; it returns a Response to answer, or None to let moto answer."""
        with self._lock:
            self._interceptors.append((service, interceptor))

    def call_moto(self, call: ApiCall) -> tuple[int, list[tuple[str, str]], bytes]:
        """Let moto answer `call` and return its (status, headers, body), for interceptors
        that reshape moto's answer (e.g. paginate it)."""
        import io

        environ = dict(call.request.environ)
        environ["wsgi.input"] = io.BytesIO(call.body)
        environ["CONTENT_LENGTH"] = str(len(call.body))
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        with aws_time(self._clock):
            body = b"".join(_drained(self._moto(environ, start_response)))
        return int(str(captured["status"]).split()[0]), list(captured["headers"]), body

    def observe(self, service: str, observer: Callable[[ApiCall], None]) -> None:
        """Call `observer(call)` after each call for `service` has been answered (its
        effect is in moto's state by then), e.g. to mark the state watcher dirty."""
        with self._lock:
            self._observers.append((service, observer))

    def _answered(self, call: ApiCall) -> None:
        for service, observer in self._observers:
            if service == call.service:
                observer(call)

    def limit(self, limiter: Interceptor) -> None:
        """Run `limiter` on every call before the interceptors (request-rate quotas)."""
        with self._lock:
            self._limits.append(limiter)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._account_id is not None:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = self._account_id
        start_response = _dated(start_response, self._clock)
        interceptors = self._interceptors
        call: ApiCall | None = None
        if interceptors or self._limits or self._observers:
            request = Request(environ)
            body = request.get_data(cache=True)
            call = _classify(request, body)
            for limiter in self._limits:
                refusal = limiter(call)
                if refusal is not None:
                    return refusal(environ, start_response)
            for service, interceptor in interceptors:
                if service == call.service:
                    with aws_time(self._clock):  # interceptors call moto's backends too
                        response = interceptor(call)
                    if response is not None:
                        self._answered(call)
                        return response(environ, start_response)
            # get_data consumed the stream; give moto a fresh one.
            import io

            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        with aws_time(self._clock):  # what moto stamps, it stamps on AWS's clock
            answer = _drained(self._moto(environ, start_response))
        if call is not None:
            self._answered(call)
        return answer

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        # Bind here: werkzeug prints and sys.exit()s on a port in use; an OSError lets the
        # sandbox report one line. werkzeug then serves on a duplicate of this socket.
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
            sock.bind((self._host, self._port))
            sock.listen(128)
            self._server = make_server(
                self._host,
                self._port,
                self,
                threaded=True,
                request_handler=_QuietHandler,
                fd=sock.fileno(),
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-aws-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
