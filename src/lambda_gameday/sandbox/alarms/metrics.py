"""An incremental, time-sorted index of moto's raw CloudWatch datapoints.

moto keeps every put_metric_data value in one append-only list per region. Scanning it per
alarm per tick would cost O(alarms x datapoints); instead each tick ingests only what was
appended since the last one and files it by (namespace, metric, exact dimension set).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .model import Datapoint
from .statistics import compute_statistic

__all__ = ["MetricIndex", "MetricKey", "to_epoch"]

MetricKey = tuple[str, str, frozenset[tuple[str, str]]]


def to_epoch(ts: Any) -> float:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return float(ts.timestamp())
    return float(ts)


@dataclass
class _Series:
    times: list[float] = field(default_factory=list)
    # (value, sample_count, sum, minimum, maximum): raw values have count 1
    values: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    has_aggregates: bool = False

    def add(self, t: float, v: tuple[float, float, float, float, float]) -> None:
        if not self.times or t >= self.times[-1]:
            self.times.append(t)
            self.values.append(v)
        else:
            i = bisect.bisect_right(self.times, t)
            self.times.insert(i, t)
            self.values.insert(i, v)

    def prune(self, before: float) -> None:
        i = bisect.bisect_left(self.times, before)
        if i:
            del self.times[:i]
            del self.values[:i]


class MetricIndex:
    """Datapoints per (namespace, metric name, dimension set), bucketed on demand."""

    def __init__(self) -> None:
        self._series: dict[MetricKey, _Series] = {}
        self._cursor = 0
        self._source_id = 0

    def ingest(self, metric_data: Sequence[Any]) -> int:
        """File the datums appended to moto's list since the last call; returns how many."""
        if id(metric_data) != self._source_id or len(metric_data) < self._cursor:
            self._series.clear()  # the backend was reset or replaced
            self._cursor = 0
            self._source_id = id(metric_data)
        new = metric_data[self._cursor :]
        self._cursor = len(metric_data)
        for d in new:
            dims = frozenset((str(x.name), str(x.value)) for x in d.dimensions)
            key: MetricKey = (d.namespace, d.name, dims)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            t = to_epoch(d.timestamp)
            if hasattr(d, "value"):
                v = float(d.value)
                series.add(t, (v, 1.0, v, v, v))
            else:
                series.has_aggregates = True
                series.add(
                    t, (math.nan, float(d.sample_count), float(d.sum), float(d.min), float(d.max))
                )
        return len(new)

    def prune(self, before: float) -> None:
        for series in self._series.values():
            series.prune(before)

    def datapoints(
        self, key: MetricKey, stat: str, period: int, start: float, end: float
    ) -> list[Datapoint]:
        """One Datapoint per period-aligned bucket in [start, end) that holds data."""
        series = self._series.get(key)
        if series is None:
            return []
        lo = bisect.bisect_left(series.times, start)
        hi = bisect.bisect_left(series.times, end)
        buckets: dict[float, list[tuple[float, float, float, float, float]]] = {}
        for t, v in zip(series.times[lo:hi], series.values[lo:hi], strict=True):
            b = float(math.floor(t / period) * period)
            buckets.setdefault(b, []).append(v)
        out: list[Datapoint] = []
        for b, vals in buckets.items():
            value = _stat(stat, vals)
            if value is not None:
                out.append(Datapoint(b, value, sum(v[1] for v in vals)))
        return out


def _stat(stat: str, vals: list[tuple[float, float, float, float, float]]) -> float | None:
    if all(v[1] == 1.0 and not math.isnan(v[0]) for v in vals):
        return compute_statistic(stat, [v[0] for v in vals])
    # Aggregated StatisticValues: the standard statistics only (no percentiles from sums).
    count = sum(v[1] for v in vals)
    if stat == "Sum":
        return sum(v[2] for v in vals)
    if stat == "SampleCount":
        return count
    if stat == "Average":
        return sum(v[2] for v in vals) / count if count else None
    if stat == "Minimum":
        return min(v[3] for v in vals)
    if stat == "Maximum":
        return max(v[4] for v in vals)
    return None
