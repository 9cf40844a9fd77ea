"""The paced monitor and its availability report (MockTransport; the sandbox test is functional)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from lambda_gameday.config import sandbox_target
from lambda_gameday.exceptions import ConfigError
from lambda_gameday.synthetics.availability import (
    Monitor,
    Tick,
    availability_report,
    ticks_from_results,
)
from lambda_gameday.synthetics.definitions import CheckDefinition
from lambda_gameday.synthetics.engine import CheckRunner
from lambda_gameday.synthetics.results import CheckResult, ResultsWriter, load_results

TARGET = sandbox_target("http://127.0.0.1:9/dev", "http://127.0.0.1:8")
CHECKS = [
    CheckDefinition(name="live", endpoint="/health/live"),
    CheckDefinition(name="h", endpoint="/health"),
]


def tick(i: int, *outcomes: str) -> Tick:
    results = tuple(
        CheckResult(f"c{j}", "/x", "u", 0.0, o)  # type: ignore[arg-type]
        for j, o in enumerate(outcomes)
    )
    return Tick(i, float(i), 0.5, results)


def test_report_per_probe_and_per_time_point() -> None:
    # GIVEN 10 ticks of 2 checks; tick 3 loses one check, ticks 6-8 lose both
    ticks = [tick(i, "ok", "ok") for i in range(10)]
    ticks[3] = tick(3, "ok", "failed")
    for i in (6, 7, 8):
        ticks[i] = tick(i, "failed", "degraded" if i == 7 else "failed")
    report = availability_report(ticks, 0.995)
    assert report.probes == 20
    assert report.probe_failures == 6
    assert report.per_probe == pytest.approx(14 / 20)
    assert report.time_points == 10
    assert report.time_point_failures == 4
    assert report.per_time_point == pytest.approx(0.6)
    assert report.max_consecutive_failures == 3
    assert report.consecutive_failures == 0
    assert not report.can_assert
    assert report.lag_max_ms == pytest.approx(0.5)


def test_empty_report_is_unknown() -> None:
    report = availability_report([], 0.995)
    assert report.time_points == 0
    assert not report.can_assert
    assert report.probes_needed == 598
    assert "unknown" in report.sentence()


def test_monitor_100_clean_probes_cannot_assert_995_yet(tmp_path: Path) -> None:
    # GIVEN a healthy endpoint probed 100 times on a 2 ms schedule
    runner = CheckRunner(TARGET, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    out = tmp_path / "m.jsonl"
    with runner, ResultsWriter(out) as writer:
        report = Monitor(runner, CHECKS[:1], interval_s=0.002, max_ticks=100, writer=writer).run()
    # THEN it says it cannot assert 99.5 % and how many more probes it needs (598 - 100)
    assert report.time_points == 100
    assert report.per_time_point == 1.0
    assert report.lower_bound == pytest.approx(0.05 ** (1 / 100))
    assert not report.can_assert
    assert report.probes_needed == 498
    assert "cannot assert 99.50% yet; 498 more successful probes needed" in report.sentence()
    assert report.duration_s >= 99 * 0.002
    # AND the run can be re-evaluated from its JSON Lines
    again = availability_report(ticks_from_results(load_results(out)), 0.995)
    assert (again.time_points, again.probes_needed) == (100, 498)


def test_monitor_counts_consecutive_failures_and_stops_on_event() -> None:
    stop = threading.Event()
    state = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        return httpx.Response(503 if state["n"] > 3 else 200)

    seen: list[Tick] = []

    def on_tick(t: Tick) -> None:
        seen.append(t)
        if len(seen) == 6:
            stop.set()

    runner = CheckRunner(TARGET, transport=httpx.MockTransport(handler))
    with runner:
        report = Monitor(runner, CHECKS[:1], interval_s=0.001, stop=stop, on_tick=on_tick).run()
    assert report.time_points == 6
    assert report.consecutive_failures == 3
    assert report.max_consecutive_failures == 3
    assert all(t.lag_ms >= 0 for t in seen)


def test_monitor_duration_bounds_the_run() -> None:
    runner = CheckRunner(TARGET, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with runner:
        report = Monitor(runner, CHECKS, interval_s=0.01, duration_s=0.05).run()
    assert report.time_points == 5  # offsets 0, 10, 20, 30, 40 ms
    assert report.probes == 10


def test_monitor_rejects_unbounded_or_bad_settings() -> None:
    runner = CheckRunner(TARGET, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(ConfigError, match="duration"):
        Monitor(runner, CHECKS)
    with pytest.raises(ConfigError, match="interval"):
        Monitor(runner, CHECKS, interval_s=0, max_ticks=1)
    with pytest.raises(ConfigError, match="at least one check"):
        Monitor(runner, [], max_ticks=1)
    runner.close()
