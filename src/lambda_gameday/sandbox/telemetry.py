"""AWS/Lambda metrics and CloudWatch Logs lines, written into moto's backends in-process.

The hot path only appends to a buffer; a flusher thread moves the buffer into moto every
`flush_interval_s` (0.2 s), so a request never pays for moto. With `publish_delay_s` a
metric value stays in the buffer until it is that old: GetMetricStatistics, GetMetricData
and the alarm evaluator see it only then, as AWS publishes Lambda metrics late. Every raw
value is kept (one MetricDatum per value, timestamped at invocation start) so percentiles can be
computed from raw data. `raw_datapoints()` reads them back with AWS's exact-dimension
matching, for components (the alarm evaluator) that need raw values.

moto's GetMetricStatistics matches dimensions as a subset (a {FunctionName} query also
sums the {FunctionName, Resource} datapoints); AWS matches the exact set. Publishing on
the documented dimension sets would be overcounted, so `exact_dimension_statistics()`
makes moto match exactly for as long as the sandbox runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .ticker import Ticker

__all__ = [
    "Dimensions",
    "Telemetry",
    "exact_dimension_statistics",
    "raw_datapoints",
]

Dimensions = tuple[tuple[str, str], ...]  # sorted (Name, Value) pairs


def _naive_utc(epoch: float) -> datetime:
    # moto compares metric timestamps with naive UTC datetimes.
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _epoch(ts: datetime) -> float:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


def _dims_of(datum: Any) -> Dimensions:
    return tuple(sorted((d.name, d.value) for d in datum.dimensions))


# Plain tuples on the hot path: (namespace, name, value, unit, dimensions, at) and
# (group, stream, at, message).
_Metric = tuple[str, str, float, str, Dimensions, float]
_LogLine = tuple[str, str, float, str]


class Telemetry:
    """Buffers metric values and log lines; a background thread writes them into moto."""

    def __init__(
        self,
        account_id: str,
        region: str,
        flush_interval_s: float = 0.2,
        publish_delay_s: float = 0.0,
    ):
        self.account_id = account_id
        self.region = region
        self.flush_interval_s = flush_interval_s
        # A value reaches CloudWatch this long after the instant it stamps (faithful timing:
        # AWS/Lambda metrics arrive a minute or more late); logs are not held back.
        self.publish_delay_s = publish_delay_s
        self.clock_skew_s = 0.0  # AWS's clock minus the local one: stored stamps are AWS's
        self._metrics: list[_Metric] = []
        self._logs: list[_LogLine] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._streams: set[tuple[str, str]] = set()
        self._dimension_lists: dict[Dimensions, list[Any]] = {}
        self._ticker = Ticker("sandbox-telemetry", self.flush, lambda: self.flush_interval_s)

    # -- hot path ----------------------------------------------------------------------

    def metric(
        self,
        name: str,
        value: float,
        dimension_sets: Sequence[Dimensions],
        at: float,
        unit: str = "Count",
        namespace: str = "AWS/Lambda",
    ) -> None:
        """One value, published once per dimension set (as AWS does for Lambda)."""
        items = [(namespace, name, value, unit, dims, at) for dims in dimension_sets]
        with self._lock:
            self._metrics.extend(items)

    def log(self, group: str, stream: str, at: float, message: str) -> None:
        with self._lock:
            self._logs.append((group, stream, at, message))

    # -- flushing ----------------------------------------------------------------------

    def flush(self) -> None:
        """Move everything buffered into moto now (also called on stop)."""
        from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
        from moto.logs.models import logs_backends

        with self._flush_lock:
            with self._lock:
                metrics, self._metrics = self._metrics, []
                logs, self._logs = self._logs, []
                if self.publish_delay_s > 0 and metrics:
                    cutoff = time.time() - self.publish_delay_s
                    self._metrics = [m for m in metrics if m[5] > cutoff]
                    metrics = [m for m in metrics if m[5] <= cutoff]
            if metrics:
                backend = cloudwatch_backends[self.account_id][self.region]
                backend.metric_data.extend(
                    self._datum(MetricDatum, namespace, name, value, unit, dims, at)
                    for namespace, name, value, unit, dims, at in metrics
                )
            if logs:
                logs_backend = logs_backends[self.account_id][self.region]
                by_stream: dict[tuple[str, str], list[dict[str, Any]]] = {}
                for group, stream, at, message in logs:
                    by_stream.setdefault((group, stream), []).append(
                        {"timestamp": int((at + self.clock_skew_s) * 1000), "message": message}
                    )
                for (group, stream), events in by_stream.items():
                    # PutLogEvents refuses a batch that is not in chronological order
                    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html),
                    # and so does moto: the whole batch would be lost and the flusher
                    # thread would die. Buffer order is not time order if the wall clock
                    # steps back; a stable sort keeps START/END/REPORT of one instant in order.
                    events.sort(key=lambda event: event["timestamp"])
                    if (group, stream) not in self._streams:
                        logs_backend.ensure_log_group(group)
                        if stream not in logs_backend.groups[group].streams:
                            logs_backend.create_log_stream(group, stream)
                        self._streams.add((group, stream))
                    logs_backend.put_log_events(group, stream, events)

    def _datum(
        self,
        cls: Any,
        namespace: str,
        name: str,
        value: float,
        unit: str,
        dims: Dimensions,
        at: float,
    ) -> Any:
        # What MetricDatum.__init__ does, without rebuilding the Dimension objects for every
        # value: datums with the same dimension set share one (never mutated) list.
        from moto.cloudwatch.models import Dimension

        dimension_list = self._dimension_lists.get(dims)
        if dimension_list is None:
            dimension_list = [Dimension(k, v) for k, v in dims]
            self._dimension_lists[dims] = dimension_list
        datum = cls.__new__(cls)
        datum.namespace, datum.name, datum.value, datum.unit = namespace, name, value, unit
        datum.timestamp = _naive_utc(at + self.clock_skew_s)
        datum.dimensions = dimension_list
        return datum

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()
        self.flush()


def raw_datapoints(
    account_id: str,
    region: str,
    namespace: str,
    metric: str,
    dimensions: Sequence[tuple[str, str]] | dict[str, str],
    start: float,
    end: float,
) -> list[tuple[float, float]]:
    """Every raw (epoch seconds, value) of a metric with exactly these dimensions, in
    [start, end), oldest first. Aggregated (StatisticValues) data is skipped."""
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

    want = tuple(sorted(dimensions.items() if isinstance(dimensions, dict) else dimensions))
    backend = cloudwatch_backends[account_id][region]
    out = [
        (_epoch(d.timestamp), float(d.value))
        for d in list(backend.metric_data)
        if isinstance(d, MetricDatum)
        and d.namespace == namespace
        and d.name == metric
        and _dims_of(d) == want
    ]
    out = [p for p in out if start <= p[0] < end]
    out.sort()
    return out


class _ExactView:
    """Stands in for the backend inside moto's get_metric_statistics: only datapoints with
    exactly the requested dimensions are visible."""

    def __init__(self, backend: Any, want: Dimensions):
        self._backend = backend
        self._want = want

    def get_all_metrics(self) -> list[Any]:
        return [m for m in self._backend.get_all_metrics() if _dims_of(m) == self._want]


_patch_lock = threading.Lock()
_patch_users = 0
_original: Any = None


@contextmanager
def exact_dimension_statistics() -> Iterator[None]:
    """Within the block, moto's GetMetricStatistics matches dimension sets exactly (AWS).
    Reference-counted: several sandboxes in one process share one patch."""
    global _patch_users, _original
    from moto.cloudwatch.models import CloudWatchBackend

    with _patch_lock:
        if _patch_users == 0:
            _original = CloudWatchBackend.get_metric_statistics
            original = _original

            def exact(
                self: Any,
                namespace: str,
                metric_name: str,
                start_time: datetime,
                end_time: datetime,
                period: int,
                stats: list[str],
                dimensions: list[dict[str, str]],
                unit: str | None = None,
            ) -> Any:
                want = tuple(sorted((d["Name"], d.get("Value", "")) for d in dimensions or []))
                return original(
                    _ExactView(self, want),
                    namespace,
                    metric_name,
                    start_time,
                    end_time,
                    period,
                    stats,
                    dimensions,
                    unit=unit,
                )

            CloudWatchBackend.get_metric_statistics = exact  # type: ignore[method-assign]
        _patch_users += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_users -= 1
            if _patch_users == 0:
                CloudWatchBackend.get_metric_statistics = _original  # type: ignore[method-assign]
