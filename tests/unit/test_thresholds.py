"""The threshold language: parsing, evaluation on raw histograms, and its error cases."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from lambda_gameday.exceptions import ConfigError
from lambda_gameday.load.results import Series
from lambda_gameday.load.thresholds import (
    evaluate,
    evaluate_all,
    parse_threshold,
    parse_thresholds,
    slo_thresholds,
)
from lambda_gameday.stats import LatencyHistogram


def series(
    endpoint: str = "/health",
    version: str = "1",
    values: list[float] | None = None,
    failures: int = 0,
    corrected: list[float] | None = None,
    method: str = "GET",
) -> Series:
    values = values if values is not None else [1.0, 2.0, 3.0]
    hist = LatencyHistogram()
    for v in values:
        hist.record_ms(v)
    corr = None
    if corrected is not None:
        corr = LatencyHistogram()
        for v in corrected:
            corr.record_ms(v)
    return Series(
        endpoint, method, version, len(values), failures, {"200": len(values)}, hist, corr
    )


def nearest_rank(values: list[float], p: float) -> float:
    """Exact nearest rank, in exact arithmetic (99.9 / 100 * 5000 is 4995, not 4995.0...01)."""
    ordered = sorted(values)
    rank = math.ceil(Fraction(str(p)) / 100 * len(ordered))
    return ordered[max(1, rank) - 1]


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "kind", "stat", "pct", "op", "limit", "tags"),
    [
        ("p95<100", "latency", "percentile", 95.0, "<", 100.0, ()),
        ("p99.9<2000", "latency", "percentile", 99.9, "<", 2000.0, ()),
        ("p(95) <= 100", "latency", "percentile", 95.0, "<=", 100.0, ()),
        ("med<5", "latency", "percentile", 50.0, "<", 5.0, ()),
        ("max<=1500", "latency", "max", None, "<=", 1500.0, ()),
        ("avg<3", "latency", "mean", None, "<", 3.0, ()),
        ("min>=0", "latency", "min", None, ">=", 0.0, ()),
        ("corrected_p99<2500", "corrected", "percentile", 99.0, "<", 2500.0, ()),
        ("lag_p99<50", "lag", "percentile", 99.0, "<", 50.0, ()),
        ("error_rate<0.005", "error_rate", None, None, "<", 0.005, ()),
        ("rps>200", "rps", None, None, ">", 200.0, ()),
        ("count>=100", "count", None, None, ">=", 100.0, ()),
        ("failures<=3", "failures", None, None, "<=", 3.0, ()),
        (
            "p95{endpoint=/health}<100",
            "latency",
            "percentile",
            95.0,
            "<",
            100.0,
            (("endpoint", "/health"),),
        ),
        (
            "p95{ version = 2 , endpoint=/health/live }<150",
            "latency",
            "percentile",
            95.0,
            "<",
            150.0,
            (("version", "2"), ("endpoint", "/health/live")),
        ),
    ],
)
def test_parse_valid(expr, kind, stat, pct, op, limit, tags):
    # GIVEN a well-formed expression WHEN parsed THEN every part is understood
    t = parse_threshold(expr)
    assert (t.kind, t.stat, t.percentile, t.op, t.limit, t.tags) == (
        kind,
        stat,
        pct,
        op,
        limit,
        tags,
    )


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("p95", "not of the form"),
        ("p95 = 100", "not of the form"),
        ("p95<<100", "not of the form"),
        ("p95<abc", "not of the form"),
        ("latency<100", "unknown metric"),
        ("p0<100", "not within (0, 100]"),
        ("p101<100", "not within (0, 100]"),
        ("p95{region=eu}<100", "unknown tag 'region'"),
        ("p95{endpoint}<100", "not key=value"),
        ("p95{endpoint=/a,endpoint=/b}<100", "given twice"),
        ("error_rate<5", "fraction between 0 and 1"),
        ("p95<-1", "non-negative"),
        ("", "not of the form"),
    ],
)
def test_parse_invalid_is_a_config_error_naming_the_expression(expr, why):
    with pytest.raises(ConfigError) as info:
        parse_threshold(expr)
    message = str(info.value)
    assert repr(expr) in message
    assert why in message
    assert "allowed:" in message  # says what is allowed


def test_slo_defaults_come_from_the_target_slos():
    p95, errors = slo_thresholds(100.0, 0.995)
    assert p95.expression == "p95<100"
    assert errors.expression == "error_rate<0.005"
    assert parse_thresholds(["p95<100"])[0] == p95


# --- evaluation --------------------------------------------------------------------------


def test_percentile_matches_nearest_rank_of_the_raw_samples():
    # GIVEN 5,000 seeded latencies spread over three decades
    rng = random.Random(7)
    values = [round(rng.lognormvariate(1.5, 1.0), 3) for _ in range(5000)]
    s = [series(values=values)]
    for p in (50, 90, 95, 99, 99.9):
        # WHEN the threshold is evaluated THEN the observed value is the exact nearest-rank
        # sample, up to HdrHistogram's 3 significant digits (never below it)
        result = evaluate(parse_threshold(f"p{p}<100000"), s, 10.0)
        exact = nearest_rank(values, p)
        assert result.observed is not None
        assert exact <= result.observed <= exact * 1.001 + 0.001, (p, exact, result.observed)
        assert result.samples == 5000


def test_pass_and_fail_on_the_boundary():
    # 0.01 .. 1.00 ms: below 2.048 ms HdrHistogram holds every microsecond exactly
    s = [series(values=[v / 100 for v in range(1, 101)])]  # p95 is exactly 0.95 ms
    assert evaluate(parse_threshold("p95<=0.95"), s, 1.0).outcome == "pass"
    assert evaluate(parse_threshold("p95<0.95"), s, 1.0).outcome == "fail"
    assert evaluate(parse_threshold("max<1"), s, 1.0).outcome == "fail"
    assert evaluate(parse_threshold("min>=0.01"), s, 1.0).outcome == "pass"


def test_above_two_ms_a_value_reads_as_its_bucket_upper_edge_so_gates_err_strict():
    # 95 ms sits in a 64 us bucket: it reads 95.039 ms, so `p95<=95` fails (conservative),
    # unlike Locust, where a true 99.5 ms reads 100 and `p95<=100` passes up to 105 ms.
    s = [series(values=[float(v) for v in range(1, 101)])]
    result = evaluate(parse_threshold("p95<=95"), s, 1.0)
    assert result.outcome == "fail"
    assert result.observed is not None
    assert 95.0 < result.observed <= 95.0 * 1.001


def test_tags_select_endpoint_and_version():
    # GIVEN a stable version answering in ~2 ms and a canary answering in ~300 ms
    s = [
        series("/health", "1", [2.0] * 90),
        series("/health", "2", [300.0] * 10),
        series("/health/live", "1", [1.0] * 50),
    ]
    slow_canary = evaluate(parse_threshold("p95{version=2}<150"), s, 1.0)
    stable = evaluate(parse_threshold("p95{version=1}<150"), s, 1.0)
    live = evaluate(parse_threshold("max{endpoint=/health/live}<1.5"), s, 1.0)
    both = evaluate(parse_threshold("count{endpoint=/health,version=1}>=90"), s, 1)
    assert (slow_canary.outcome, slow_canary.samples) == ("fail", 10)
    assert (stable.outcome, stable.samples) == ("pass", 140)
    assert live.outcome == "pass"
    assert both.observed == 90


def test_a_tag_that_matches_nothing_is_an_error_not_a_pass():
    s = [series("/health", "1")]
    result = evaluate(parse_threshold("p95{endpoint=/helth}<100"), s, 1.0)
    assert result.outcome == "error"
    assert result.observed is None
    assert "endpoint=/helth matches nothing" in result.detail
    assert "/health" in result.detail  # says what was seen


def test_zero_samples_is_an_error_for_every_metric():
    for expr in ("p95<100", "error_rate<0.01", "rps>1", "count>=0", "max<1"):
        result = evaluate(parse_threshold(expr), [], 5.0)
        assert result.outcome == "error", expr
        empty = evaluate(parse_threshold(expr), [series(values=[])], 5.0)
        assert empty.outcome == "error", expr


def test_corrected_latency_needs_a_paced_run():
    closed = [series(values=[1.0, 2.0])]
    result = evaluate(parse_threshold("corrected_p99<100"), closed, 1.0)
    assert result.outcome == "error"
    assert "paced" in result.detail
    paced = [series(values=[1.0, 2.0], corrected=[1.0, 2000.0])]
    assert evaluate(parse_threshold("corrected_p99<100"), paced, 1.0).outcome == "fail"
    assert evaluate(parse_threshold("p99<100"), paced, 1.0).outcome == "pass"


def test_error_rate_rps_count_failures():
    s = [series(values=[1.0] * 150, failures=3), series("/x", "1", [1.0] * 50, failures=1)]
    by_name = {
        r.threshold.expression: r
        for r in evaluate_all(
            parse_thresholds(
                ["error_rate<0.02", "error_rate<0.019", "rps>=20", "failures<=4", "count>200"]
            ),
            s,
            10.0,
        )
    }
    assert by_name["error_rate<0.02"].observed == pytest.approx(0.02 * 200 / 200)
    assert by_name["error_rate<0.02"].outcome == "fail"  # 4/200 = 0.02 is not < 0.02
    assert by_name["error_rate<0.019"].outcome == "fail"
    assert by_name["rps>=20"].observed == pytest.approx(20.0)
    assert by_name["rps>=20"].outcome == "pass"
    assert by_name["failures<=4"].outcome == "pass"
    assert by_name["count>200"].outcome == "fail"


def test_rps_over_a_run_without_duration_is_an_error():
    result = evaluate(parse_threshold("rps>1"), [series()], 0.0)
    assert result.outcome == "error"
