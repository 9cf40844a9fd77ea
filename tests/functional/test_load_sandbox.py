"""Load runs against the sandbox: thresholds that hold, a latency canary caught per
version, a misspelled endpoint, raw-sample agreement, and a 2 s stall that a paced
(open-model) run shows in its corrected percentiles while the raw ones hide it.

Each run is a real `python -m locust` process, a few seconds long and bounded."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_helpers import wait_until

from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.exceptions import ConfigError, VerdictFailed
from lambda_gameday.load import LoadOptions, LoadReport, check_report, run_load
from lambda_gameday.load.runner import _requests_so_far
from lambda_gameday.load.thresholds import evaluate_all, parse_thresholds
from lambda_gameday.sandbox import Sandbox

LIVENESS = "health-liveness"


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


def warm(sandbox: Sandbox, paths: tuple[str, ...], concurrency: int) -> None:
    """Start `concurrency` execution environments per path, so cold starts (100 ms init
    in the test sandbox) are not what the thresholds below measure."""
    with ThreadPoolExecutor(concurrency) as pool:
        for path in paths:
            urls = [sandbox.api_url + path] * concurrency
            list(pool.map(lambda url: httpx.get(url, timeout=10), urls))


@pytest.fixture(scope="module")
def steady(
    sandbox: Sandbox, target: Target, tmp_path_factory: pytest.TempPathFactory
) -> LoadReport:
    """One 3-second closed-model run over the four endpoints, with raw samples kept."""
    tmp = tmp_path_factory.mktemp("steady")
    warm(sandbox, ("/health", "/health/live", "/health/ready", "/health/startup"), 3)
    options = LoadOptions(
        users=3,
        spawn_rate=10,
        run_time_s=3,
        think="0.005,0.015",
        out=tmp / "results.json",
        raw_samples=tmp / "raw.jsonl",
        seed=3,
    )
    return run_load(target, options)


def _raw(steady: LoadReport) -> list[dict[str, Any]]:
    """The run's own samples, one per request (ground truth for its thresholds)."""
    raw_path = Path(steady.results.path).with_name("raw.jsonl")
    return [json.loads(line) for line in raw_path.read_text().splitlines()]


def test_thresholds_that_hold_pass(steady: LoadReport, target: Target) -> None:
    # GIVEN a steady run against the healthy sandbox, judged by the target's SLO defaults
    assert {r.threshold.expression for r in steady.thresholds} == {"p95<100", "error_rate<0.005"}
    # THEN each comes out as the run's own samples say: the error rate holds (the sandbox
    # is healthy), the p95 holds exactly when the samples' p95 is under 100 ms (a fixed
    # number of milliseconds is what this machine, loaded or not, happens to deliver)
    raw = _raw(steady)
    p95 = nearest_rank([r["ms"] for r in raw], 95)
    by_expr = {r.threshold.expression: r for r in steady.thresholds}
    print(f"\nsteady: exact p95 {p95:.1f} ms over {len(raw)} samples; {by_expr['p95<100']}")
    assert steady.results.failures == 0
    assert by_expr["error_rate<0.005"].outcome == "pass"
    # (the histogram's p95 is never below the exact one, at most 0.1 % above: see below)
    slo = by_expr["p95<100"]
    if p95 >= 100 or p95 * 1.001 + 0.0015 < 100:
        assert slo.outcome == ("pass" if p95 < 100 else "fail"), (p95, slo)
    if slo.outcome == "pass":
        check_report(steady)
    else:
        with pytest.raises(VerdictFailed, match="p95<100"):
            check_report(steady)
    # ... and thresholds per endpoint, per version and on the rate, placed with a 2x margin
    # around what this run measured, hold; the same ones placed on the wrong side fail
    live = [r["ms"] for r in raw if r["endpoint"] == "/health/live"]
    live_p95, live_p50 = nearest_rank(live, 95), nearest_rank(live, 50)
    (version,) = {r["version"] for r in raw}
    rate = len(raw) / steady.results.duration_s
    holding = [
        f"p95{{endpoint=/health/live}}<{2 * live_p95:.3f}",
        f"p95{{version={version}}}<{2 * p95:.3f}",
        f"rps>{rate / 2:.3f}",
        "error_rate<0.005",
    ]
    breached = [
        f"p95{{endpoint=/health/live}}<{live_p50 / 2:.3f}",
        f"p95{{version={version}}}<{p95 / 2:.3f}",
        f"rps>{rate * 2:.3f}",
    ]
    results = evaluate_all(
        parse_thresholds(holding + breached), steady.results.series, steady.results.duration_s
    )
    outcomes = [r.outcome for r in results]
    assert outcomes == ["pass"] * len(holding) + ["fail"] * len(breached), results
    assert set(steady.results.endpoints) == {
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
    }


def test_a_threshold_on_a_misspelled_endpoint_is_an_error(steady: LoadReport) -> None:
    bad = LoadReport(
        steady.results,
        tuple(
            evaluate_all(
                parse_thresholds(["p95{endpoint=/health/lve}<100"]), steady.results.series, 3
            )
        ),
        steady.command,
        steady.log,
    )
    assert bad.verdict == "error"
    with pytest.raises(
        ConfigError, match=r"endpoint=/health/lve matches nothing \(seen endpoints: /health,"
    ):
        check_report(bad)


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(Fraction(str(p)) / 100 * len(ordered))) - 1]


def test_percentiles_agree_with_the_raw_samples(steady: LoadReport) -> None:
    samples = [r["ms"] for r in _raw(steady)]
    hist = steady.results.latency()
    assert hist.count == len(samples) == steady.results.count
    rows = []
    for p in (50, 95, 99):
        exact = nearest_rank(samples, p)
        ours = hist.percentile_ms(p)
        # HdrHistogram, 3 significant digits: never below the true sample, at most 0.1 % above
        assert exact - 0.0005 <= ours <= exact * 1.001 + 0.0015, (p, exact, ours)
        rows.append((p, exact, ours))
    # Locust's own figure (bucketed, rank int(n*p)+1) is recorded for the docs, not gated on
    assert steady.results.locust is not None
    locust = steady.results.locust
    print(
        "\npercentile agreement (ms): "
        + ", ".join(f"p{p}: raw {e:.3f} hdr {o:.3f}" for p, e, o in rows)
        + f"; locust p50 {locust.p50:g} p95 {locust.p95:g} p99 {locust.p99:g}"
    )


@pytest.fixture
def aws(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> Any:
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    return sandbox_client("lambda")


@pytest.fixture
def liveness(sandbox: Sandbox, aws: Any) -> Iterator[str]:
    """The liveness function's name; its $LATEST config and production alias are put back."""
    name = sandbox.function_name(LIVENESS)
    before = aws.get_function_configuration(FunctionName=name)
    alias = aws.get_alias(FunctionName=name, Name="production")
    yield name
    aws.update_alias(
        FunctionName=name,
        Name="production",
        FunctionVersion=alias["FunctionVersion"],
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    aws.update_function_configuration(
        FunctionName=name,
        Environment={"Variables": before.get("Environment", {}).get("Variables", {})},
        Layers=[layer["Arn"] for layer in before.get("Layers", [])],
    )


def test_latency_in_the_canary_fails_its_threshold_but_not_the_stable_versions(
    sandbox: Sandbox, target: Target, aws: Any, liveness: str, tmp_path: Path
) -> None:
    from chaosaws.awslambda.actions import add_latency

    from lambda_gameday.chaos.awslambda.layers import chaos_layer_for

    stable = aws.get_alias(FunctionName=liveness, Name="production")["FunctionVersion"]
    # 8 closed-model users and the canary at 10 %: a user held by a slow canary request
    # sends nothing meanwhile (coordinated omission), so with few users or a heavy canary
    # weight the stable version is left a handful of samples, and the p95 of 19 samples is
    # their maximum: one scheduling hiccup decides the verdict
    steady = LoadOptions(users=8, spawn_rate=100, mix="/health/live=1", think="0.005,0.01")
    warm(sandbox, ("/health/live",), 8)
    # GIVEN this machine's own p95 for the stable version, measured now with the same load
    # (a loaded box serves a healthy request in 10x the time an idle one does) ...
    base = run_load(target, replace(steady, run_time_s=3, out=tmp_path / "baseline.json"))
    base_p95 = base.results.latency(version=stable).percentile_ms(95)
    assert base.results.latency(version=stable).count >= 40, base.results.count
    # ... a latency far above it (>= 10x, at least 1 s; the extension takes whole seconds)
    # ... but below the function's timeout: a longer one times the canary's requests out, and
    # a timed-out answer names no version (a loaded box once asked for 7 s of a 3 s timeout)
    timeout_s = int(aws.get_function_configuration(FunctionName=liveness)["Timeout"])
    latency_s = min(max(1, math.ceil(10 * base_p95 / 1000)), timeout_s - 1)
    # ... and a threshold at 80 % of it: every canary request waits the whole injected
    # latency, so the canary fails it by construction, and the stable version keeps the
    # widest margin the cap leaves (a loaded box's stable p95 of 650 ms against 1.6 s)
    limit = latency_s * 1000 * 0.8
    # ... and chaostoolkit-aws's add_latency (always) on $LATEST, published as the canary
    # and weighted into the production alias at 10 %, with the extension layer of the
    # function's own Region (chaostoolkit-aws's default is us-east-1's, which Lambda
    # refuses for a function elsewhere)
    add_latency(
        liveness,
        latency=latency_s,
        probability=1.0,
        layer=chaos_layer_for(sandbox.config.region),
        configuration={"aws_region": sandbox.config.region},
    )
    assert sandbox.truth.wait_for("fault", liveness, timeout=3, fault="chaos_latency") is not None
    canary = aws.publish_version(FunctionName=liveness)["Version"]
    aws.update_alias(
        FunctionName=liveness,
        Name="production",
        RoutingConfig={"AdditionalVersionWeights": {canary: 0.1}},
    )
    # WHEN steady load runs through the alias with a threshold per version
    options = replace(
        steady,
        run_time_s=4,
        thresholds=(
            f"p95{{version={stable}}}<{limit:g}",
            f"p95{{version={canary}}}<{limit:g}",
            "error_rate<0.005",
        ),
        out=tmp_path / "results.json",
    )
    report = run_load(target, options)
    by_expr = {r.threshold.expression: r for r in report.thresholds}
    print(
        f"\nbaseline stable p95 {base_p95:.1f} ms; injected {latency_s} s; limit {limit:g} ms; "
        + "; ".join(
            f"{r.threshold.expression}: {r.observed} (n={r.samples})" for r in by_expr.values()
        )
    )
    # THEN the canary's threshold fails with the injected latency, the stable version's holds
    canary_result = by_expr[f"p95{{version={canary}}}<{limit:g}"]
    stable_result = by_expr[f"p95{{version={stable}}}<{limit:g}"]
    assert canary_result.outcome == "fail", canary_result
    assert canary_result.observed is not None and canary_result.observed >= latency_s * 1000
    assert canary_result.samples >= 3
    # enough stable samples that their p95 is not simply their maximum
    assert stable_result.samples >= 40, stable_result
    assert stable_result.outcome == "pass", stable_result
    assert stable_result.samples > canary_result.samples
    assert set(report.results.versions) == {stable, canary}
    with pytest.raises(VerdictFailed, match=f"version={canary}"):
        check_report(report)


def test_a_two_second_stall_shows_in_the_corrected_p99_of_a_paced_run(
    sandbox: Sandbox,
    target: Target,
    aws: Any,
    sandbox_client: Callable[[str], Any],
    liveness: str,
    tmp_path: Path,
) -> None:
    ssm = sandbox_client("ssm")
    param = "/gameday/load-test/stall"
    ssm.put_parameter(
        Name=param, Value=json.dumps({"latency": {"enabled": False}}), Type="String", Overwrite=True
    )
    # GIVEN the liveness function reading a failure-lambda parameter (published, in production)
    env = (
        aws.get_function_configuration(FunctionName=liveness)
        .get("Environment", {})
        .get("Variables", {})
    )
    aws.update_function_configuration(
        FunctionName=liveness, Environment={"Variables": {**env, "FAILURE_INJECTION_PARAM": param}}
    )
    version = aws.publish_version(FunctionName=liveness)["Version"]
    aws.update_alias(FunctionName=liveness, Name="production", FunctionVersion=version)
    warm(sandbox, ("/health/live",), 4)
    out = tmp_path / "results.json"
    # ... and a paced open-model run: 4 users, one request each every 50 ms (80 req/s)
    options = LoadOptions(
        users=4,
        spawn_rate=100,
        run_time_s=6,
        mix="/health/live=1",
        pace_ms=50,
        thresholds=("p95<1000", "corrected_p99<1000"),
        out=out,
    )
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_load, target, options)
        # WHEN, once paced traffic flows, the target stalls: every request that arrives
        # while the fault is on waits 2 s (failure-lambda latency, 100 %), then it is off
        wait_until(lambda: _requests_so_far(out) >= 60, timeout=20, interval=0.05)
        stall = {
            "latency": {
                "enabled": True,
                "percentage": 100,
                "min_latency": 2000,
                "max_latency": 2000,
            }
        }
        ssm.put_parameter(Name=param, Value=json.dumps(stall), Type="String", Overwrite=True)
        t_on = time.time()
        assert sandbox.truth.wait_for(
            "fault", liveness, timeout=3, after=t_on - 1, fault="failure_lambda"
        )
        # ... until every user has a request held by it (the sandbox's in-flight count:
        # each paced user has at most one request in flight), then it is switched off
        assert sandbox.dataplane is not None
        busy = sandbox.dataplane.service.busy
        wait_until(lambda: busy.get(liveness, 0) >= 4, timeout=5, interval=0.002)
        off = {"latency": {"enabled": False}}
        ssm.put_parameter(Name=param, Value=json.dumps(off), Type="String", Overwrite=True)
        report = running.result(timeout=60)
    res = report.results
    raw = res.latency()
    corrected = res.merged("corrected")
    lag = res.merged("lag")
    print(
        f"\nstall: raw p95 {raw.percentile_ms(95):.1f} p99 {raw.percentile_ms(99):.1f} "
        f"max {raw.max_ms:.0f}; "
        f"corrected p95 {corrected.percentile_ms(95):.0f} p99 {corrected.percentile_ms(99):.0f}; "
        f"lag p99 {lag.percentile_ms(99):.0f}; n={raw.count}"
    )
    # THEN the raw (closed-loop view) p95 hides the stall: each of the 4 users saw it
    # once, 4 samples in ~460, so it stays far below the 2 s the stall held every user
    # (bounds relative to the stall, not to how fast a busy machine serves) ...
    assert raw.max_ms >= 1900
    assert raw.percentile_ms(95) < 1000
    # ... while timing from the intended send time shows it: ~a third of the intended
    # sends fell in the stall, so the corrected p95 is ~1.7 s and p99 ~2 s (theory), and
    # the schedule lag says the sends were held back by the target
    assert corrected.percentile_ms(95) >= 1500
    assert corrected.percentile_ms(99) >= 1800
    assert lag.percentile_ms(99) >= 1500
    # per request corrected = lag + raw, so no corrected value exceeds the two maxima
    assert corrected.max_ms <= lag.max_ms + raw.max_ms + 1
    by_expr = {r.threshold.expression: r.outcome for r in report.thresholds}
    assert by_expr == {"p95<1000": "pass", "corrected_p99<1000": "fail"}
