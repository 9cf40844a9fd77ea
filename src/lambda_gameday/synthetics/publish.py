"""Publishing results: CloudWatch custom metrics named like CloudWatch Synthetics, and tables.

Each check result becomes datapoints in the `CloudWatchSynthetics` namespace with the
dimension `CanaryName` = the check name (one "canary" per endpoint), as canaries publish
them: `SuccessPercent` (100 or 0, Percent; alarm on its Average), `Duration` (the final
attempt's total time, Milliseconds), `Failed` (Count), `RetryCount` (Count, only when
retried) and `2xx` / `4xx` / `5xx` (Count). Datapoints carry the probe's own timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.table import Table

from ..aws import Clients, aws_errors
from ..config import Target
from ..console import wrapping
from ..findings import Finding
from .availability import AvailabilityReport
from .coldstart import ColdStartResult, ProvisionedResult
from .results import CheckResult, EndpointStats

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef

__all__ = [
    "NAMESPACE",
    "availability_table",
    "coldstart_table",
    "findings_table",
    "metric_data",
    "publish_metrics",
    "results_table",
]

NAMESPACE = "CloudWatchSynthetics"
_BATCH = 500  # PutMetricData takes up to 1,000 datapoints per call


def metric_data(results: Sequence[CheckResult]) -> list[MetricDatumTypeDef]:
    """The datapoints for `results` (pure)."""
    out: list[MetricDatumTypeDef] = []
    for r in results:
        failed = r.outcome == "failed"
        at = datetime.fromtimestamp(r.started_at, UTC)

        def datum(
            name: str, value: float, unit: str, r: CheckResult = r, at: datetime = at
        ) -> MetricDatumTypeDef:
            return {
                "MetricName": name,
                "Dimensions": [{"Name": "CanaryName", "Value": r.name}],
                "Timestamp": at,
                "Value": value,
                "Unit": unit,  # type: ignore[typeddict-item]
            }

        out.append(datum("SuccessPercent", 0.0 if failed else 100.0, "Percent"))
        out.append(datum("Failed", 1.0 if failed else 0.0, "Count"))
        if r.timing.total_ms is not None and math.isfinite(r.timing.total_ms):
            out.append(datum("Duration", r.timing.total_ms, "Milliseconds"))
        if r.retried:
            out.append(datum("RetryCount", float(r.attempts - 1), "Count"))
        if r.status_code is not None and 200 <= r.status_code < 600 and r.status_code // 100 != 3:
            out.append(datum(f"{r.status_code // 100}xx", 1.0, "Count"))
    return out


def publish_metrics(
    target: Target,
    results: Sequence[CheckResult],
    *,
    clients: Clients | None = None,
    namespace: str = NAMESPACE,
) -> int:
    """Send the datapoints to the target's CloudWatch; returns how many were sent."""
    data = metric_data(results)
    cw = (clients or Clients(target)).cloudwatch()
    for i in range(0, len(data), _BATCH):
        with aws_errors(f"publishing synthetic metrics to {namespace}"):
            cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + _BATCH])
    return len(data)


def _ms(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1f}"


def results_table(stats: dict[str, EndpointStats], title: str = "Synthetic checks") -> Table:
    """Per endpoint: outcomes, availability with its bound, and latency percentiles (ms)."""
    table = Table(title=title)
    for col in (
        "check",
        "ok",
        "degr.",
        "failed",
        "retried",
        "avail.",
        "95% lower",
        "p50",
        "p90",
        "p95",
        "p99",
        "max",
    ):
        table.add_column(col, justify="left" if col == "check" else "right")
    for name, s in stats.items():
        lat = s.latency
        table.add_row(
            name,
            str(s.ok),
            str(s.degraded),
            f"[red]{s.failed}[/]" if s.failed else "0",
            str(s.retried),
            f"{s.availability:.2%}" if s.total else "-",
            f"{s.lower_bound():.2%}" if s.total else "-",
            _ms(lat.p50),
            _ms(lat.p90),
            _ms(lat.p95),
            _ms(lat.p99),
            _ms(lat.max),
        )
    return wrapping(table)


def coldstart_table(
    results: Sequence[ColdStartResult | ProvisionedResult], *, modelled: bool = False
) -> Table:
    """`modelled`: the target is the sandbox, whose Init Duration is configured, not measured."""
    table = Table(title="Cold starts (Invoke API on $LATEST; provisioned via the alias)")
    init_col = "Init Duration ms (modelled by the sandbox)" if modelled else "Init Duration ms"
    for col in ("function", "probe", "cold client ms", init_col, "warm p50 ms", "result"):
        table.add_column(col, justify="left" if col in ("function", "probe", "result") else "right")
    for r in results:
        verdict = "[green]ok[/]" if r.outcome == "ok" else f"[red]{r.outcome}[/]: {r.reason}"
        if isinstance(r, ColdStartResult):
            cold = r.cold
            table.add_row(
                r.function,
                "cold start",
                _ms(cold.client_ms if cold else None),
                _ms(cold.init_duration_ms if cold else None),
                _ms(r.warm_p50_ms),
                verdict,
            )
        else:
            table.add_row(
                r.function, f"provisioned ({r.alias}, {r.declared})", "-", "-", "-", verdict
            )
    return wrapping(table)


def findings_table(findings: Sequence[Finding]) -> Table:
    table = Table(title="Conformance")
    for col in ("check", "resource", "status", "finding", "fix"):
        table.add_column(col)
    colour = {"pass": "green", "fail": "red", "error": "yellow"}
    for f in findings:
        table.add_row(f.rule, f.resource, f"[{colour[f.status]}]{f.status}[/]", f.message, f.fix)
    return wrapping(table)


def availability_table(report: AvailabilityReport) -> Table:
    table = Table(title="Availability")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("time points (failed)", f"{report.time_points} ({report.time_point_failures})"),
        ("per time point", f"{report.per_time_point:.3%}" if report.time_points else "-"),
        ("probes (failed)", f"{report.probes} ({report.probe_failures})"),
        ("per probe", f"{report.per_probe:.3%}" if report.probes else "-"),
        (
            f"{report.confidence:.0%} lower bound ({report.method})",
            f"{report.lower_bound:.3%}" if report.time_points else "-",
        ),
        ("target", f"{report.target:.2%}"),
        ("more probes needed", str(report.probes_needed)),
        ("max consecutive failures", str(report.max_consecutive_failures)),
        ("schedule lag p50 / max ms", f"{_ms(report.lag_p50_ms)} / {_ms(report.lag_max_ms)}"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    return wrapping(table)
