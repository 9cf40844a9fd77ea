"""Faults as users inject them (chaos-lambda-extension, failure-lambda, dependencies through
SSM) and the telemetry that shows them (AWS/Lambda metrics on the documented dimension
sets, START/END/REPORT lines), all through the normal AWS APIs on the sandbox endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox_helpers import make_function, wait_until

from lambda_gameday.sandbox import Sandbox
from lambda_gameday.sandbox.public_layers import chaos_extension_layer


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "fine"}


def _sum(
    cw: Any, metric: str, dims: list[tuple[str, str]], since: datetime, stat: str = "Sum"
) -> float:
    points = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims],
        StartTime=since - timedelta(minutes=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )["Datapoints"]
    return float(sum(p[stat] for p in points))


def test_chaostoolkit_add_error_swaps_the_body_and_errors_do_not_move(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chaosaws.awslambda.actions import add_error, remove_error

    lam, cw = sandbox_client("lambda"), sandbox_client("cloudwatch")
    make_function(sandbox, lam, "ft-error", _ok)
    sandbox.dataplane.add_route("/error", "ft-error", None)  # type: ignore[union-attr]
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    since = datetime.now(UTC)
    layer = chaos_extension_layer(sandbox.config.region)  # its default is us-east-1's
    add_error(
        "ft-error",
        probability=1.0,
        layer=layer,
        configuration={"aws_region": sandbox.config.region},
    )
    r = httpx.get(sandbox.api_url + "/error")
    # chaostoolkit's default body is a proxy response with statusCode 500
    assert r.status_code == 500 and r.text == "Greeting from Chaos Toolkit"
    wait_until(lambda: _sum(cw, "Invocations", [("FunctionName", "ft-error")], since) == 1.0)
    assert _sum(cw, "Errors", [("FunctionName", "ft-error")], since) == 0.0
    remove_error("ft-error", layer=layer, configuration={"aws_region": sandbox.config.region})
    assert httpx.get(sandbox.api_url + "/error").status_code == 200
    changes = [
        e.detail["value"] is None
        for e in sandbox.truth.events("fault", "ft-error")
        if e.detail["fault"] == "chaos_response"
    ]
    assert changes == [False, True]  # injected, then removed


@pytest.mark.parametrize(
    ("config", "status", "min_s"),
    [
        (
            {
                "latency": {
                    "enabled": True,
                    "percentage": 100,
                    "min_latency": 300,
                    "max_latency": 300,
                }
            },
            200,
            0.3,
        ),
        ({"exception": {"enabled": True, "exception_msg": "boom"}}, 502, 0.0),
        ({"statuscode": {"enabled": True, "status_code": 418}}, 418, 0.0),
        ({"isEnabled": True, "failureMode": "statuscode", "rate": 1, "statusCode": 503}, 503, 0.0),
        ({"exception": {"enabled": False}}, 200, 0.0),
    ],
)
def test_failure_lambda_parameter(
    sandbox: Sandbox,
    sandbox_client: Callable[[str], Any],
    config: dict[str, Any],
    status: int,
    min_s: float,
) -> None:
    lam, ssm = sandbox_client("lambda"), sandbox_client("ssm")
    if "/failure" not in sandbox.routes:
        make_function(
            sandbox,
            lam,
            "ft-failure",
            _ok,
            path="/failure",
            env={"FAILURE_INJECTION_PARAM": "failureLambdaConfig"},
        )
    ssm.put_parameter(
        Name="failureLambdaConfig", Type="String", Value=json.dumps(config), Overwrite=True
    )
    # failure-lambda caches the parameter (60 s faithful, not at all in fast timing): poll
    seen: list[tuple[int, float]] = []

    def probe() -> bool:
        t = time.perf_counter()
        code = httpx.get(sandbox.api_url + "/failure", timeout=10).status_code
        seen.append((code, time.perf_counter() - t))
        return code == status

    wait_until(probe, timeout=3)
    assert seen[-1][1] >= min_s


def test_dependencies_go_down_and_slow_through_ssm(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    ssm = sandbox_client("ssm")
    param = "/gameday-sandbox/dependencies/"

    def set_dep(name: str, state: str, latency_ms: int = 0) -> None:
        ssm.put_parameter(
            Name=param + name,
            Type="String",
            Overwrite=True,
            Value=json.dumps({"state": state, "latency_ms": latency_ms}),
        )

    def checks() -> dict[str, Any]:
        r = httpx.get(sandbox.api_url + "/health", timeout=10)
        return {
            "code": r.status_code,
            **{k.split(":")[0]: v[0] for k, v in r.json()["checks"].items()},
        }

    try:
        set_dep("redis", "down")
        assert sandbox.truth.wait_for("dependency", "redis", timeout=2, state="down") is not None
        body = checks()
        assert (
            body["code"] == 503
            and body["redis"]["status"] == "fail"
            and body["database"]["status"] == "pass"
        )
        assert (
            httpx.get(sandbox.api_url + "/health/live").status_code == 200
        )  # live checks nothing external
        assert httpx.get(sandbox.api_url + "/health/ready").status_code == 503
        set_dep("redis", "up")
        set_dep("database", "up", latency_ms=150)
        set_dep("s3", "down")
        assert sandbox.truth.wait_for("dependency", "s3", timeout=2, state="down") is not None
        body = checks()
        assert body["redis"]["status"] == "pass"
        assert body["database"]["status"] == "warn" and body["database"]["observedValue"] >= 150
        assert body["s3"]["status"] == "fail" and body["code"] == 503
    finally:
        for dep in ("database", "redis", "s3"):
            set_dep(dep, "up")
    wait_until(lambda: httpx.get(sandbox.api_url + "/health", timeout=10).status_code == 200)


def test_metrics_on_documented_dimension_sets_and_logs(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, cw, logs = sandbox_client("lambda"), sandbox_client("cloudwatch"), sandbox_client("logs")
    make_function(sandbox, lam, "ft-metrics", _ok, path="/metrics", alias="production")
    since = datetime.now(UTC)
    for _ in range(3):
        assert httpx.get(sandbox.api_url + "/metrics").status_code == 200
    fn, res = ("FunctionName", "ft-metrics"), ("Resource", "ft-metrics:production")
    wait_until(lambda: _sum(cw, "Invocations", [fn], since) == 3.0)
    # the same 3 invocations on each dimension set, matched exactly (no double counting)
    assert _sum(cw, "Invocations", [fn, res], since) == 3.0
    assert _sum(cw, "Invocations", [fn, res, ("ExecutedVersion", "1")], since) == 3.0
    assert _sum(cw, "Errors", [fn], since) == 0.0
    assert _sum(cw, "Duration", [fn], since, "SampleCount") == 3.0
    assert _sum(cw, "ConcurrentExecutions", [fn], since, "Maximum") >= 1.0
    assert sandbox.dataplane is not None
    raw = sandbox.dataplane.raw_datapoints(
        "Duration", {"FunctionName": "ft-metrics"}, since.timestamp() - 1, time.time() + 1
    )
    assert len(raw) == 3 and all(v > 0 for _, v in raw)
    # logs: one stream per environment, START / END / REPORT per request
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/ft-metrics")["logStreams"]
    assert len(streams) == 1 and "/[1]" in streams[0]["logStreamName"]
    messages = [
        e["message"]
        for e in logs.filter_log_events(logGroupName="/aws/lambda/ft-metrics")["events"]
    ]
    assert [m.split(" ")[0] for m in messages] == ["START", "END", "REPORT"] * 3
    assert messages[0].endswith("Version: 1")
    assert "\tBilled Duration: " in messages[2] and "\tMemory Size: 128 MB" in messages[2]
