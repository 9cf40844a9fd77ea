"""Cold starts the probes could not see are reported as unknown, never as zero."""

from __future__ import annotations

import math
from pathlib import Path

from lambda_gameday.gameday.measure import Sample, endpoint_stats, load_stats
from lambda_gameday.load.results import LoadResults, Series
from lambda_gameday.load.runner import LoadReport
from lambda_gameday.stats import LatencyHistogram

T0 = 1_767_000_000.0


def test_plain_http_probes_report_cold_starts_as_unknown() -> None:
    # GIVEN HTTP probes whose target cannot say which request was cold (the first was slow)
    samples = [Sample(T0, 153.0, True)] + [Sample(T0 + i, 1.0, True) for i in range(1, 20)]
    stats = endpoint_stats("/health/live", samples, 0.995)
    # THEN the count is unknown ('?'), not a reassuring 0
    assert stats.cold_starts is None
    assert stats.cold_starts_text == "?"


def test_probes_that_can_tell_count_cold_and_warm() -> None:
    samples = [Sample(T0, 160.0, True, cold=True)] + [
        Sample(T0 + i, 2.0, True, cold=False) for i in range(1, 10)
    ]
    stats = endpoint_stats("/health", samples, 0.995)
    assert stats.cold_starts == 1
    assert stats.cold_starts_text == "1"
    assert stats.cold_p50_ms is not None and stats.cold_p50_ms >= 160.0
    assert stats.warm_p50_ms is not None and stats.warm_p50_ms < 3.0


def test_probes_without_an_answer_show_zero_latency_and_count_against_availability() -> None:
    # GIVEN four probes of which none was answered, one naming no version
    samples = [Sample(T0 + i, None, False, version="3" if i else None) for i in range(4)]
    stats = endpoint_stats("/health", samples, 0.995)
    # THEN no latency was timed: 0 ms in the table (not NaN); availability 0 of 4
    assert (stats.p50_ms, stats.p95_ms, stats.max_ms) == (0.0, 0.0, 0.0)
    assert (stats.samples, stats.failures, stats.availability) == (4, 4, 0.0)
    assert stats.availability_lower == 0.0
    # AND the versions count only the probes that named one
    assert stats.versions == (("3", 3),)


def _series(version: str, count: int, failures: int, *ms: float) -> Series:
    hist = LatencyHistogram()
    for v in ms:
        hist.record_ms(v)
    return Series("/health", "GET", version, count, failures, {"200": count}, hist)


def test_load_stats_merge_the_series_of_one_endpoint_across_versions() -> None:
    # GIVEN a load run whose /health requests were served by versions 1 and 2
    series = (
        _series("1", 3, 1, 10.0, 20.0, 30.0),
        _series("2", 1, 0, 400.0),
        _series("1", 2, 0, 5.0, 6.0),
    )
    results = LoadResults("r.json", "complete", "local", "http://x", T0, T0 + 5, 5.0, series)
    (stats,) = load_stats(LoadReport(results, (), (), Path("locust.log")))
    # THEN one row: every request and failure, the merged histogram, requests per version
    assert stats.path == "/health (load)"
    assert (stats.samples, stats.failures) == (6, 1)
    assert stats.versions == (("1", 5), ("2", 1))
    assert stats.availability == 5 / 6
    assert stats.availability_lower is not None and stats.availability_lower < 5 / 6
    assert math.isclose(stats.max_ms, 400.0, rel_tol=0.01)
    assert stats.p50_ms < 31.0 < stats.max_ms
