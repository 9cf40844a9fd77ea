"""Lambda handlers the sandbox runs: the context object and the seed's four health handlers.

A handler is a plain Python callable `handler(event, context)`, exactly as on AWS. Because
every function runs in this one process, a handler reads its function's environment
variables from `context.env` (not `os.environ`) and its execution environment from
`context.execution_environment` — the only two sandbox extensions to the AWS context.

The health handlers follow the seed's contract and answer `application/health+json`
(draft-inadarei-api-health-check): `/health` checks database, Redis, S3 and memory with
each check's status and response time; live checks nothing external; ready checks the
dependencies; startup reports initialisation. Dependencies are found through the
function's environment (DATABASE_HOST/PORT, REDIS_HOST/PORT, S3_BUCKET,
AWS_ENDPOINT_URL_S3), as a deployed function would find them.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "HEALTH_HANDLERS",
    "CheckStatus",
    "EnvironmentInfo",
    "Handler",
    "LambdaContext",
    "comprehensive_health",
    "liveness_probe",
    "readiness_probe",
    "stand_in",
    "stand_in_hook",
    "startup_probe",
]

CheckStatus = Literal["pass", "warn", "fail"]
WARN_MS = 100.0  # a check slower than the seed's health SLO is `warn`
CHECK_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout


@dataclass
class EnvironmentInfo:
    """The execution environment serving an invocation (sandbox extension)."""

    id: str
    started_at: float  # epoch seconds when initialisation began
    init_duration_ms: float
    invocations: int = 0  # including the current one; 1 means this is the cold start
    provisioned: bool = False
    state: dict[str, object] = field(default_factory=dict)  # handler's per-environment cache


@dataclass
class LambdaContext:
    """The context object AWS passes to a Python handler (plus `env` and
    `execution_environment`)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float
    env: Mapping[str, str]
    execution_environment: EnvironmentInfo
    # Every sandbox environment shares one OS process, so RSS says nothing about one
    # environment: the runtime passes its modelled usage (the REPORT line's figure).
    memory_used_mb: int | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


Handler = Callable[[dict[str, Any], LambdaContext], Any]


# -- checks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    status: CheckStatus
    ms: float
    output: str | None = None


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _tcp_check(env: Mapping[str, str], prefix: str, request: bytes, expect: bytes) -> _Check:
    """Send `request` to `<prefix>_HOST`:`<prefix>_PORT` (from the function's environment)
    and expect a reply that starts with `expect`."""
    host, port = env.get(f"{prefix}_HOST"), env.get(f"{prefix}_PORT")
    if not host or not port:
        return _Check("fail", 0.0, f"{prefix}_HOST / {prefix}_PORT not configured")
    start = time.perf_counter()
    try:
        with socket.create_connection((host, int(port)), timeout=CHECK_TIMEOUT_S) as sock:
            sock.settimeout(CHECK_TIMEOUT_S)
            sock.sendall(request)
            got = b""
            while len(got) < len(expect):
                chunk = sock.recv(64)
                if not chunk:
                    break
                got += chunk
    except OSError as exc:
        return _Check("fail", (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - start) * 1000
    if not got.startswith(expect):
        return _Check("fail", ms, f"unexpected reply {got[:40]!r}")
    return _Check("warn" if ms > WARN_MS else "pass", ms)


_s3_clients: dict[tuple[str, str], Any] = {}
_s3_lock = threading.Lock()


def _s3_client(endpoint: str, region: str) -> Any:
    # One client per endpoint for the process, like a module-level client in a real function.
    with _s3_lock:
        client = _s3_clients.get((endpoint, region))
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id="sandbox",
                aws_secret_access_key="testing",
                config=Config(
                    retries={"max_attempts": 1, "mode": "standard"},
                    connect_timeout=CHECK_TIMEOUT_S,
                    read_timeout=CHECK_TIMEOUT_S,
                ),
            )
            _s3_clients[(endpoint, region)] = client
        return client


def _s3(env: Mapping[str, str]) -> _Check:
    bucket, endpoint = env.get("S3_BUCKET"), env.get("AWS_ENDPOINT_URL_S3")
    if not bucket or not endpoint:
        return _Check("fail", 0.0, "S3_BUCKET / AWS_ENDPOINT_URL_S3 not configured")
    client = _s3_client(endpoint, env.get("AWS_REGION", "us-east-1"))
    start = time.perf_counter()
    try:
        client.head_bucket(Bucket=bucket)
    except Exception as exc:  # any SDK failure is a failed check, reported in `output`
        return _Check("fail", (time.perf_counter() - start) * 1000, " ".join(str(exc).split()))
    ms = (time.perf_counter() - start) * 1000
    return _Check("warn" if ms > WARN_MS else "pass", ms)


def _memory(context: LambdaContext) -> _Check:
    used_mb: float
    if context.memory_used_mb is not None:
        used_mb = context.memory_used_mb
    else:  # one environment per process, as on Lambda: the process's RSS is its usage
        try:
            with open("/proc/self/statm") as f:
                rss_pages = int(f.read().split()[1])
            used_mb = rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return _Check("warn", 0.0, "memory usage unavailable")
    pct = 100.0 * used_mb / max(context.memory_limit_in_mb, 1)
    return _Check("warn" if pct > 90 else "pass", pct)


def _entry(component: str, ctype: str, check: _Check, unit: str) -> dict[str, object]:
    entry: dict[str, object] = {
        "componentId": component,
        "componentType": ctype,
        "observedValue": round(check.ms, 3),
        "observedUnit": unit,
        "status": check.status,
        "time": _now_iso(),
    }
    if check.output:
        entry["output"] = check.output
    return entry


def _overall(statuses: list[CheckStatus]) -> CheckStatus:
    if "fail" in statuses:
        return "fail"
    return "warn" if "warn" in statuses else "pass"


def _response(
    context: LambdaContext,
    status: CheckStatus,
    checks: dict[str, list[dict[str, object]]],
    **extra: object,
) -> dict[str, object]:
    body: dict[str, object] = {
        "status": status,
        "version": "1",
        # what a platform exposes itself: API Gateway passes no version header to clients
        "releaseId": context.env.get("AWS_LAMBDA_FUNCTION_VERSION", context.function_version),
        "serviceId": context.function_name,
        "description": f"health of {context.env.get('FUNCTION_NAME', context.function_name)}",
        "checks": checks,
        **extra,
    }
    return {
        "statusCode": 503 if status == "fail" else 200,
        "headers": {"Content-Type": "application/health+json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }


def _dependency_checks(env: Mapping[str, str]) -> dict[str, list[dict[str, object]]]:
    database = _tcp_check(env, "DATABASE", b"SELECT 1\n", b"1\n")
    redis = _tcp_check(env, "REDIS", b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n")  # RESP PING
    return {
        "database:responseTime": [_entry("database", "datastore", database, "ms")],
        "redis:responseTime": [_entry("redis", "datastore", redis, "ms")],
        "s3:responseTime": [_entry("s3", "datastore", _s3(env), "ms")],
    }


def _statuses(checks: dict[str, list[dict[str, object]]]) -> list[CheckStatus]:
    return [e["status"] for entries in checks.values() for e in entries]  # type: ignore[misc]


# -- the four handlers -------------------------------------------------------------------


def comprehensive_health(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """`GET /health`: database, Redis, S3 and memory, each with status and response time."""
    checks = _dependency_checks(context.env)
    checks["memory:utilization"] = [_entry("memory", "system", _memory(context), "percent")]
    return _response(context, _overall(_statuses(checks)), checks)


def liveness_probe(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """`GET /health/live`: the process answers; nothing external is checked."""
    up = time.time() - context.execution_environment.started_at
    checks = {"uptime": [_entry("uptime", "system", _Check("pass", up), "s")]}
    return _response(context, "pass", checks)


def readiness_probe(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """`GET /health/ready`: the dependencies are usable."""
    checks = _dependency_checks(context.env)
    return _response(context, _overall(_statuses(checks)), checks)


def startup_probe(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """`GET /health/startup`: initialisation finished, and how long it took."""
    info = context.execution_environment
    check = _Check("pass", info.init_duration_ms, "initialised")
    checks = {"startup:initDuration": [_entry("startup", "system", check, "ms")]}
    return _response(
        context, "pass", checks, coldStart=info.invocations == 1, environmentId=info.id
    )


HEALTH_HANDLERS: dict[str, Handler] = {
    "health-comprehensive": comprehensive_health,
    "health-liveness": liveness_probe,
    "health-readiness": readiness_probe,
    "health-startup": startup_probe,
}


def stand_in(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """The handler of a function whose code the twin cannot run (any stack's function): a
    health+json 200 on each of its routes, exposing the served version the way a platform
    does — `releaseId` from `AWS_LAMBDA_FUNCTION_VERSION` — so routing, aliases, canaries,
    faults, alarms and rollbacks are observable through it."""
    version = context.env.get("AWS_LAMBDA_FUNCTION_VERSION") or context.function_version
    body = {
        "status": "pass",
        "version": "1",
        "releaseId": version,
        "serviceId": context.function_name,
        "description": f"stand-in for {context.function_name}: the twin does not run its code",
        "checks": {},
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/health+json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }


def stand_in_hook(endpoint_url: str, region: str) -> Handler:
    """The stand-in for a CodeDeploy lifecycle hook function whose code the twin cannot run:
    it reports `Succeeded` through PutLifecycleEventHookExecutionStatus, as a passing hook
    does (a hook that never reports times the deployment out, on AWS and here)."""

    def hook(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
        import boto3

        client = boto3.session.Session().client(
            "codedeploy",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id="sandbox",  # the functions' execution role (iam.py: exempt)
            aws_secret_access_key="sandbox",
        )
        client.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )
        return {"status": "Succeeded"}

    return hook
