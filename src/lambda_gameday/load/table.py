"""Rich tables of a load run: latency per endpoint and version, then the thresholds."""

from __future__ import annotations

import math

from rich.console import Group
from rich.table import Table

from ..console import wrapping
from .runner import LoadReport

__all__ = ["render_report"]

_STYLE = {"pass": "green", "fail": "red", "error": "magenta"}


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def render_report(report: LoadReport) -> Group:
    """Two tables: measured latency (raw HdrHistogram figures), and the verdicts."""
    res = report.results
    paced = any(s.corrected is not None for s in res.series)
    lat = Table(
        title=f"load: {res.count:,} requests in {res.duration_s:.1f} s "
        f"({res.count / res.duration_s if res.duration_s else 0:,.0f} req/s) against {res.host}",
        title_justify="left",
    )
    columns = ("endpoint", "version", "requests", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms")
    for col in columns:
        lat.add_column(col, justify="left" if col in ("endpoint", "version") else "right")
    if paced:
        lat.add_column("corrected p99 ms", justify="right")
        lat.add_column("lag p99 ms", justify="right")
    for s in sorted(res.series, key=lambda s: (s.endpoint, s.version, s.method)):
        summary = s.latency.summary()
        row = [
            s.endpoint if s.method == "GET" else f"{s.method} {s.endpoint}",
            s.version,
            f"{s.count:,}",
            f"{s.failures:,}",
            _ms(summary.p50),
            _ms(summary.p95),
            _ms(summary.p99),
            _ms(summary.max),
        ]
        if paced:
            for part in (s.corrected, s.lag):
                row.append(_ms(part.percentile_ms(99)) if part and part.count else "-")
        lat.add_row(*row)
    verdicts = Table(title="thresholds", title_justify="left")
    for col in ("threshold", "observed", "samples", "outcome"):
        verdicts.add_column(col, justify="right" if col in ("observed", "samples") else "left")
    for r in report.thresholds:
        observed = "-" if r.observed is None else f"{r.observed:,.4g}"
        style = _STYLE[r.outcome]
        verdicts.add_row(
            r.threshold.expression,
            observed,
            f"{r.samples:,}",
            f"[{style}]{r.outcome.upper()}[/{style}] {r.detail}",
        )
    if res.warmup_count:
        lat.caption = (
            f"warm-up: {res.warmup_count:,} requests in the first {res.warmup_s:g} s "
            "counted, not measured"
        )
        lat.caption_justify = "left"
    parts: list[Table] = [lat, verdicts]
    if res.aborted is not None:
        abort = Table(title="aborted", title_justify="left", show_header=False)
        abort.add_column("why")
        abort.add_row(f"at {res.aborted.at_s:.1f} s: {res.aborted.reason}")
        parts.append(abort)
    return Group(*(wrapping(p) for p in parts))
