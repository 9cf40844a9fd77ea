"""The Lambda service of the twin: invocation, routing, execution environments, concurrency,
timeouts and faults — all decided from the state moto holds, read in-process per request.

Everything async runs on the data plane's event loop; handlers run on a thread pool, one
invocation at a time per execution environment. Nothing here makes a boto3 call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from .denylist import run_denied
from .faults import ChaosExtension, FailureFlag, chaos_extension, parse_failure_config
from .fis.extension import FisDecision, FisExtension
from .handlers import EnvironmentInfo, Handler, LambdaContext
from .telemetry import Dimensions, Telemetry
from .truth import GroundTruth

__all__ = [
    "HandlerRegistry",
    "Invocation",
    "LambdaService",
    "LambdaState",
    "Outcome",
    "ProvisionedConfig",
    "RawPayload",
]

Outcome = Literal["ok", "error", "timeout", "throttled", "not_found"]
LATEST = "$LATEST"

# What a small Python function uses; the sandbox shares one process, so this is modelled.
MODELLED_MEMORY_MB = 48


class RawPayload(str):
    """A response payload already serialised (the chaos extension's replacement body):
    the caller parses it as JSON instead of using it as a Python value."""


class LambdaState:
    """Direct, read-only access to moto's Lambda backend (no HTTP, no boto3)."""

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self._arns: dict[str, str] = {}

    @property
    def backend(self) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[self.account_id][self.region]

    def function_arn(self, name: str) -> str:
        arn = self._arns.get(name)
        if arn is None:
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            self._arns[name] = arn
        return arn

    # moto's public backend methods only (no private attributes: see moto_adapter.py).

    def names(self) -> list[str]:
        return [fn.function_name for fn in self.backend.list_functions()]

    def latest(self, name: str) -> Any | None:
        # By unqualified ARN moto answers `$LATEST`, and None (no exception) when unknown.
        return self.backend.get_function_by_arn(self.function_arn(name))

    def versions(self, name: str) -> list[Any]:
        # moto lists a copy of `$LATEST` first, then the published versions.
        return list(self.backend.list_versions_by_function(name))[1:]

    def version(self, name: str, version: str) -> Any | None:
        if version == LATEST:
            return self.latest(name)
        for fn in self.versions(name):
            if str(fn.version) == version:
                return fn
        return None

    def aliases(self, name: str) -> dict[str, Any]:
        if self.latest(name) is None:
            return {}
        return {a.name: a for a in self.backend.list_aliases(name)}

    def alias(self, name: str, alias: str) -> Any | None:
        return self.aliases(name).get(alias)

    @staticmethod
    def weights(alias: Any) -> dict[str, float]:
        routing = alias.routing_config or {}
        raw = routing.get("AdditionalVersionWeights") or {}
        return {str(k): float(v) for k, v in raw.items()}

    def reserved_concurrency(self, name: str) -> int | None:
        latest = self.latest(name)
        value = None if latest is None else latest.reserved_concurrency
        return None if value is None else int(value)


class HandlerRegistry:
    """Python callables behind functions. `$LATEST` has the current one; a published version
    keeps the handler it was published with (published versions are immutable)."""

    def __init__(self, state: LambdaState):
        self._state = state
        self._latest: dict[str, Handler] = {}
        self._versions: dict[tuple[str, str], Handler] = {}
        self._lock = threading.Lock()

    def snapshot_versions(self, name: str) -> None:
        """Pin every published version not yet pinned to the current `$LATEST` handler."""
        with self._lock:
            current = self._latest.get(name)
            if current is None:
                return
            for fn in self._state.versions(name):
                self._versions.setdefault((name, str(fn.version)), current)

    def register(self, name: str, handler: Handler) -> None:
        self.snapshot_versions(name)
        with self._lock:
            self._latest[name] = handler
        latest = self._state.latest(name)
        if latest is not None:  # new code: the next publish_version makes a new version
            latest.code_or_config_updated = True

    def get(self, name: str, version: str) -> Handler | None:
        if version == LATEST:
            return self._latest.get(name)
        handler = self._versions.get((name, version))
        if handler is None:
            self.snapshot_versions(name)
            handler = self._versions.get((name, version))
        return handler


@dataclass(eq=False)
class Environment:
    """One execution environment of one function version."""

    function: str
    version: str
    info: EnvironmentInfo
    stream: str
    ready: bool = False
    busy: bool = False
    retired: bool = False
    cold_pending: bool = False  # the next invocation reports Init Duration
    provisioned_for: str | None = None  # qualifier of the provisioned config holding it
    last_used: float = field(default_factory=time.monotonic)
    failure_cache: tuple[float, tuple[FailureFlag, ...]] | None = None


@dataclass
class ProvisionedConfig:
    function: str
    qualifier: str
    requested: int
    status: Literal["IN_PROGRESS", "READY", "FAILED"] = "IN_PROGRESS"
    allocated: int = 0
    last_modified: str = field(default_factory=lambda: _aws_stamp(time.time()))
    warming: int = 0


@dataclass(frozen=True)
class Invocation:
    """What the Lambda service did with one invocation."""

    request_id: str
    function: str
    resource: str | None  # fn:alias or fn:version when invoked with a qualifier
    executed_version: str | None
    outcome: Outcome
    payload: object  # the handler's return value, or AWS's error object
    started_at: float  # epoch seconds, the metrics' timestamp
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    provisioned: bool = False
    log: str = ""  # the lines this invocation wrote (START ... REPORT), for LogType=Tail


class _HandlerError(Exception):
    def __init__(self, payload: dict[str, object]):
        self.payload = payload


class LambdaService:
    """Invokes functions the way AWS Lambda does, from moto's state."""

    def __init__(
        self,
        state: LambdaState,
        handlers: HandlerRegistry,
        telemetry: Telemetry,
        truth: GroundTruth,
        *,
        seed: int,
        init_duration_ms: float,
        idle_expiry_s: float,
        failure_cache_ttl_s: float,
        ssm_value: Callable[[str], str | None],
    ):
        self.state = state
        self.handlers = handlers
        self.telemetry = telemetry
        self.truth = truth
        self.init_duration_ms = init_duration_ms
        self.init_overrides: dict[str, float] = {}
        self.idle_expiry_s = idle_expiry_s
        self.failure_cache_ttl_s = failure_cache_ttl_s
        self._ssm_value = ssm_value
        # Separate streams: the k-th routing decision is the same whatever the faults draw,
        # so the versions served by N requests do not depend on their interleaving.
        self.route_rng = random.Random(seed)
        self.fault_rng = random.Random(seed + 1)
        self.envs: list[Environment] = []
        self.busy: dict[str, int] = {}
        self.provisioned: dict[tuple[str, str], ProvisionedConfig] = {}
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="sandbox-lambda")
        self.loop: asyncio.AbstractEventLoop | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self.fis: FisExtension | None = None  # set by the FIS component (sandbox/fis)

    # -- lifecycle (on the loop) ----------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._maintainer = self.loop.create_task(self._maintain())

    async def stop(self) -> None:
        if self._maintainer is not None:
            self._maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintainer
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- configuration changes (any thread) -------------------------------------------------

    def retire(self, function: str, version: str = LATEST) -> None:
        """The version's configuration changed: its environments are not reused."""
        for env in list(self.envs):
            if env.function == function and env.version == version:
                env.retired = True

    # -- invocation ---------------------------------------------------------------------

    def resolve(self, function: str, qualifier: str | None) -> tuple[str | None, str | None]:
        """(executed version, Resource dimension) for a qualifier; version None if absent."""
        if qualifier is None or qualifier == LATEST:
            return (LATEST if self.state.latest(function) is not None else None), None
        resource = f"{function}:{qualifier}"
        alias = self.state.alias(function, qualifier)
        if alias is None:
            found = self.state.version(function, qualifier)
            return (qualifier if found is not None else None), resource
        version = str(alias.function_version)
        for extra, weight in self.state.weights(alias).items():
            if self.route_rng.random() < weight:
                version = extra
            break  # AWS allows one additional version
        return version, resource

    async def invoke(
        self,
        function: str,
        qualifier: str | None,
        event: dict[str, Any],
        request_id: str | None = None,
    ) -> Invocation:
        started_at = time.time()
        request_id = request_id or str(uuid.uuid4())
        version, resource = self.resolve(function, qualifier)
        fobj = None if version is None else self.state.version(function, version)
        if version is None or fobj is None:
            return Invocation(request_id, function, resource, None, "not_found", None, started_at)

        base: list[Dimensions] = [(), (("FunctionName", function),)]
        if resource is not None:
            base.append((("FunctionName", function), ("Resource", resource)))
        reserved = self.state.reserved_concurrency(function)
        running = self.busy.get(function, 0)
        if reserved is not None and running >= reserved:
            self.telemetry.metric("Throttles", 1.0, base, started_at)
            return Invocation(
                request_id, function, resource, version, "throttled", None, started_at
            )

        self.busy[function] = running + 1
        env = self._idle_env(function, version)
        pc = self._provisioned_key(function, qualifier)
        init_ms: float | None = None
        try:
            if env is None:
                env = self._new_env(function, version)
                env.busy = True
                await self._initialise(env)
            env.busy = True
            if env.cold_pending:
                env.cold_pending = False
                init_ms = env.info.init_duration_ms
            env.info.invocations += 1
            result = await self._run(env, fobj, event, request_id, resource, version, init_ms)
        finally:
            self.busy[function] = self.busy.get(function, 1) - 1
            if env is not None:
                env.busy = False
                env.last_used = time.monotonic()
                if env.retired:
                    self._discard(env)

        dims = list(base)
        if resource is not None and qualifier != version:  # alias invocation
            dims.append(
                (("ExecutedVersion", version), ("FunctionName", function), ("Resource", resource))
            )
        self.telemetry.metric("Invocations", 1.0, dims, started_at)
        self.telemetry.metric("Errors", 0.0 if result.outcome == "ok" else 1.0, dims, started_at)
        self.telemetry.metric("Duration", result.duration_ms, dims, started_at, "Milliseconds")
        self.telemetry.metric("ConcurrentExecutions", float(running + 1), base, started_at)
        if pc is not None:
            name = (
                "ProvisionedConcurrencyInvocations"
                if env.provisioned_for
                else "ProvisionedConcurrencySpilloverInvocations"
            )
            self.telemetry.metric(name, 1.0, dims, started_at)
        return Invocation(
            request_id,
            function,
            resource,
            version,
            result.outcome,
            result.payload,
            started_at,
            result.duration_ms,
            init_ms,
            env.provisioned_for is not None,
            result.log,
        )

    # -- environments -------------------------------------------------------------------

    def _idle_env(self, function: str, version: str) -> Environment | None:
        chosen: Environment | None = None
        for env in self.envs:
            if (
                env.function == function
                and env.version == version
                and env.ready
                and not env.busy
                and not env.retired
            ):
                if env.provisioned_for is not None:
                    return env
                if chosen is None:
                    chosen = env
        return chosen

    def _new_env(self, function: str, version: str) -> Environment:
        env_id = uuid.uuid4().hex
        # the stream's date is AWS's (skewed clock), as its log lines' timestamps are
        day = datetime.fromtimestamp(time.time() + self.telemetry.clock_skew_s, UTC).strftime(
            "%Y/%m/%d"
        )
        info = EnvironmentInfo(env_id, time.time(), 0.0)
        env = Environment(function, version, info, f"{day}/[{version}]{env_id}")
        self.envs.append(env)
        return env

    async def _initialise(self, env: Environment, provisioned_for: str | None = None) -> None:
        init_s = self.init_overrides.get(env.function, self.init_duration_ms) / 1000
        start = time.perf_counter()
        env.info.started_at = time.time()
        await asyncio.sleep(init_s)
        env.info.init_duration_ms = (time.perf_counter() - start) * 1000
        env.ready = True
        env.cold_pending = provisioned_for is None
        env.provisioned_for = provisioned_for
        self.truth.record(
            "environment",
            env.function,
            at=env.info.started_at,
            event="init",
            version=env.version,
            environment=env.info.id,
            init_duration_ms=round(env.info.init_duration_ms, 3),
            provisioned=provisioned_for is not None,
        )

    def _discard(self, env: Environment) -> None:
        if env in self.envs:
            self.envs.remove(env)
            if self.fis is not None:
                self.fis.forget(env.info.id)
            self.truth.record(
                "environment",
                env.function,
                event="discard",
                version=env.version,
                environment=env.info.id,
            )

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            for env in list(self.envs):
                if env.busy or not env.ready:
                    continue
                if env.retired or (
                    env.provisioned_for is None and now - env.last_used > self.idle_expiry_s
                ):
                    self._discard(env)
            for config in list(self.provisioned.values()):
                self._keep_provisioned(config)

    # -- provisioned concurrency --------------------------------------------------------

    def _provisioned_key(self, function: str, qualifier: str | None) -> tuple[str, str] | None:
        if qualifier is None:
            return None
        key = (function, qualifier)
        return key if key in self.provisioned else None

    def _keep_provisioned(self, config: ProvisionedConfig) -> None:
        version, _ = self._primary(config.function, config.qualifier)
        held = 0
        for env in self.envs:
            if env.function != config.function or env.provisioned_for != config.qualifier:
                continue
            if env.version != version or env.retired:
                env.provisioned_for = None  # the alias moved: back to on-demand
            else:
                held += 1
        missing = config.requested - held - config.warming
        config.allocated = held
        if missing > 0 and version is not None:
            config.status = "IN_PROGRESS"
            for _ in range(missing):
                config.warming += 1
                assert self.loop is not None
                self.loop.create_task(self._warm(config, version))
        elif held >= config.requested and config.warming == 0:
            config.status = "READY"

    def _reserved_env(self, function: str, version: str, memory: int) -> dict[str, str]:
        """The reserved variables Lambda sets in every execution environment."""
        return {
            "AWS_REGION": self.state.region,
            "AWS_DEFAULT_REGION": self.state.region,
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        }

    def _primary(self, function: str, qualifier: str) -> tuple[str | None, str | None]:
        alias = self.state.alias(function, qualifier)
        if alias is not None:
            return str(alias.function_version), f"{function}:{qualifier}"
        if self.state.version(function, qualifier) is not None:
            return qualifier, f"{function}:{qualifier}"
        return None, None

    async def _warm(self, config: ProvisionedConfig, version: str) -> None:
        env = self._new_env(config.function, version)
        try:
            await self._initialise(env, provisioned_for=config.qualifier)
        finally:
            config.warming -= 1
        if self.provisioned.get((config.function, config.qualifier)) is not config:
            env.provisioned_for = None  # deleted while warming
        self._keep_provisioned(config)

    def put_provisioned(self, function: str, qualifier: str, requested: int) -> ProvisionedConfig:
        config = ProvisionedConfig(function, qualifier, requested)
        config.last_modified = _aws_stamp(time.time() + self.telemetry.clock_skew_s)
        old = self.provisioned.get((function, qualifier))
        if old is not None:
            config.warming = old.warming
        self.provisioned[(function, qualifier)] = config
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._keep_provisioned, config)
        return config

    def delete_provisioned(self, function: str, qualifier: str) -> bool:
        config = self.provisioned.pop((function, qualifier), None)
        if config is None:
            return False
        for env in self.envs:
            if env.function == function and env.provisioned_for == qualifier:
                env.provisioned_for = None
                env.last_used = time.monotonic()
        return True

    # -- running one invocation ---------------------------------------------------------

    @dataclass(frozen=True)
    class _Result:
        outcome: Outcome
        payload: object
        duration_ms: float
        log: str = ""

    async def _run(
        self,
        env: Environment,
        fobj: Any,
        event: dict[str, Any],
        request_id: str,
        resource: str | None,
        version: str,
        init_ms: float | None,
    ) -> LambdaService._Result:
        function = env.function
        group = f"/aws/lambda/{function}"
        timeout_s = float(fobj.timeout)
        memory = int(fobj.memory_size)
        envvars: Mapping[str, str] = dict(fobj.environment_vars or {})
        layers = [layer["Arn"] for layer in (fobj.layers or [])]
        handler = self.handlers.get(function, version)
        start_mono = time.monotonic()
        start_wall = time.time()
        lines: list[str] = []

        def log(at: float, message: str) -> None:
            lines.append(message)
            self.telemetry.log(group, env.stream, at, message)

        log(start_wall, f"START RequestId: {request_id} Version: {version}")
        arn = self.state.function_arn(function) + (
            f":{resource.split(':', 1)[1]}" if resource else ""
        )
        context = LambdaContext(
            function_name=function,
            function_version=version,
            invoked_function_arn=arn,
            memory_limit_in_mb=memory,
            aws_request_id=request_id,
            log_group_name=group,
            log_stream_name=env.stream,
            deadline_monotonic=start_mono + timeout_s,
            env={**envvars, **self._reserved_env(function, version, memory)},
            execution_environment=env.info,
            memory_used_mb=min(memory, MODELLED_MEMORY_MB),
        )
        extension = chaos_extension(envvars, layers)
        flags = self._failure_flags(env, envvars)
        fis = self._fis(env, fobj, envvars, layers, version, resource, start_wall)
        outcome: Outcome = "ok"
        payload: object
        extra_log: str | None = None
        try:
            async with asyncio.timeout(timeout_s):  # cheaper than wait_for: no extra task
                payload = await self._execute(
                    handler, event, context, extension, flags, timeout_s, fis
                )
        except TimeoutError:
            outcome = "timeout"
            payload = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": (
                    f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
                ),
            }
            aws_now = _iso(time.time() + self.telemetry.clock_skew_s)
            extra_log = f"{aws_now} {request_id} Task timed out after {timeout_s:.2f} seconds"
            env.retired = True  # the runtime is restarted: the next call is cold
        except _HandlerError as exc:
            outcome = "error"
            payload = exc.payload
            extra_log = f"[ERROR] {exc.payload['errorType']}: {exc.payload['errorMessage']}"
        duration_ms = (
            timeout_s * 1000 if outcome == "timeout" else (time.monotonic() - start_mono) * 1000
        )
        end_wall = time.time()
        if extra_log:
            log(end_wall, extra_log)
        log(end_wall, f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
            f"\tBilled Duration: {max(1, math.ceil(duration_ms))} ms"
            f"\tMemory Size: {memory} MB\tMax Memory Used: {min(memory, MODELLED_MEMORY_MB)} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        if outcome == "timeout":
            report += "\tStatus: timeout"
        log(end_wall, report)
        return LambdaService._Result(
            outcome, payload, duration_ms, "".join(f"{m}\n" for m in lines)
        )

    def _failure_flags(
        self, env: Environment, envvars: Mapping[str, str]
    ) -> tuple[FailureFlag, ...]:
        param = envvars.get("FAILURE_INJECTION_PARAM")
        if not param:
            return ()
        now = time.monotonic()
        cached = env.failure_cache
        if cached is not None and now - cached[0] < self.failure_cache_ttl_s:
            return cached[1]
        flags = parse_failure_config(self._ssm_value(param))
        env.failure_cache = (now, flags)
        return flags

    def _fis(
        self,
        env: Environment,
        fobj: Any,
        envvars: Mapping[str, str],
        layers: list[str],
        version: str,
        resource: str | None,
        at: float,
    ) -> FisDecision | None:
        if self.fis is None:
            return None
        arch = str((fobj.architectures or ["x86_64"])[0])
        qualifier = resource.split(":", 1)[1] if resource else None
        decision = self.fis.decide(
            env.info.id, envvars, layers, arch, env.function, version, qualifier, str(fobj.role)
        )
        if (
            decision is not None
            and decision.applied
            and envvars.get("AWS_FIS_EXTENSION_METRICS") == "all"
        ):
            # EMF in namespace aws-fis-extension (FIS user guide); metric names are modelled
            dims: list[Dimensions] = [(("FunctionName", env.function),)]
            for fault in decision.applied:
                self.telemetry.metric(
                    f"{fault.kind}.injected", 1.0, dims, at, namespace="aws-fis-extension"
                )
        return decision

    async def _execute(
        self,
        handler: Handler | None,
        event: dict[str, Any],
        context: LambdaContext,
        extension: ChaosExtension | None,
        flags: tuple[FailureFlag, ...],
        timeout_s: float,
        fis: FisDecision | None = None,
    ) -> object:
        rng = self.fault_rng
        if fis is not None and fis.delay_ms:
            await asyncio.sleep(fis.delay_ms / 1000)
        fis_response = fis.response if fis is not None else None
        if fis_response is not None and fis_response.prevent_execution:
            return _fis_response(fis_response)
        if extension is not None and extension.latency_s and rng.random() < extension.latency_p:
            await asyncio.sleep(extension.latency_s)
        fired = [f for f in flags if rng.random() * 100 < f.percentage]
        for flag in fired:
            if flag.mode == "latency":
                lo, hi = sorted((flag.min_latency_ms, flag.max_latency_ms))
                await asyncio.sleep(rng.uniform(lo, hi) / 1000)
            elif flag.mode == "timeout":
                await asyncio.sleep(
                    max(0.0, context.get_remaining_time_in_millis() - flag.timeout_buffer_ms) / 1000
                )
        for flag in fired:
            if flag.mode == "statuscode":
                return {"statusCode": flag.status_code}
            if flag.mode == "exception":
                raise _HandlerError(
                    {"errorType": "Error", "errorMessage": flag.exception_msg, "stackTrace": []}
                )
        if handler is None:
            raise _HandlerError(
                {
                    "errorType": "Runtime.ImportModuleError",
                    "errorMessage": (
                        "Unable to import module: no handler registered for "
                        + context.function_name
                    ),
                    "stackTrace": [],
                }
            )
        assert self.loop is not None
        # failure-lambda denylist: lookups of matching hosts fail in this invocation only
        deny = [p for f in fired if f.mode == "denylist" for p in f.deny_list]
        call = functools.partial(handler, event, context)
        if deny:
            call = functools.partial(run_denied, deny, call)
        try:
            payload = await self.loop.run_in_executor(self.pool, call)
        except Exception as exc:
            raise _HandlerError(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ) from None
        for flag in fired:
            if flag.mode == "corruption" and isinstance(payload, dict):
                payload = {
                    **payload,
                    "body": flag.body if flag.body is not None else "\x00corrupted",
                }
        if (
            extension is not None
            and extension.response_body is not None
            and rng.random() < extension.response_p
        ):
            payload = RawPayload(extension.response_body)  # the extension swaps the raw bytes
        if fis_response is not None:
            return _fis_response(fis_response)
        return payload


def _fis_response(fault: Any) -> object:
    """The FIS extension's injected answer. invocation-error fails the invocation (its error
    object is modelled: AWS does not document it); invocation-http-integration-response
    answers a proxy response with the action's statusCode and Content-Type."""
    if fault.kind == "error":
        raise _HandlerError(
            {
                "errorType": "FisInjectedError",
                "errorMessage": f"Error injected by AWS FIS experiment {fault.experiment_id}",
                "stackTrace": [],
            }
        )
    return RawPayload(
        json.dumps(
            {
                "statusCode": fault.status_code,
                "headers": {"Content-Type": fault.content_type},
                "body": "",
            }
        )
    )


def _aws_stamp(epoch: float) -> str:
    """Lambda's LastModified shape: 2024-01-02T03:04:05.678+0000."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
