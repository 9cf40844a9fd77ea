"""The data plane component: everything a request to the sandbox's API goes through.

Started by `Sandbox` after the AWS API: an event loop thread (gateway, execution
environments, dependency servers), the Lambda interceptors, the default stack, the state
watcher, the metrics/logs flusher and the HTTP gateway. After start the sandbox has:

    sb.routes                     {path: Route(path, function, alias, methods, api, stage)}
    sb.dataplane.register_handler(function, handler)
    sb.dataplane.add_route(path, function, alias="production")
    sb.dataplane.url(path)        the URL the twin serves the route at (its stage's prefix)
    sb.dataplane.invoke(function, qualifier, event) -> Invocation   (sync, any thread)
    sb.dataplane.poke()           diff moto state now (after in-process changes)
    sb.dataplane.raw_datapoints(metric, dimensions, start, end, namespace="AWS/Lambda")
    sb.dataplane.set_init_duration(function, ms)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.wrappers import Response

from . import stacks
from .awsapi import ApiCall, aws_error
from .denylist import loopback_for
from .dependencies import DependencyServer, DependencyState
from .errors import SandboxError
from .gateway import ApiKind, Gateway, GatewayServer, Route, RouteTable, stage_prefix
from .handlers import HEALTH_HANDLERS, Handler
from .lambda_rules import LambdaRules
from .moto_adapter import ssm_parameter_names
from .public_layers import fis_parameter_interceptor
from .runtime import HandlerRegistry, Invocation, LambdaService, LambdaState
from .stack import StackInfo, provision
from .telemetry import Telemetry, exact_dimension_statistics, raw_datapoints
from .watch import StateWatcher

DEFAULT_ACCOUNT = "123456789012"
_READS = ("Get", "List", "Describe")  # SandboxConfig's default (moto's too)

if TYPE_CHECKING:
    from .core import Sandbox

__all__ = ["DataPlane"]

T = TypeVar("T")


class _LoopThread:
    """An asyncio loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="sandbox-dataplane", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_closed():
            return

        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(_cancel_rest(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


class DataPlane:
    """The sandbox's data plane (see the module docstring for what it adds to a Sandbox)."""

    def __init__(self) -> None:
        self.sandbox: Sandbox | None = None
        self.routes: dict[str, Route] = RouteTable()
        self.stack: StackInfo | None = None
        self._stack = contextlib.ExitStack()
        self._deps: dict[str, DependencyServer] = {}
        self._s3_state = DependencyState()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        cfg = sandbox.config
        extra: Mapping[str, Any] = cfg.extra
        self.account_id, self.region = cfg.account_id, cfg.region
        self.truth = sandbox.truth
        self.state = LambdaState(cfg.account_id, cfg.region)
        self.handlers = HandlerRegistry(self.state)
        # faithful timing: AWS/Lambda metrics reach CloudWatch a minute late (control.py)
        publish_delay = extra.get(
            "metric_publish_delay_s", 60.0 if cfg.timing == "faithful" else 0.0
        )
        if not isinstance(publish_delay, int | float) or publish_delay < 0:
            raise SandboxError("SandboxConfig.extra['metric_publish_delay_s'] must be >= 0")
        self.telemetry = Telemetry(cfg.account_id, cfg.region, publish_delay_s=float(publish_delay))
        self.telemetry.clock_skew_s = cfg.clock_skew_s
        sock = _bind(cfg.host, cfg.api_port)  # first: a port in use fails before any work
        self._stack.callback(sock.close)
        self._stack.enter_context(exact_dimension_statistics())
        self.telemetry.start()
        self._stack.callback(self.telemetry.stop)

        self._loop = _LoopThread()
        self._loop.start()
        self._stack.callback(self._loop.stop)
        # failure-lambda caches its parameter 60 s; fast timing reads it on every invocation so a
        # fault takes effect at the instant its truth event is recorded.
        ttl = float(extra.get("failure_cache_ttl_s", 60.0 if cfg.timing == "faithful" else 0.0))
        self.service = LambdaService(
            self.state,
            self.handlers,
            self.telemetry,
            self.truth,
            seed=cfg.seed,
            init_duration_ms=cfg.init_duration_ms,
            idle_expiry_s=cfg.idle_expiry_s,
            failure_cache_ttl_s=ttl,
            ssm_value=self._ssm_value,
        )
        self.service.init_overrides.update(
            {str(k): float(v) for k, v in dict(extra.get("init_duration_overrides", {})).items()}
        )
        self._loop.call(self.service.start())
        self._stack.callback(lambda: self._loop.call(self.service.stop()))

        for name in ("database", "redis"):
            host = cfg.host if cfg.host != "localhost" else "127.0.0.1"
            # each on its own loopback address, so a denylist host pattern can single it out
            server = DependencyServer(name, loopback_for(name, host))
            self._loop.call(server.start())
            self._deps[name] = server
        self._stack.callback(self._stop_dependencies)

        rules = LambdaRules(
            self.state,
            self.service,
            self._loop.loop,
            self._changed,
            allow_other_region_layers=cfg.relaxed("cross-region-layers"),
        )
        sandbox.api.intercept("lambda", rules)
        sandbox.api.intercept("s3", self._s3_dependency)
        sandbox.api.intercept("ssm", fis_parameter_interceptor(cfg.region))

        dep_host = self._deps["database"].host
        # A stack file that names none of the seed's functions gets none of them.
        seed = (cfg.stack_file or cfg.serverless_file) is None or stacks.wants_seed(cfg)
        self.stack = (
            None
            if not seed
            else provision(
                sandbox.endpoint_url,
                cfg.region,
                service=cfg.service,
                stage=cfg.stage,
                dependency_env={
                    "DATABASE_HOST": dep_host,
                    "DATABASE_PORT": str(self._deps["database"].port),
                    "REDIS_HOST": self._deps["redis"].host,
                    "REDIS_PORT": str(self._deps["redis"].port),
                    "AWS_ENDPOINT_URL_S3": sandbox.endpoint_url,
                },
                before_publish=lambda fn: self.handlers.register(fn, self._stack_handler(fn)),
                bucket_suffix="" if cfg.account_id == DEFAULT_ACCOUNT else f"-{cfg.account_id}",
            )
        )
        user_handlers: dict[str, Handler] = {**dict(extra.get("handlers", {})), **cfg.handlers}
        for fn, handler in user_handlers.items():
            self.register_handler(fn, handler)
        for name, fdef in self.stack.functions.items() if self.stack else ():
            self.routes[fdef.path] = Route(fdef.path, name, "production")

        self.watcher = StateWatcher(
            self.state,
            self.service,
            self.handlers,
            self.truth,
            self._ssm_value,
            self._ssm_names,
            self._apply_dependency,
        )
        self.watcher.start()
        self._stack.callback(self.watcher.stop)
        sandbox.api.observe("lambda", self._api_write)
        sandbox.api.observe("ssm", self._api_write)

        self.gateway = Gateway(
            self.service,
            self.routes,
            stage=cfg.stage,
            account_id=cfg.account_id,
            integration_timeout_s=float(
                extra.get("integration_timeout_s", cfg.integration_timeout_s)
            ),
            executed_version_header=cfg.relaxed("executed-version-header"),
        )
        self._server = GatewayServer(self.gateway, sock)
        self._server.start(self._loop.loop)
        self._stack.callback(self._server.stop)
        self._root = f"http://{cfg.host}:{self._server.port}"
        sandbox.dataplane = self
        sandbox.routes = self.routes
        self.refresh_api_url()

    def stop(self) -> None:
        self._stack.close()

    def _stop_dependencies(self) -> None:
        for server in self._deps.values():
            with contextlib.suppress(Exception):
                self._loop.call(server.stop(), timeout=5)

    def _stack_handler(self, function: str) -> Handler:
        assert self.stack is not None or self.sandbox is not None
        short = function.split("-", 2)[-1] if function.count("-") >= 2 else function
        return HEALTH_HANDLERS[short]

    # -- public API ---------------------------------------------------------------------

    def register_handler(self, function: str, handler: Handler) -> None:
        """Set the Python callable behind `$LATEST` of `function` (new code: the next publish
        makes a new version; published versions keep theirs)."""
        self.handlers.register(function, handler)
        self.service.retire(function)

    def add_route(
        self,
        path: str,
        function: str,
        alias: str | None = "production",
        *,
        methods: tuple[str, ...] = ("GET",),
        api: ApiKind = "REST",
        stage: str | None = None,
    ) -> Route:
        """Serve `path` (GET) by `function` through `alias` (None: unqualified, `$LATEST`),
        on a REST API's stage (None: the twin's) or an HTTP API's (None: `$default`)."""
        route = Route(path, function, alias, methods, api, stage)
        self.routes[path] = route
        return route

    def url(self, path: str) -> str:
        """The URL of the route at `path`, under its API's stage."""
        return self._root + self.gateway.url_path(self.routes[path])

    def refresh_api_url(self) -> None:
        """The sandbox's api_url: the stage every route is served under (`.../dev`), or the
        host's root when the routes are on several stages (a REST API's `/Prod` and an
        HTTP API's `$default`): the twin serves every API on one host."""
        assert self.sandbox is not None
        prefixes = {stage_prefix(self.gateway.stage_of(r)) for r in self.routes.values()}
        if not prefixes:  # no route yet: the REST stage the seed would use
            prefixes = {"/" + self.gateway.stage}
        common = prefixes.pop() if len(prefixes) == 1 else ""
        self.sandbox.set_api_url(self._root + common)

    def invoke(
        self, function: str, qualifier: str | None, event: dict[str, Any], timeout: float = 960.0
    ) -> Invocation:
        """Invoke a function synchronously from any thread (e.g. a deployment hook)."""
        return self._loop.call(self.service.invoke(function, qualifier, event), timeout)

    def poke(self) -> None:
        """Diff moto's state now: call after changing aliases or configuration in-process so
        the change is recorded at the instant it was made."""
        self.watcher.poke()

    def set_init_duration(self, function: str, ms: float) -> None:
        self.service.init_overrides[function] = ms

    def raw_datapoints(
        self,
        metric: str,
        dimensions: Mapping[str, str],
        start: float,
        end: float,
        namespace: str = "AWS/Lambda",
    ) -> list[tuple[float, float]]:
        """Raw (epoch, value) datapoints with exactly these dimensions (flushes first)."""
        self.telemetry.flush()
        return raw_datapoints(
            self.account_id, self.region, namespace, metric, dict(dimensions), start, end
        )

    def dependency_port(self, name: str) -> int:
        return self._deps[name].port

    # -- internals ------------------------------------------------------------------------

    def _changed(self, function: str) -> None:
        self.watcher.poke()

    def _api_write(self, call: ApiCall) -> None:
        """A Lambda or SSM call was answered: a write marks the watcher dirty (reads do not,
        nor invocations, so a harness polling GetAlias costs the watcher nothing)."""
        op = call.operation
        if op is None and (call.method == "GET" or call.path.endswith("/invocations")):
            return
        if (op or "").startswith(_READS):
            return
        self.watcher.mark_dirty()

    def _ssm_backend(self) -> Any:
        from moto.ssm.models import ssm_backends

        return ssm_backends[self.account_id][self.region]

    def _ssm_value(self, name: str) -> str | None:
        try:
            param = self._ssm_backend().get_parameter(name)
        except Exception:  # moto raises for unknown names in some versions
            return None
        return None if param is None else str(param.value)

    def _ssm_names(self, prefix: str) -> list[str]:
        return [n for n in ssm_parameter_names(self._ssm_backend()) if n.startswith(prefix)]

    def _apply_dependency(self, name: str, state: DependencyState) -> None:
        if name == "s3":
            self._s3_state = state
            return
        server = self._deps.get(name)
        if server is not None:
            self._loop.call(server.apply(state), timeout=5)

    def _s3_dependency(self, call: ApiCall) -> Response | None:
        bucket = self.stack.bucket if self.stack else None
        if bucket is None or not (call.path == f"/{bucket}" or call.path.startswith(f"/{bucket}/")):
            return None
        state = self._s3_state
        if state.latency_ms:
            time.sleep(state.latency_ms / 1000)
        if state.state == "down":
            return aws_error(
                call, 503, "ServiceUnavailable", "Service is unable to handle request."
            )
        return None


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.setblocking(False)
    return sock
