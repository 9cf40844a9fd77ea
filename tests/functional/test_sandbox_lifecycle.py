"""Execution environments, concurrency and timeouts, observed the way the harness observes
them: HTTP status and latency, REPORT lines in CloudWatch Logs, AWS/Lambda metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox_helpers import make_function, report_lines, wait_until

from lambda_gameday.sandbox import Sandbox


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": context.execution_environment.id}


def _metric_sum(cw: Any, metric: str, dims: dict[str, str], since: datetime) -> float:
    points = cw.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=since - timedelta(minutes=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_cold_start_pays_init_and_reports_init_duration_once(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, logs = sandbox_client("lambda"), sandbox_client("logs")
    make_function(sandbox, lam, "lc-cold", _ok, path="/cold")
    start_ms = int(time.time() * 1000) - 1000
    with httpx.Client(base_url=sandbox.api_url) as http:
        envs = [http.get("/cold").text for _ in range(3)]
    # THEN one environment served all three: it was initialised once (the ground truth), and
    # only the first REPORT line carries its Init Duration.
    assert len(set(envs)) == 1
    inits = [
        e for e in sandbox.truth.events("environment", "lc-cold") if e.detail["event"] == "init"
    ]
    assert [e.detail["environment"] for e in inits] == envs[:1]
    reports = wait_until(
        lambda: (r := report_lines(logs, "lc-cold", start_ms)) and len(r) == 3 and r
    )
    assert sum("Init Duration" in line for line in reports) == 1
    assert "Init Duration" in reports[0]
    init_ms = float(reports[0].split("Init Duration: ")[1].split(" ms")[0])
    # the REPORT line states the init the environment really paid (modelled: >= 100 ms here)
    truth_ms = inits[0].detail["init_duration_ms"]
    assert isinstance(truth_ms, float) and truth_ms >= 100
    assert abs(init_ms - truth_ms) < 0.01


def test_env_var_change_on_latest_forces_a_cold_start(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "lc-touch", _ok, env={"A": "1"})
    sandbox.dataplane.add_route("/touch", "lc-touch", None)  # type: ignore[union-attr]  # $LATEST
    url = sandbox.api_url + "/touch"
    first = httpx.get(url).text
    assert httpx.get(url).text == first
    lam.update_function_configuration(
        FunctionName="lc-touch", Environment={"Variables": {"A": "2"}}
    )
    second = httpx.get(url).text
    assert second != first
    # THEN the new environment was initialised (cold) after the change: the ground truth
    inits = [
        e.detail["environment"]
        for e in sandbox.truth.events("environment", "lc-touch")
        if e.detail["event"] == "init"
    ]
    assert inits == [first, second]


def test_one_request_at_a_time_per_environment(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    gate = threading.Barrier(3, timeout=5)

    def wait_for_peers(event: dict[str, Any], context: Any) -> dict[str, Any]:
        gate.wait()
        return {"statusCode": 200, "body": context.execution_environment.id}

    make_function(
        sandbox, sandbox_client("lambda"), "lc-parallel", wait_for_peers, path="/parallel"
    )
    with ThreadPoolExecutor(3) as pool:
        ids = list(
            pool.map(lambda _: httpx.get(sandbox.api_url + "/parallel", timeout=10).text, range(3))
        )
    assert len(set(ids)) == 3


def test_timeout_is_502_with_status_timeout_and_the_next_call_is_cold(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, logs, cw = sandbox_client("lambda"), sandbox_client("logs"), sandbox_client("cloudwatch")
    release = threading.Event()

    def hang_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not release.is_set():
            release.set()
            time.sleep(1.5)  # past the 1 s timeout
        return {"statusCode": 200, "body": context.execution_environment.id}

    make_function(sandbox, lam, "lc-timeout", hang_once, path="/timeout", timeout=1)
    since = datetime.now(UTC)
    start_ms = int(time.time() * 1000) - 1000
    r = httpx.get(sandbox.api_url + "/timeout", timeout=10)
    assert r.status_code == 502 and r.json() == {"message": "Internal server error"}
    second = httpx.get(sandbox.api_url + "/timeout")
    assert second.status_code == 200
    # cold again: the timed-out environment was discarded, a new one initialised (ground truth)
    events = [
        (e.detail["event"], e.detail["environment"])
        for e in sandbox.truth.events("environment", "lc-timeout")
    ]
    inits = [env for kind, env in events if kind == "init"]
    assert len(inits) == 2 and inits[1] == second.text
    assert ("discard", inits[0]) in events
    assert events.index(("discard", inits[0])) < events.index(("init", inits[1]))
    reports = wait_until(
        lambda: (r := report_lines(logs, "lc-timeout", start_ms)) and len(r) == 2 and r
    )
    timed_out = [line for line in reports if "Status: timeout" in line]
    assert len(timed_out) == 1 and "Duration: 1000.00 ms" in timed_out[0]
    assert sum("Init Duration" in line for line in reports) == 2
    wait_until(lambda: _metric_sum(cw, "Invocations", {"FunctionName": "lc-timeout"}, since) == 2.0)
    assert _metric_sum(cw, "Errors", {"FunctionName": "lc-timeout"}, since) == 1.0


def test_reserved_concurrency_zero_throttles_every_request(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, cw = sandbox_client("lambda"), sandbox_client("cloudwatch")
    make_function(sandbox, lam, "lc-throttle", _ok, path="/throttle")
    since = datetime.now(UTC)
    lam.put_function_concurrency(FunctionName="lc-throttle", ReservedConcurrentExecutions=0)
    statuses = [httpx.get(sandbox.api_url + "/throttle").status_code for _ in range(5)]
    assert statuses == [500] * 5
    assert httpx.get(sandbox.api_url + "/throttle").json() == {"message": "Internal server error"}
    # metrics reach CloudWatch on the next flush (<= 0.2 s here, 1-2 min on AWS)
    wait_until(lambda: _metric_sum(cw, "Throttles", {"FunctionName": "lc-throttle"}, since) == 6.0)
    assert _metric_sum(cw, "Invocations", {"FunctionName": "lc-throttle"}, since) == 0.0
    fault = sandbox.truth.wait_for("fault", "lc-throttle", timeout=1, fault="reserved_concurrency")
    assert fault is not None and fault.detail["value"] == 0
    # The invoke API answers like AWS
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName="lc-throttle", Qualifier="live")
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    lam.delete_function_concurrency(FunctionName="lc-throttle")
    assert httpx.get(sandbox.api_url + "/throttle").status_code == 200


def test_reserved_concurrency_caps_concurrent_environments(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")

    entered, release = threading.Event(), threading.Event()

    def held(event: dict[str, Any], context: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)  # busy until the test lets it go: the overlap is certain, not timed
        return {"statusCode": 200}

    make_function(sandbox, lam, "lc-cap", held, path="/cap")
    lam.put_function_concurrency(FunctionName="lc-cap", ReservedConcurrentExecutions=1)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: httpx.get(sandbox.api_url + "/cap", timeout=10).status_code)
        assert entered.wait(10)
        # WHEN two more requests arrive while the one allowed execution is busy
        others = [httpx.get(sandbox.api_url + "/cap", timeout=10).status_code for _ in range(2)]
        release.set()
        statuses = sorted([first.result(timeout=10), *others])
    # THEN they are throttled (API Gateway shows 500), and only one environment ever existed
    assert statuses == [200, 500, 500]
    inits = [
        e for e in sandbox.truth.events("environment", "lc-cap") if e.detail["event"] == "init"
    ]
    assert len(inits) == 1


def test_provisioned_concurrency_serves_warm(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    from botocore.exceptions import ClientError

    lam, logs = sandbox_client("lambda"), sandbox_client("logs")
    make_function(sandbox, lam, "lc-warm", _ok, path="/warm")
    with pytest.raises(ClientError) as err:
        lam.put_provisioned_concurrency_config(
            FunctionName="lc-warm", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    put = lam.put_provisioned_concurrency_config(
        FunctionName="lc-warm", Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert put["Status"] == "IN_PROGRESS"
    wait_until(
        lambda: (
            lam.get_provisioned_concurrency_config(FunctionName="lc-warm", Qualifier="live")[
                "Status"
            ]
            == "READY"
        )
    )
    start_ms = int(time.time() * 1000) - 1000
    inits_before = len(sandbox.truth.events("environment", "lc-warm"))
    clients = [httpx.Client(timeout=10) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        timings = list(pool.map(lambda c: _timed_get(c, sandbox.api_url + "/warm"), clients))
    for client in clients:
        client.close()
    # no init paid: both environments were initialised beforehand
    assert max(timings) < 0.1
    assert len(sandbox.truth.events("environment", "lc-warm")) == inits_before
    reports = wait_until(
        lambda: (r := report_lines(logs, "lc-warm", start_ms)) and len(r) == 2 and r
    )
    assert not any("Init Duration" in line for line in reports)
    listed = lam.list_provisioned_concurrency_configs(FunctionName="lc-warm")[
        "ProvisionedConcurrencyConfigs"
    ]
    assert [c["AllocatedProvisionedConcurrentExecutions"] for c in listed] == [2]
    lam.delete_provisioned_concurrency_config(FunctionName="lc-warm", Qualifier="live")
    with pytest.raises(ClientError):
        lam.get_provisioned_concurrency_config(FunctionName="lc-warm", Qualifier="live")


def test_idle_environments_expire(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    assert sandbox.dataplane is not None
    make_function(sandbox, sandbox_client("lambda"), "lc-idle", _ok, path="/idle")
    service = sandbox.dataplane.service
    original = service.idle_expiry_s
    first = httpx.get(sandbox.api_url + "/idle").text
    service.idle_expiry_s = 0.2
    try:
        gone = sandbox.truth.wait_for(
            "environment", "lc-idle", timeout=3, event="discard", environment=first
        )
    finally:
        service.idle_expiry_s = original
    assert gone is not None
    assert httpx.get(sandbox.api_url + "/idle").text != first


def _timed_get(client: httpx.Client, url: str) -> float:
    t = time.perf_counter()
    assert client.get(url).status_code == 200
    return time.perf_counter() - t
