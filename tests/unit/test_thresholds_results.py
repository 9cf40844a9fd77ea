"""The results file: read back into typed objects; missing or corrupt files are run errors."""

from __future__ import annotations

import json

import pytest

from lambda_gameday.exceptions import GamedayError
from lambda_gameday.load.results import SCHEMA, Series, read_results, series_docs
from lambda_gameday.stats import LatencyHistogram


def _hist(*values: float) -> LatencyHistogram:
    h = LatencyHistogram()
    for v in values:
        h.record_ms(v)
    return h


def _doc(series: list[Series]) -> dict[str, object]:
    return {
        "schema": SCHEMA,
        "status": "complete",
        "mode": "master",
        "host": "http://127.0.0.1:1",
        "started_at": 100.0,
        "ended_at": 105.0,
        "duration_s": 5.0,
        "series": series_docs(series),
        "workers": {"w1": {"recorded": 2, "received": 2}, "w2": {"recorded": 1, "received": 1}},
        "paced_interval_ms": 100.0,
        "aborted": {"reason": "p95<1: 2.0 breaches <1", "at_s": 3.5},
        "locust": {"count": 3, "failures": 1, "p50": 1.0, "p95": 2.0, "p99": 2.0, "max": 2.0},
    }


def test_round_trip(tmp_path):
    # GIVEN a results document with two series, one of them paced
    a = Series("/health", "GET", "1", 2, 0, {"200": 2}, _hist(1.0, 2.0))
    b = Series("/health", "GET", "2", 1, 1, {"502": 1}, _hist(5.0), _hist(2005.0), _hist(2000.0))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_doc([a, b])))
    # WHEN read back
    res = read_results(path)
    # THEN counts, tags, histograms and run facts survive
    assert (res.count, res.failures) == (3, 1)
    assert res.versions == ("1", "2")
    assert res.endpoints == ("/health",)
    assert res.latency(version="1").count == 2
    assert res.latency(endpoint="/health").max_ms == pytest.approx(5.0, rel=1e-3)
    assert res.merged("corrected").percentile_ms(99) == pytest.approx(2005.0, rel=1e-3)
    assert res.merged("lag").count == 1
    assert res.workers["w1"].recorded == 2
    assert res.aborted is not None and res.aborted.at_s == 3.5
    assert res.locust is not None and res.locust.p95 == 2.0
    assert res.series[0].corrected is None


def test_missing_file_is_a_run_error(tmp_path):
    with pytest.raises(GamedayError, match="no load results were written") as info:
        read_results(tmp_path / "absent.json")
    assert info.value.exit_code == 4


@pytest.mark.parametrize(
    "text",
    ["{not json", json.dumps({"schema": 99}), json.dumps({"schema": SCHEMA, "status": "x"})],
)
def test_corrupt_file_is_a_run_error(tmp_path, text):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(GamedayError) as info:
        read_results(path)
    assert info.value.exit_code == 4
    assert str(path) in str(info.value)
