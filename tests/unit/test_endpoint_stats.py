"""Cold starts the probes could not see are reported as unknown, never as zero."""

from __future__ import annotations

from lambda_gameday.gameday.measure import Sample, endpoint_stats

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
