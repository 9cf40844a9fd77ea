"""The check runner: assertions through httpx.MockTransport, transport failures on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from lambda_gameday.config import sandbox_target
from lambda_gameday.synthetics.definitions import (
    CheckDefinition,
    DefinitionError,
    Expectations,
    JsonAssertion,
    LatencyBudget,
    RetryPolicy,
)
from lambda_gameday.synthetics.engine import COLD_START_HEADER, CheckRunner, judge
from lambda_gameday.synthetics.jsonpath import parse_path
from lambda_gameday.synthetics.results import ResultsWriter, load_results, read_records

TARGET = sandbox_target("http://127.0.0.1:9/dev", "http://127.0.0.1:8")
HEALTH = CheckDefinition(
    name="health",
    endpoint="/health",
    latency=LatencyBudget(failed_ms=10_000),
    expect=Expectations(status=("2xx",), health=True),
)


def health_json(
    status: str = "pass", code: int = 200, release: str | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, object] = {
        "status": status,
        "checks": {"database:responseTime": [{"observedValue": 3, "status": "pass"}]},
    }
    if release is not None:
        body["releaseId"] = release
    return httpx.Response(
        code, json=body, headers={"content-type": "application/health+json", **headers}
    )


def runner_with(handler: Callable[[httpx.Request], httpx.Response]) -> CheckRunner:
    return CheckRunner(TARGET, transport=httpx.MockTransport(handler))


def test_passing_check_records_version_and_bypasses_caches() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        # the version comes from the body field the target names (releaseId), never from
        # X-Amz-Executed-Version, which API Gateway does not return to HTTP clients
        return health_json(
            release="3", **{"x-amz-executed-version": "9", "x-amzn-requestid": "req-1"}
        )

    with runner_with(handler) as runner:
        a = runner.run(HEALTH)
        b = runner.run(HEALTH)
    assert a.outcome == "ok", a.reason
    assert a.reason == ""
    assert a.status_code == 200
    assert a.executed_version == "3"
    assert a.request_id == "req-1"
    assert a.health_status == "pass"
    assert a.cold_start is None  # the mock does not say
    assert a.timing.total_ms is not None
    assert a.timing.total_ms >= 0
    assert a.url == "http://127.0.0.1:9/dev/health"
    assert seen[0].headers["cache-control"] == "no-cache"
    assert seen[0].url.path == "/dev/health"
    assert seen[0].url.params["_gd"] != seen[1].url.params["_gd"]  # unique per request
    assert b.outcome == "ok"


def test_fail_body_with_http_200_is_a_contract_violation() -> None:
    with runner_with(lambda r: health_json("fail", 200)) as runner:
        result = runner.run(HEALTH)
    assert result.outcome == "failed"
    assert "contract violation: health status 'fail' with HTTP 200" in result.reason


def test_honest_fail_with_503_fails_on_status_not_contract() -> None:
    with runner_with(lambda r: health_json("fail", 503)) as runner:
        result = runner.run(HEALTH)
    assert result.outcome == "failed"
    assert result.reason == "HTTP 503, expected 2xx"


def test_warn_is_degraded() -> None:
    with runner_with(lambda r: health_json("warn")) as runner:
        result = runner.run(HEALTH)
    assert result.outcome == "degraded"
    assert "warn" in result.reason


def test_cold_start_header_is_read() -> None:
    with runner_with(lambda r: health_json(**{COLD_START_HEADER: "true"})) as runner:
        assert runner.run(HEALTH).cold_start is True
    with runner_with(lambda r: health_json(**{COLD_START_HEADER: "false"})) as runner:
        assert runner.run(HEALTH).cold_start is False


def test_retry_that_succeeds_is_reported_as_a_retry() -> None:
    # GIVEN a service that fails once, then recovers
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return (
            httpx.Response(502, json={"message": "Internal server error"})
            if calls["n"] == 1
            else health_json()
        )

    check = CheckDefinition(
        name="h",
        endpoint="/health",
        retry=RetryPolicy(attempts=3),
        expect=Expectations(health=True),
    )
    with runner_with(flaky) as runner:
        result = runner.run(check)
    # THEN the final attempt counts, and the retry is visible
    assert result.outcome == "ok"
    assert result.retried
    assert result.attempts == 2
    assert result.retry_reasons == ("HTTP 502, expected 2xx",)
    assert "passed on attempt 2" in result.reason


def test_retries_exhausted_report_every_attempt() -> None:
    check = CheckDefinition(
        name="h", endpoint="/health", retry=RetryPolicy(attempts=3, backoff_ms=1)
    )
    with runner_with(lambda r: httpx.Response(500)) as runner:
        result = runner.run(check)
    assert result.outcome == "failed"
    assert result.attempts == 3
    assert len(result.retry_reasons) == 2
    assert result.reason == "HTTP 500, expected 2xx"


def test_non_json_body_fails_with_reason() -> None:
    with runner_with(lambda r: httpx.Response(200, text="<html>oops</html>")) as runner:
        result = runner.run(HEALTH)
    assert result.outcome == "failed"
    assert result.reason.startswith("body is not JSON")
    assert "<html>oops</html>" in result.reason


def test_header_and_json_path_assertions() -> None:
    from lambda_gameday.synthetics.definitions import HeaderExpectation

    check = CheckDefinition(
        name="h",
        endpoint="/health",
        expect=Expectations(
            headers=(
                HeaderExpectation("content-type", contains="health+json"),
                HeaderExpectation("x-amz-executed-version"),
                HeaderExpectation("server", present=False),
            ),
            json=(
                JsonAssertion(parse_path("status"), equals="pass", has_equals=True),
                JsonAssertion(
                    parse_path("checks.database:responseTime[0].observedValue"), maximum=2
                ),
                JsonAssertion(parse_path("version"), exists=True),
                JsonAssertion(parse_path("secret"), exists=False),
                JsonAssertion(parse_path("status"), matches="^p"),
            ),
        ),
    )
    with runner_with(lambda r: health_json(server="x")) as runner:
        result = runner.run(check)
    assert result.outcome == "failed"
    assert result.reason.split("; ") == [
        "header x-amz-executed-version missing",
        "header server present but should not be",
        "checks.database:responseTime[0].observedValue is 3, above max 2",
        "version is missing",
    ]


@pytest.mark.parametrize(
    ("total", "outcome"), [(50.0, "ok"), (80.5, "degraded"), (100.1, "failed")]
)
def test_latency_levels(total: float, outcome: str) -> None:
    check = CheckDefinition(
        name="h", endpoint="/h", latency=LatencyBudget(degraded_ms=80, failed_ms=100)
    )
    verdict = judge(check, 200, {}, b"", total, TARGET)
    assert verdict.outcome == outcome


def test_default_latency_budget_is_the_target_slo() -> None:
    check = CheckDefinition(name="h", endpoint="/h")
    assert judge(check, 200, {}, b"", 99.0, TARGET).outcome == "ok"
    assert judge(check, 200, {}, b"", 101.0, TARGET).reasons == ("took 101.0 ms, budget 100 ms",)


def test_unknown_function_is_a_failed_result_not_an_exception() -> None:
    with runner_with(lambda r: health_json()) as runner:
        result = runner.run(CheckDefinition(name="x", endpoint="health-nothing"))
    assert result.outcome == "failed"
    assert "no function 'health-nothing'" in result.reason


# --- real sockets on loopback --------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: avoids Nagle / delayed-ACK stalls

    def do_GET(self) -> None:
        if self.path.startswith("/dev/text"):
            body, ctype = b"not json", "text/plain"
        else:
            body = json.dumps({"status": "pass", "releaseId": "1"}).encode()
            ctype = "application/health+json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Amz-Executed-Version", "1")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


def test_timing_breakdown_on_a_real_socket(server: str) -> None:
    target = sandbox_target(f"http://{server}/dev", "http://127.0.0.1:8")
    with CheckRunner(target, fresh_connections=True) as runner:
        result = runner.run(
            CheckDefinition(name="h", endpoint="/health", expect=Expectations(health=True))
        )
    assert result.outcome == "ok", result.reason
    t = result.timing
    assert t.connect_ms is not None
    assert t.ttfb_ms is not None
    assert t.total_ms is not None
    assert t.tls_ms is None  # plain HTTP
    assert 0 < t.connect_ms <= t.ttfb_ms <= t.total_ms
    assert result.executed_version == "1"


def test_bad_input_each_a_failed_result_and_the_run_continues(
    server: str, silent_port: int, tmp_path: Path
) -> None:
    # GIVEN checks against: an unreachable port, a TLS handshake with a plain-HTTP server,
    # a server that never answers, a non-JSON body, a malformed definition, and a good one
    target = sandbox_target(f"http://{server}/dev", "http://127.0.0.1:8")
    out = tmp_path / "results.jsonl"
    checks = [
        CheckDefinition(name="unreachable", endpoint="/health"),
        CheckDefinition(name="tls", endpoint="/health"),
        CheckDefinition(name="timeout", endpoint="/health", timeout_s=0.2),
        CheckDefinition(name="not-json", endpoint="/text", expect=Expectations(health=True)),
        CheckDefinition(name="good", endpoint="/health", expect=Expectations(health=True)),
    ]
    bases = {
        "unreachable": f"http://127.0.0.1:{closed_port()}/dev",
        "tls": f"https://{server}/dev",
        "timeout": f"http://127.0.0.1:{silent_port}/dev",
    }

    class PerCheckRunner(CheckRunner):
        def url_for(self, check: CheckDefinition) -> str:
            base = bases.get(check.name)
            return base + check.endpoint if base else super().url_for(check)

    errors = [DefinitionError("bad.toml", "bad", "bad.toml: unknown key 'colour'")]
    with PerCheckRunner(target) as runner, ResultsWriter(out) as writer:
        results = runner.run_all(checks, errors, writer)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["bad", "unreachable", "tls", "timeout", "not-json", "good"]
    assert by_name["bad"].reason == "invalid definition: bad.toml: unknown key 'colour'"
    assert by_name["unreachable"].reason.startswith("cannot connect")
    assert by_name["tls"].reason.startswith("TLS error")
    assert by_name["timeout"].reason.startswith("timeout: no response within 0.2 s")
    assert by_name["not-json"].reason.startswith("body is not JSON (text/plain)")
    assert by_name["good"].outcome == "ok"
    assert all(r.outcome == "failed" for r in results[:-1])
    # AND the JSON Lines file holds one valid line per result
    lines = out.read_text().splitlines()
    assert len(lines) == 6
    assert all(json.loads(line)["kind"] == "check" for line in lines)
    assert [r.name for r in load_results(out)] == [r.name for r in results]
    assert len(list(read_records(out))) == 6


@pytest.mark.parametrize(
    ("source", "expected"),
    [(None, None), ("header:X-Release", "7"), ("json:releaseId", "3"), ("json:nope", None)],
)
def test_version_only_where_the_target_says_answers_name_it(
    source: str | None, expected: str | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return health_json(release="3", **{"x-amz-executed-version": "9", "x-release": "7"})

    target = TARGET.with_overrides(version_source=source)
    with CheckRunner(target, transport=httpx.MockTransport(handler)) as runner:
        assert runner.run(HEALTH).executed_version == expected
