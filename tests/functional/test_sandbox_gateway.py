"""The gateway: health endpoints per the seed's contract, proxy events and context, and API
Gateway's error mapping (403 / 500 / 502 / 504 with AWS's bodies)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sandbox_helpers import make_function

from lambda_gameday.sandbox import Sandbox

INTERNAL = {"message": "Internal server error"}


@pytest.fixture(scope="module")
def http(sandbox: Sandbox) -> httpx.Client:
    with httpx.Client(base_url=sandbox.api_url, timeout=10) as client:
        yield client  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "function", "checks"),
    [
        (
            "/health",
            "health-comprehensive",
            {
                "database:responseTime",
                "redis:responseTime",
                "s3:responseTime",
                "memory:utilization",
            },
        ),
        ("/health/live", "health-liveness", {"uptime"}),
        (
            "/health/ready",
            "health-readiness",
            {"database:responseTime", "redis:responseTime", "s3:responseTime"},
        ),
        ("/health/startup", "health-startup", {"startup:initDuration"}),
    ],
)
def test_health_endpoints_follow_the_seed_contract(
    sandbox: Sandbox, http: httpx.Client, path: str, function: str, checks: set[str]
) -> None:
    # WHEN the endpoint is probed through the stage URL
    r = http.get(path)
    # THEN it answers health+json with every check's status, served by version 1 of the function
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/health+json"
    # API Gateway passes no version header: the function names its version (releaseId)
    assert "x-amz-executed-version" not in r.headers or sandbox.config.relaxed(
        "executed-version-header"
    )
    body = r.json()
    assert body["releaseId"] == "1"
    assert body["status"] == "pass"
    assert body["serviceId"] == sandbox.function_name(function)
    assert set(body["checks"]) == checks
    for entries in body["checks"].values():
        for entry in entries:
            assert entry["status"] in ("pass", "warn")
            assert isinstance(entry["observedValue"], float | int)
            assert entry["time"].endswith("Z")
    assert sandbox.routes[path].function == sandbox.function_name(function)
    assert sandbox.routes[path].alias == "production"


def test_unknown_path_is_missing_authentication_token(http: httpx.Client) -> None:
    r = http.get("/nope")
    assert r.status_code == 403
    assert r.json() == {"message": "Missing Authentication Token"}


def test_handler_gets_a_proxy_event_and_a_lambda_context(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], http: httpx.Client
) -> None:
    seen: dict[str, Any] = {}

    def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen["event"], seen["context"] = event, context
        seen["remaining"] = context.get_remaining_time_in_millis()
        return {"statusCode": 201, "headers": {"X-Echo": "yes"}, "body": "made"}

    make_function(sandbox, sandbox_client("lambda"), "gw-echo", echo, path="/echo", env={"K": "v"})
    r = http.get("/echo?a=1&a=2&b=3", headers={"X-Custom": "c"})
    assert (r.status_code, r.text, r.headers["x-echo"]) == (201, "made", "yes")
    event, context = seen["event"], seen["context"]
    assert event["resource"] == "/echo" and event["path"] == "/echo"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["x-custom"] == "c"
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["requestContext"]["stage"] == sandbox.config.stage
    assert event["requestContext"]["path"] == f"/{sandbox.config.stage}/echo"
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert context.function_name == "gw-echo"
    assert context.function_version == "1"
    assert context.invoked_function_arn.endswith(":function:gw-echo:live")
    assert context.memory_limit_in_mb == 128
    assert context.env["K"] == "v"
    assert 0 < seen["remaining"] <= 3000
    assert r.headers["x-amzn-requestid"] == event["requestContext"]["requestId"]


def test_malformed_proxy_response_and_exception_are_502(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], http: httpx.Client
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "gw-malformed", lambda e, c: {"status": 200}, path="/malformed")
    make_function(sandbox, lam, "gw-raises", lambda e, c: 1 / 0, path="/raises")
    for path in ("/malformed", "/raises"):
        r = http.get(path)
        assert r.status_code == 502
        assert r.json() == INTERNAL


def test_past_the_integration_timeout_is_504_and_the_function_runs_on(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], http: httpx.Client
) -> None:
    assert sandbox.dataplane is not None
    release, finished = threading.Event(), threading.Event()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(10)  # runs until the test has its answer: order, not a timed window
        finished.set()
        return {"statusCode": 200, "body": "late"}

    make_function(sandbox, sandbox_client("lambda"), "gw-slow", slow, path="/slow", timeout=15)
    gateway = sandbox.dataplane.gateway
    original = gateway.integration_timeout_s
    gateway.integration_timeout_s = 0.3  # stands in for API Gateway's 29 s
    try:
        r = http.get("/slow")
        # THEN API Gateway gave up while the function was still running
        still_running = not finished.is_set()
    finally:
        gateway.integration_timeout_s = original
        release.set()
    assert r.status_code == 504
    assert r.json() == {"message": "Endpoint request timed out"}
    assert still_running
    assert finished.wait(5), "the function keeps running after API Gateway gives up"


def test_a_rest_route_is_served_under_its_stage_only(sandbox: Sandbox) -> None:
    # As on AWS, a REST API's URL names its stage: without it, `/health/live` reads as
    # stage "health", which has no such resource (the twin was laxer before issue 14).
    root = sandbox.api_url.rsplit("/", 1)[0]
    bare = httpx.get(root + "/health/live")
    assert (bare.status_code, bare.json()) == (403, {"message": "Missing Authentication Token"})
    assert json.loads(httpx.get(sandbox.api_url + "/health/live").text)["status"] == "pass"
