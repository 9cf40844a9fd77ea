"""Statistics: percentiles against an exact nearest-rank reference, bounds against known values."""

from __future__ import annotations

import math
import random

import pytest

from lambda_gameday.stats import (
    LatencyHistogram,
    LatencySummary,
    exact_lower_bound,
    probes_needed,
    wilson_lower_bound,
)

REL = 1 / 1024  # 3 significant digits: a bucket is at most 1/1024 of its value wide (+1 us)


def nearest_rank(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if p == 0:
        return ordered[0]
    rank = max(1, math.ceil(round(p * len(ordered) / 100, 9)))
    return ordered[rank - 1]


def assert_close_upper(reported: float, exact: float) -> None:
    # reported is the upper edge of the exact sample's bucket: never below, at most 0.1 % above
    exact_us = round(exact * 1000)
    assert exact_us / 1000 <= reported <= (exact_us * (1 + REL) + 1) / 1000, (reported, exact)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 2, 7, 20, 100, 1001, 5000])
def test_percentiles_match_exact_nearest_rank(seed: int, n: int) -> None:
    # GIVEN random lognormal latencies (wide range: sub-ms to seconds)
    rng = random.Random(seed * 1000 + n)
    samples = [round(rng.lognormvariate(3.0, 1.5), 3) for _ in range(n)]
    hist = LatencyHistogram()
    for s in samples:
        hist.record_ms(s)
    # THEN every percentile is the nearest-rank sample within HdrHistogram precision
    assert hist.count == n
    for p in (1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100):
        assert_close_upper(hist.percentile_ms(p), nearest_rank(samples, p))
    assert_close_upper(hist.max_ms, max(samples))
    exact_min_us = round(min(samples) * 1000)
    assert exact_min_us / 1000 * (1 - REL) - 0.001 <= hist.min_ms <= exact_min_us / 1000
    assert hist.mean_ms == pytest.approx(sum(samples) / n, rel=2 * REL, abs=0.002)


def test_nearest_rank_not_locust_rank() -> None:
    # GIVEN 1..100 ms: nearest-rank p95 is 95 (Locust's int(n*p)+1 rank would say 96)
    hist = LatencyHistogram()
    for ms in range(1, 101):
        hist.record_ms(ms)
    assert 95.0 <= hist.percentile_ms(95) < 95.1
    assert 50.0 <= hist.percentile_ms(50) < 50.1
    assert hist.percentile_ms(100) == hist.max_ms
    # p90 of 7 samples is rank ceil(6.3) = 7, HdrHistogram's own rounding would give rank 6
    seven = LatencyHistogram()
    for ms in range(1, 8):
        seven.record_ms(ms)
    assert seven.percentile_ms(90) == pytest.approx(7.0, abs=0.01)


def test_p99_never_exceeds_max_and_percentiles_are_monotonic() -> None:
    rng = random.Random(7)
    hist = LatencyHistogram()
    for _ in range(300):
        hist.record_ms(rng.uniform(0.1, 900))
    values = [hist.percentile_ms(p) for p in range(0, 101)]
    assert values == sorted(values)
    assert hist.percentile_ms(99) <= hist.max_ms


def test_small_values_are_exact_to_the_microsecond() -> None:
    hist = LatencyHistogram()
    for ms in (0.001, 0.5, 1.234, 2.047):
        hist.record_ms(ms)
    assert hist.percentile_ms(25) == 0.001
    assert hist.percentile_ms(50) == 0.5
    assert hist.percentile_ms(75) == 1.234
    assert hist.max_ms == 2.047


def test_clamping_and_invalid_values() -> None:
    hist = LatencyHistogram()
    hist.record_ms(0.0)  # below 1 us: recorded as 1 us
    hist.record_ms(5_000_000.0)  # above one hour: recorded as one hour
    assert hist.count == 2
    assert hist.clamped == 2
    assert hist.min_ms == 0.001
    assert hist.max_ms >= 3_600_000
    with pytest.raises(ValueError, match="non-negative"):
        hist.record_ms(-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        hist.record_ms(math.nan)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        hist.percentile_ms(101)


def test_empty_histogram_refuses_percentiles_and_summarises_as_nan() -> None:
    hist = LatencyHistogram()
    with pytest.raises(ValueError, match="empty"):
        hist.percentile_ms(95)
    summary = hist.summary()
    assert summary.count == 0
    assert math.isnan(summary.p95)
    assert math.isnan(summary.max)
    assert math.isnan(hist.mean_ms)


def test_coordinated_omission_correction_fills_the_stall() -> None:
    # GIVEN 100 requests meant every 10 ms, one of which stalled for 1 s
    plain, corrected = LatencyHistogram(), LatencyHistogram()
    for _ in range(99):
        plain.record_ms(1.0)
        corrected.record_corrected_ms(1.0, 10.0)
    plain.record_ms(1000.0)
    corrected.record_corrected_ms(1000.0, 10.0)
    # THEN the plain p95 hides the stall, the corrected one shows it
    assert plain.count == 100
    assert plain.percentile_ms(95) < 1.01
    assert corrected.count == 100 + 99  # 1000, 990, ..., 10
    assert corrected.percentile_ms(95) > 800
    assert corrected.max_ms >= 1000


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(11)
    a, b, both = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    for i in range(500):
        v = rng.expovariate(1 / 40)
        (a if i % 2 else b).record_ms(v)
        both.record_ms(v)
    a.merge(b)
    a.merge(LatencyHistogram())  # merging an empty one is a no-op
    assert a.summary() == both.summary()


def test_encode_decode_round_trip() -> None:
    rng = random.Random(5)
    hist = LatencyHistogram()
    for _ in range(1000):
        hist.record_ms(rng.uniform(1, 2000))
    text = hist.encode()
    assert isinstance(text, str)
    assert text.startswith("HISTF")
    again = LatencyHistogram.decode(text)
    assert again.summary() == hist.summary()
    assert LatencyHistogram.decode(LatencyHistogram().encode()).count == 0
    with pytest.raises(ValueError, match="HdrHistogram"):
        LatencyHistogram.decode("not a histogram")


def test_summary_fields() -> None:
    hist = LatencyHistogram()
    for ms in range(1, 1001):
        hist.record_ms(ms / 10)
    s = hist.summary()
    assert isinstance(s, LatencySummary)
    assert s.count == 1000
    assert s.min <= s.p50 <= s.p90 <= s.p95 <= s.p99 <= s.max
    assert s.p99 == pytest.approx(99.0, rel=REL)


# --- confidence bounds ----------------------------------------------------------------------


def binom_upper_tail(successes: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(successes, n + 1))


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # R: binom.test(x, n, alternative = "greater")$conf.int[1]
        (95, 100, 0.8977),
        (1, 10, 0.005116),  # 1 - 0.95^(1/10)
        (10, 10, 0.7411),  # 0.05^(1/10)
        (50, 100, 0.4136),
        (999, 1000, 0.99526),
    ],
)
def test_exact_bound_known_values(successes: int, n: int, expected: float) -> None:
    assert exact_lower_bound(successes, n) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("successes", "n"), [(3, 10), (17, 20), (95, 100), (290, 300)])
def test_exact_bound_solves_the_binomial_tail(successes: int, n: int) -> None:
    # THEN at the bound, P(X >= successes) is exactly 1 - confidence
    for confidence in (0.9, 0.95, 0.99):
        low = exact_lower_bound(successes, n, confidence)
        assert binom_upper_tail(successes, n, low) == pytest.approx(1 - confidence, abs=1e-9)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (100, 100, 100 / (100 + 1.6448536269514722**2)),  # p = 1: n / (n + z²)
        (0, 10, 0.0),
        (95, 100, 0.9008),
        (50, 100, 0.4188),  # (0.513528 - 0.083352) / 1.027055 by hand
    ],
)
def test_wilson_bound_known_values(successes: int, n: int, expected: float) -> None:
    assert wilson_lower_bound(successes, n) == pytest.approx(expected, abs=1e-4)


def test_bounds_reject_bad_counts() -> None:
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_lower_bound(5, 0)
    with pytest.raises(ValueError, match="successes <= n"):
        exact_lower_bound(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        exact_lower_bound(5, 10, confidence=1.0)
    with pytest.raises(ValueError, match="target"):
        probes_needed(1.0, 0)
    with pytest.raises(ValueError, match="failures"):
        probes_needed(0.99, -1)


@pytest.mark.parametrize(
    ("failures", "exact", "wilson"),
    [(0, 598, 539), (1, 947, 894), (2, 1258, 1206), (3, 1549, 1499)],
)
def test_probes_needed_matches_measurement_table(failures: int, exact: int, wilson: int) -> None:
    assert probes_needed(0.995, failures) == exact
    assert probes_needed(0.995, failures, method="wilson") == wilson
    # and it is the smallest such n
    assert exact_lower_bound(exact - failures, exact) > 0.995
    assert exact_lower_bound(exact - 1 - failures, exact - 1) <= 0.995
    assert wilson_lower_bound(wilson - 1 - failures, wilson - 1) <= 0.995


def test_large_counts_are_fast_and_sane() -> None:
    low = exact_lower_bound(999_000, 1_000_000)
    assert 0.9989 < low < 0.999
    assert wilson_lower_bound(999_000, 1_000_000) == pytest.approx(low, abs=1e-5)
