"""Synthetic checks against the real sandbox: faults injected the AWS way, measured honestly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.aws import Clients
from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.sandbox import Sandbox
from lambda_gameday.stats import LatencyHistogram
from lambda_gameday.synthetics.availability import Monitor
from lambda_gameday.synthetics.coldstart import (
    COLDSTART_VARIABLE,
    ProbeTiming,
    parse_report,
    probe_cold_start,
)
from lambda_gameday.synthetics.conformance import run_conformance
from lambda_gameday.synthetics.definitions import (
    CheckDefinition,
    Expectations,
    LatencyBudget,
    RetryPolicy,
    load_checks,
)
from lambda_gameday.synthetics.engine import CheckRunner
from lambda_gameday.synthetics.publish import NAMESPACE, publish_metrics
from lambda_gameday.synthetics.results import ResultsWriter, load_results

ROOT = Path(__file__).resolve().parents[2]
CHAOS_LAYER = (
    "arn:aws:lambda:ap-south-1:871265522301:layer:"
    "chaos-lambda-extension-x86_64-unknown-linux-gnu-release:12"
)


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


@pytest.fixture(scope="module")
def lam(target: Target) -> Any:
    return Clients(target).lambda_()


def _wait_successful(lam: Any, name: str) -> None:
    deadline = time.monotonic() + 10
    while lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") not in (
        None,
        "Successful",
    ):
        assert time.monotonic() < deadline, "update did not finish"
        time.sleep(0.02)


def _report_durations(
    target: Target, function: str, since: float, wanted: dict[str, int]
) -> dict[str, LatencyHistogram]:
    """The twin's own REPORT Durations per version of the invocations that ended after
    `since` (epoch s), once every version has at least the `wanted` count (10 s deadline;
    more when a check retried an attempt its client had given up on)."""
    logs = Clients(target).logs()
    deadline = time.monotonic() + 10
    while True:
        found: dict[str, LatencyHistogram] = {}
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}", startTime=int(since * 1000)
        ):
            for event in page["events"]:
                report = parse_report(event["message"])
                if report is not None:  # the stream is "<date>/[<version>]<id>"
                    version = event["logStreamName"].split("[", 1)[1].split("]", 1)[0]
                    found.setdefault(version, LatencyHistogram()).record_ms(report.duration_ms)
        if all(v in found and found[v].count >= n for v, n in wanted.items()):
            return found
        assert time.monotonic() < deadline, ({v: h.count for v, h in found.items()}, wanted)
        time.sleep(0.05)


@pytest.fixture
def faulty_version(lam: Any, sandbox: Sandbox) -> Iterator[Any]:
    """`make(short, env, layers, weight)`: publish $LATEST with extra env as a new version and
    route `weight` of the production alias to it; everything is restored afterwards."""
    restore: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = []

    def make(
        short: str, env: dict[str, str], layers: list[str] | None = None, weight: float = 1.0
    ) -> str:
        name = sandbox.function_name(short)
        cfg = lam.get_function_configuration(FunctionName=name)
        original_env = dict(cfg.get("Environment", {}).get("Variables", {}))
        original_layers = [layer["Arn"] for layer in cfg.get("Layers", [])]
        alias = lam.get_alias(FunctionName=name, Name="production")
        restore.append((name, alias, original_env, original_layers))
        kwargs: dict[str, Any] = {"Environment": {"Variables": {**original_env, **env}}}
        if layers is not None:
            kwargs["Layers"] = layers
        lam.update_function_configuration(FunctionName=name, **kwargs)
        _wait_successful(lam, name)
        version = lam.publish_version(FunctionName=name)["Version"]
        if weight >= 1.0:
            lam.update_alias(
                FunctionName=name, Name="production", FunctionVersion=version, RoutingConfig={}
            )
        else:
            lam.update_alias(
                FunctionName=name,
                Name="production",
                RoutingConfig={"AdditionalVersionWeights": {version: weight}},
            )
        return str(version)

    yield make
    for name, alias, env, layers in reversed(restore):
        lam.update_alias(
            FunctionName=name,
            Name="production",
            FunctionVersion=alias["FunctionVersion"],
            RoutingConfig=alias.get("RoutingConfig") or {"AdditionalVersionWeights": {}},
        )
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": env}, Layers=layers
        )
        _wait_successful(lam, name)


def _warm_up(runner: CheckRunner, check: CheckDefinition, n: int = 3) -> None:
    for _ in range(n):
        runner.run(check)


def test_owner_checks_pass_on_a_warm_sandbox(target: Target, tmp_path: Path) -> None:
    checks, errors = load_checks([ROOT / "synthetics"])
    assert errors == []
    out = tmp_path / "synth.jsonl"
    with CheckRunner(target) as runner, ResultsWriter(out) as writer:
        for c in checks:
            _warm_up(runner, c)  # the first request of each function pays the init time
        results = runner.run_all(checks, writer=writer)
    assert [r.outcome for r in results] == ["ok"] * len(checks), [r.reason for r in results]
    assert all(r.executed_version == "1" for r in results)
    assert all(r.health_status == "pass" for r in results)
    assert all(r.timing.ttfb_ms is not None for r in results)
    assert len(load_results(out)) == len(checks)


def test_injected_latency_moves_p95_by_the_injected_amount(
    target: Target, sandbox: Sandbox, lam: Any, faulty_version: Any
) -> None:
    # GIVEN failure-lambda latency of exactly 10 ms on a new version weighted 50 % in the
    # production alias, so faulty and clean requests interleave in the same time window
    param = "/gameday/test/failure-latency"
    Clients(target).ssm().put_parameter(
        Name=param,
        Type="String",
        Overwrite=True,
        Value=json.dumps(
            {"latency": {"enabled": True, "percentage": 100, "min_latency": 10, "max_latency": 10}}
        ),
    )
    faulty = faulty_version("health-liveness", {"FAILURE_INJECTION_PARAM": param}, weight=0.5)
    check = CheckDefinition(
        name="live", endpoint="/health/live", latency=LatencyBudget(failed_ms=1000)
    )
    by_version: dict[str, LatencyHistogram] = {}
    with CheckRunner(target) as runner:
        seen = {runner.run(check).executed_version for _ in range(12)}
        assert seen == {"1", faulty}, seen  # both versions warm before measuring
        measured_from = time.time()
        for _ in range(500):
            r = runner.run(check)
            assert r.outcome == "ok", r.reason
            assert r.executed_version is not None
            assert r.timing.total_ms is not None
            by_version.setdefault(r.executed_version, LatencyHistogram()).record_ms(
                r.timing.total_ms
            )
    clean, slow = by_version["1"], by_version[faulty]
    assert clean.count > 180
    assert slow.count > 180
    # THEN the twin's own REPORT Durations show the 10 ms sleep (never less: it is what the
    # handlers lasted, and a sleep lasts longer on a starved CPU) ...
    server = _report_durations(
        target,
        sandbox.function_name("health-liveness"),
        measured_from,
        {"1": clean.count, faulty: slow.count},
    )
    injected = server[faulty].percentile_ms(50) - server["1"].percentile_ms(50)
    assert injected >= 9.5, (server["1"].summary(), server[faulty].summary())
    # ... and the checks' median moved by that much: not less (within 2 ms), and not more than
    # this run's own scheduling spread allows (a request that waits longer also wakes later
    # on a busy CPU, client and gateway alike, so the spread is taken from the clean version)
    shift = slow.percentile_ms(50) - clean.percentile_ms(50)
    spread = clean.percentile_ms(90) - clean.percentile_ms(50)
    evidence = (clean.summary(), slow.summary(), injected)
    assert shift >= injected - 2.0, evidence
    assert shift <= injected + 2.0 + 2 * spread, evidence
    # and p95 by at least the injected amount, less the tails' scheduling noise
    assert slow.percentile_ms(95) - clean.percentile_ms(95) >= 8.0


def test_fail_body_with_http_200_is_flagged(target: Target, faulty_version: Any) -> None:
    # GIVEN chaostoolkit-aws's add_error style body swap: HTTP 200 with a `fail` health body
    body = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/health+json"},
        "body": '{"status": "fail"}',
    }
    faulty_version(
        "health-readiness",
        {
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "CHAOS_EXTENSION__RESPONSE__ENABLE_CHANGE_RESPONSE_BODY": "true",
            "CHAOS_EXTENSION__RESPONSE__DEFAULT_RESPONSE": json.dumps(body),
            "CHAOS_EXTENSION__RESPONSE__CHANGE_RESPONSE_PROBABILITY": "1",
        },
        layers=[CHAOS_LAYER],
    )
    check = CheckDefinition(
        name="ready",
        endpoint="/health/ready",
        latency=LatencyBudget(failed_ms=5000),
        expect=Expectations(health=True),
    )
    with CheckRunner(target) as runner:
        result = runner.run(check)
    assert result.status_code == 200
    assert result.outcome == "failed"
    assert "contract violation: health status 'fail' with HTTP 200" in result.reason


def test_a_retry_that_succeeds_is_reported_as_a_retry(target: Target, faulty_version: Any) -> None:
    # GIVEN failure-lambda throwing on half of the invocations (API Gateway answers 502)
    param = "/gameday/test/failure-exception"
    Clients(target).ssm().put_parameter(
        Name=param,
        Type="String",
        Overwrite=True,
        Value=json.dumps(
            {"exception": {"enabled": True, "percentage": 50, "exception_msg": "boom"}}
        ),
    )
    faulty_version("health-startup", {"FAILURE_INJECTION_PARAM": param})
    check = CheckDefinition(
        name="startup",
        endpoint="/health/startup",
        latency=LatencyBudget(failed_ms=5000),
        retry=RetryPolicy(attempts=6),
        expect=Expectations(health=True),
    )
    with CheckRunner(target) as runner:
        results = [runner.run(check) for _ in range(20)]
    recovered = [r for r in results if r.outcome == "ok" and r.retried]
    assert recovered, [r.reason for r in results]
    r = recovered[0]
    assert r.attempts == len(r.retry_reasons) + 1
    assert all(reason.startswith("HTTP 502") for reason in r.retry_reasons)
    assert f"passed on attempt {r.attempts}" in r.reason
    assert any(not r.retried for r in results)  # and first-time passes are not marked


def test_cold_start_init_duration_matches_the_sandbox(
    target: Target, sandbox: Sandbox, lam: Any
) -> None:
    fn = target.function("health-liveness")
    before = (
        lam.get_function_configuration(FunctionName=fn.name)
        .get("Environment", {})
        .get("Variables", {})
    )
    result = probe_cold_start(
        target, fn, warm_requests=3, timing=ProbeTiming(log_deadline_s=5, poll_s=0.05)
    )
    assert result.outcome == "ok", result.reason
    assert result.cold is not None
    configured = sandbox.config.init_duration_ms
    assert result.cold.init_duration_ms == pytest.approx(configured, rel=0.10)
    assert result.cold.client_ms >= result.cold.init_duration_ms
    assert [s.cold for s in result.warm] == [False, False, False]
    assert result.warm_p50_ms is not None
    assert result.warm_p50_ms < result.cold.client_ms
    # AND the touched variable is gone again
    after = (
        lam.get_function_configuration(FunctionName=fn.name)
        .get("Environment", {})
        .get("Variables", {})
    )
    assert COLDSTART_VARIABLE not in after
    assert after == before


def test_100_clean_probes_cannot_assert_995(target: Target, tmp_path: Path) -> None:
    check = CheckDefinition(
        name="live", endpoint="/health/live", latency=LatencyBudget(failed_ms=1000)
    )
    with CheckRunner(target) as runner, ResultsWriter(tmp_path / "m.jsonl") as writer:
        _warm_up(runner, check)
        report = Monitor(runner, [check], interval_s=0.005, max_ticks=100, writer=writer).run()
    assert report.time_points == 100
    assert report.time_point_failures == 0
    assert not report.can_assert
    assert report.probes_needed == 498
    assert "cannot assert 99.50% yet; 498 more successful probes needed" in report.sentence()
    assert report.lag_max_ms < 1000


def test_conformance_passes_then_names_a_missing_alias(target: Target, lam: Any) -> None:
    findings = run_conformance(target)
    assert [f for f in findings if f.status != "pass"] == []
    # the sandbox provisions the seed's 5 on production for its critical functions
    assert {f.rule for f in findings} == {"versions", "aliases", "provisioned", "alarms", "topic"}
    name = target.function("health-startup").name
    canary = lam.get_alias(FunctionName=name, Name="canary")
    lam.delete_alias(FunctionName=name, Name="canary")
    try:
        broken = [f for f in run_conformance(target) if f.status != "pass"]
    finally:
        lam.create_alias(
            FunctionName=name, Name="canary", FunctionVersion=canary["FunctionVersion"]
        )
    assert len(broken) == 1
    assert broken[0].resource == f"{name}:canary"
    assert broken[0].fix.startswith(f"aws lambda create-alias --function-name {name} --name canary")


def test_published_metrics_are_readable_like_synthetics(target: Target) -> None:
    check = CheckDefinition(
        name="metrics-live", endpoint="/health/live", latency=LatencyBudget(failed_ms=1000)
    )
    with CheckRunner(target) as runner:
        results = [runner.run(check) for _ in range(3)]
    sent = publish_metrics(target, results)
    assert sent >= 9
    cw = Clients(target).cloudwatch()
    now = time.time()
    stats = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="SuccessPercent",
        Dimensions=[{"Name": "CanaryName", "Value": "metrics-live"}],
        StartTime=now - 600,
        EndTime=now + 60,
        Period=60,
        Statistics=["SampleCount", "Average"],
    )
    points = stats["Datapoints"]
    assert sum(p["SampleCount"] for p in points) == 3


def _synth(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "synth", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_synth_exits_0_on_a_fresh_sandbox(tmp_path: Path) -> None:
    # GIVEN the owner's checks (a 100 ms budget each) and a fresh sandbox, whose first
    # request to each function is a cold start (~150 ms modelled Init Duration)
    proc = _synth("--checks", str(ROOT / "synthetics"), "--out", "synth.jsonl", cwd=tmp_path)
    # THEN no check fails on its cold start: the budget is a warm request's
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    results = load_results(tmp_path / "synth.jsonl")
    assert results and all(r.outcome != "failed" for r in results)
    slow = [r for r in results if "one slow attempt" in r.reason]
    # every slow first attempt was confirmed by a fast second one (a degraded pass)
    assert all(r.outcome == "degraded" and r.attempts >= 2 for r in slow)


def test_a_check_slow_on_every_request_still_fails(target: Target) -> None:
    # GIVEN a budget no request can meet: confirmation does not turn a slow service green
    check = CheckDefinition(
        name="too-tight",
        endpoint="/health",
        latency=LatencyBudget(failed_ms=0.001),
        expect=Expectations(health=True),
    )
    with CheckRunner(target) as runner:
        result = runner.run(check)
    assert result.outcome == "failed"
    assert "confirmed on a second request" in result.reason


def test_synth_against_an_unresolvable_host_exits_3(tmp_path: Path) -> None:
    target = tmp_path / "nowhere.toml"
    target.write_text(
        'name = "nowhere"\nkind = "aws"\nenvironment = "dev"\nregion = "ap-south-1"\n'
        'api_url = "https://gameday-no-such-host.invalid/dev"\n'
        '[[functions]]\nname = "f"\npath = "/health"\n'
    )
    proc = _synth("--target", str(target), "--out", "synth.jsonl", cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "gameday: target unusable: API host gameday-no-such-host.invalid does not resolve (DNS)"
    ]
