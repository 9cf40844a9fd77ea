"""JSON Lines results: written line by line, reloadable, re-evaluated from raw timings."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lambda_gameday.exceptions import ConfigError
from lambda_gameday.synthetics.results import (
    CheckResult,
    ResultsWriter,
    Timing,
    load_results,
    read_records,
    summarize,
)


def result(name: str, ms: float | None, outcome: str = "ok", **kw: object) -> CheckResult:
    return CheckResult(
        name=name,
        endpoint="/" + name,
        url="http://x/" + name,
        started_at=1.0,
        outcome=outcome,  # type: ignore[arg-type]
        status_code=None if ms is None else 200,
        timing=Timing(total_ms=ms, ttfb_ms=ms),
        **kw,  # type: ignore[arg-type]
    )


def test_round_trip_and_flush_per_line(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.jsonl"
    r1 = result("health", 12.5, executed_version="2", retry_reasons=("HTTP 502",), attempts=2)
    with ResultsWriter(out) as writer:
        writer.write(r1)
        # the line is on disk before the writer is closed
        assert json.loads(out.read_text().splitlines()[0])["name"] == "health"
        writer.write(result("live", None, "failed", reason="cannot connect"))
    loaded = load_results(out)
    assert loaded[0] == r1
    assert loaded[0].retried
    assert loaded[1].outcome == "failed"


def test_truncated_last_line_is_ignored_but_a_bad_middle_line_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    with ResultsWriter(out) as writer:
        writer.write(result("a", 1.0))
        writer.write(result("b", 2.0))
    good = out.read_text()
    out.write_text(good + '{"kind": "check", "na')
    assert [r.name for r in load_results(out)] == ["a", "b"]
    out.write_text('{"kind": "check", "na\n' + good)
    with pytest.raises(ConfigError, match=r"r.jsonl:1: not a JSON object"):
        load_results(out)
    out.write_text('{"no_kind": 1}\n')
    with pytest.raises(ConfigError, match="no 'kind'"):
        list(read_records(out))
    with pytest.raises(ConfigError, match="not found"):
        load_results(tmp_path / "missing.jsonl")


def test_unwritable_path_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write results"):
        ResultsWriter(blocker / "r.jsonl")


def test_nan_is_written_as_null(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    with ResultsWriter(out) as writer:
        writer.write(result("a", math.nan))
    assert json.loads(out.read_text())["timing"]["total_ms"] is None


def test_summarize_recomputes_percentiles_and_availability(tmp_path: Path) -> None:
    # GIVEN 100 results for one endpoint, 2 failed (one without a response), 1 degraded
    results = [result("health", float(ms)) for ms in range(1, 98)]
    results.append(result("health", 150.0, "degraded", cold_start=True, executed_version="3"))
    results.append(result("health", 99.0, "failed", attempts=2))
    results.append(result("health", None, "failed"))
    results.append(result("live", 5.0))
    out = tmp_path / "r.jsonl"
    with ResultsWriter(out) as writer:
        for r in results:
            writer.write(r)
    stats = summarize(load_results(out))
    h = stats["health"]
    assert (h.ok, h.degraded, h.failed, h.total) == (97, 1, 2, 100)
    assert h.availability == pytest.approx(0.98)
    assert h.retried == 1
    assert h.cold_starts == 1
    assert h.versions == {"3": 1}
    assert h.histogram.count == 99  # the result without a response has no latency
    assert h.latency.max == pytest.approx(150.0, rel=1e-3)
    assert 95.0 <= h.latency.p95 <= 95.1  # nearest rank 95 of 99 sorted values
    assert 0.9 < h.lower_bound() < 0.98
    assert h.lower_bound(method="wilson") > h.lower_bound()
    assert stats["live"].total == 1
