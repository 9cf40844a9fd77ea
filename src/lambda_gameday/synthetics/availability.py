"""A paced availability monitor: every check once per tick, on a fixed schedule.

Tick k is scheduled at start + k × interval (default 10 s, Kubernetes' probe period). A
tick that starts late is not skipped: its lag (actual start − scheduled start) is recorded,
so a slow harness shows up as lag instead of masquerading as a slow target.

Two availabilities are reported, because they answer different questions:

- **per probe**: available probes / probes, where a probe is one check run in one tick and
  is available unless its final attempt `failed` (degraded counts as available);
- **per time point**: available ticks / ticks, where a tick is available only if every
  check in it was. This is the one the SLO (and the confidence bound) is about.

The bound is one-sided at `confidence` (exact Clopper-Pearson by default, or Wilson), and
`probes_needed` says how many more ticks without a failure it takes to assert the target.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from ..exceptions import ConfigError
from ..stats import LatencyHistogram, exact_lower_bound, probes_needed, wilson_lower_bound
from .definitions import CheckDefinition
from .engine import CheckRunner
from .results import CheckResult, ResultsWriter

__all__ = ["AvailabilityReport", "Monitor", "Tick", "availability_report", "ticks_from_results"]

Method = Literal["exact", "wilson"]


@dataclass(frozen=True)
class Tick:
    """One time point: the results of every check run in it."""

    index: int
    scheduled_at: float  # epoch seconds
    lag_ms: float
    results: tuple[CheckResult, ...]

    @property
    def available(self) -> bool:
        return all(r.outcome != "failed" for r in self.results)


@dataclass(frozen=True)
class AvailabilityReport:
    """Availability over a monitor run; see the module docstring for the two definitions."""

    target: float
    confidence: float
    method: Method
    probes: int
    probe_failures: int
    time_points: int
    time_point_failures: int
    per_probe: float
    per_time_point: float
    lower_bound: float  # on per-time-point availability; NaN with no time points
    can_assert: bool  # lower_bound > target
    probes_needed: int  # further ticks, all available, needed to assert the target (0 if met)
    consecutive_failures: int  # failed ticks at the end of the run
    max_consecutive_failures: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    duration_s: float
    kind: Literal["availability"] = field(default="availability")

    def to_record(self) -> dict[str, object]:
        return asdict(self)

    def sentence(self) -> str:
        """The verdict in words, for tables and logs."""
        if self.time_points == 0:
            return "no time points were probed: availability is unknown"
        head = (
            f"{self.per_time_point:.2%} available over {self.time_points} time points "
            f"({self.time_point_failures} failed); {self.confidence:.0%} lower bound "
            f"{self.lower_bound:.3%} ({self.method})"
        )
        if self.can_assert:
            return f"{head}: above the {self.target:.2%} target"
        if self.probes_needed > 0:
            return (
                f"{head}: cannot assert {self.target:.2%} yet; "
                f"{self.probes_needed} more successful probes needed"
            )
        return f"{head}: below the {self.target:.2%} target"


def availability_report(
    ticks: Sequence[Tick],
    target: float,
    *,
    confidence: float = 0.95,
    method: Method = "exact",
    duration_s: float = math.nan,
) -> AvailabilityReport:
    """Compute the report from ticks (pure; used by the monitor and when re-reading results)."""
    if not 0.0 < target < 1.0:
        raise ConfigError(f"availability target must be between 0 and 1, got {target!r}")
    probes = sum(len(t.results) for t in ticks)
    probe_failures = sum(r.outcome == "failed" for t in ticks for r in t.results)
    n = len(ticks)
    failed_ticks = sum(not t.available for t in ticks)
    streak = longest = 0
    for t in ticks:
        streak = 0 if t.available else streak + 1
        longest = max(longest, streak)
    bound_fn = exact_lower_bound if method == "exact" else wilson_lower_bound
    lower = bound_fn(n - failed_ticks, n, confidence) if n else math.nan
    can_assert = n > 0 and lower > target
    needed = 0
    if not can_assert:
        try:
            needed = max(0, probes_needed(target, failed_ticks, confidence, method) - n)
        except ValueError:
            needed = 0
    lag = LatencyHistogram()
    for t in ticks:
        lag.record_ms(max(t.lag_ms, 0.0))
    return AvailabilityReport(
        target=target,
        confidence=confidence,
        method=method,
        probes=probes,
        probe_failures=probe_failures,
        time_points=n,
        time_point_failures=failed_ticks,
        per_probe=(probes - probe_failures) / probes if probes else math.nan,
        per_time_point=(n - failed_ticks) / n if n else math.nan,
        lower_bound=lower,
        can_assert=can_assert,
        probes_needed=needed,
        consecutive_failures=streak,
        max_consecutive_failures=longest,
        lag_p50_ms=lag.percentile_ms(50) if lag.count else math.nan,
        lag_p99_ms=lag.percentile_ms(99) if lag.count else math.nan,
        lag_max_ms=lag.max_ms,
        duration_s=duration_s,
    )


class Monitor:
    """Run `checks` every `interval_s` until `duration_s`, `max_ticks` or `stop` ends it.

    At least one of `duration_s` / `max_ticks` is required unless a `stop` event is given
    (then the caller ends the run, e.g. on Ctrl-C). `on_tick` sees each tick as it ends.
    """

    def __init__(
        self,
        runner: CheckRunner,
        checks: Sequence[CheckDefinition],
        *,
        interval_s: float = 10.0,
        duration_s: float | None = None,
        max_ticks: int | None = None,
        stop: threading.Event | None = None,
        writer: ResultsWriter | None = None,
        on_tick: Callable[[Tick], None] | None = None,
        target: float | None = None,
        confidence: float = 0.95,
        method: Method = "exact",
    ) -> None:
        if not checks:
            raise ConfigError("the monitor needs at least one check")
        if not interval_s > 0:
            raise ConfigError(f"--interval must be > 0 seconds, got {interval_s!r}")
        if duration_s is None and max_ticks is None and stop is None:
            raise ConfigError("the monitor needs a duration, a tick count or a stop event")
        self.runner = runner
        self.checks = tuple(checks)
        self.interval_s = interval_s
        self.duration_s = duration_s
        self.max_ticks = max_ticks
        self.stop = stop or runner.stop
        if stop is not None:
            runner.stop = stop  # a stop also cuts retry back-offs short
        self.writer = writer
        self.on_tick = on_tick
        self.target = target if target is not None else runner.target.slos.availability
        self.confidence = confidence
        self.method: Method = method
        self.ticks: list[Tick] = []

    def run(self) -> AvailabilityReport:
        start_mono = time.monotonic()
        start_wall = time.time()
        index = 0
        while not self.stop.is_set():
            if self.max_ticks is not None and index >= self.max_ticks:
                break
            offset = index * self.interval_s
            if self.duration_s is not None and offset >= self.duration_s:
                break
            wait = start_mono + offset - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                break
            lag_ms = max(0.0, (time.monotonic() - (start_mono + offset)) * 1000.0)
            scheduled_wall = start_wall + offset
            results = []
            for check in self.checks:
                r = replace(self.runner.run(check), scheduled_at=scheduled_wall, lag_ms=lag_ms)
                results.append(r)
                if self.writer is not None:
                    self.writer.write(r)
            tick = Tick(index, scheduled_wall, lag_ms, tuple(results))
            self.ticks.append(tick)
            if self.on_tick is not None:
                self.on_tick(tick)
            index += 1
        return availability_report(
            self.ticks,
            self.target,
            confidence=self.confidence,
            method=self.method,
            duration_s=time.monotonic() - start_mono,
        )


def ticks_from_results(results: Sequence[CheckResult]) -> list[Tick]:
    """Rebuild the ticks of a past monitor run from its results (grouped by scheduled time)."""
    groups: dict[float, list[CheckResult]] = {}
    for r in results:
        if r.scheduled_at is not None:
            groups.setdefault(r.scheduled_at, []).append(r)
    return [
        Tick(i, at, max((r.lag_ms or 0.0) for r in rs), tuple(rs))
        for i, (at, rs) in enumerate(sorted(groups.items()))
    ]
