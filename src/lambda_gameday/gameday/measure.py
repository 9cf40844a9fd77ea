"""Measurement: raw samples into endpoint statistics, statistics into SLO results.

The one place a game day's numbers are computed — HdrHistogram percentiles, the exact
binomial availability bound, the worst minute, load thresholds as SLO lines — and the one
place they are turned back into budgets and display values. The phases, the terminal view,
the reports and the pytest plugin all call this module, so they cannot disagree.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..config import SLOs, Target
from ..stats import LatencyHistogram, LatencySummary, exact_lower_bound, probes_needed
from .model import EndpointStats, MinuteStat, SLOResult

if TYPE_CHECKING:  # the report and the view import this module; keep it free of the runner
    from ..load.results import Series
    from ..load.runner import LoadReport
    from ..load.thresholds import ThresholdResult

__all__ = [
    "Sample",
    "budgets_from",
    "endpoint_stats",
    "latency_slos",
    "load_stats",
    "slo_value_text",
    "threshold_slo",
    "worst_minute_detail",
]


@dataclass(frozen=True)
class Sample:
    """One probe as the phases convert it: when, how long, whether it worked."""

    at: float  # epoch seconds at send
    latency_ms: float | None  # None: no response at all (refused, timed out)
    ok: bool
    cold: bool | None = None  # None: the target could not tell
    version: str | None = None


# --- endpoint statistics ---------------------------------------------------------------------


def _histogram(sorted_ms: Sequence[float], buckets: int = 24) -> tuple[tuple[float, int], ...]:
    """Log-spaced buckets for the report's latency chart."""
    if not sorted_ms:
        return ()
    lo, hi = max(sorted_ms[0], 0.05), max(sorted_ms[-1], 0.1)
    if hi <= lo:
        return ((hi, len(sorted_ms)),)
    ratio = (hi / lo) ** (1 / buckets)
    edges = [lo * ratio ** (i + 1) for i in range(buckets)]
    edges[-1] = hi
    counts = [0] * buckets
    i = 0
    for v in sorted_ms:
        while i < buckets - 1 and v > edges[i]:
            i += 1
        counts[i] += 1
    return tuple((round(e, 3), c) for e, c in zip(edges, counts, strict=True))


def _summary(values: Sequence[float]) -> LatencySummary:
    hist = LatencyHistogram()
    for v in values:
        hist.record_ms(v)
    return hist.summary()


def _p95(values: Sequence[float]) -> float:
    return _summary(values).p95 if values else 0.0


# Probes that were never timed (no answer) show 0 ms, not NaN, in the tables.
_UNTIMED = LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _counted(
    path: str,
    n: int,
    failures: int,
    summary: LatencySummary,
    versions: Iterable[tuple[str, int]],
) -> EndpointStats:
    """What the statistics of probes and of a load run both say: how many requests, how
    many failed, the latency percentiles, availability with its exact binomial lower
    bound, and how many requests each (version, count) pair adds to its version."""
    served: dict[str, int] = {}
    for version, count in versions:
        served[version] = served.get(version, 0) + count
    return EndpointStats(
        path=path,
        samples=n,
        failures=failures,
        p50_ms=summary.p50,
        p90_ms=summary.p90,
        p95_ms=summary.p95,
        p99_ms=summary.p99,
        max_ms=summary.max,
        availability=(n - failures) / n if n else None,
        availability_lower=exact_lower_bound(n - failures, n) if n else None,
        versions=tuple(sorted(served.items())),
    )


def endpoint_stats(
    path: str, samples: Sequence[Sample], availability_target: float
) -> EndpointStats:
    """Summarise raw probe samples of one endpoint: HdrHistogram percentiles, the exact
    binomial lower bound on availability, cold vs warm, per-minute p95 and versions."""
    ms = sorted(s.latency_ms for s in samples if s.latency_ms is not None)
    failures = sum(1 for s in samples if not s.ok)
    cold = sorted(s.latency_ms for s in samples if s.cold and s.latency_ms is not None)
    warm = sorted(s.latency_ms for s in samples if s.cold is False and s.latency_ms is not None)
    # The latency SLO judges successful warm probes: a failure's latency is not a served
    # request's, and a cold start is judged by the cold-start SLO (its own row).
    slo_ms = [s.latency_ms for s in samples if s.ok and not s.cold and s.latency_ms is not None]
    cold_ok = [s.latency_ms for s in samples if s.ok and s.cold and s.latency_ms is not None]
    minutes: dict[float, list[Sample]] = {}
    for s in samples:
        minutes.setdefault(s.at - s.at % 60, []).append(s)
    n = len(samples)
    return replace(
        _counted(
            path,
            n,
            failures,
            _summary(ms) if ms else _UNTIMED,
            ((s.version, 1) for s in samples if s.version),
        ),
        # HTTP probes can't tell a cold start unless the target says so: unknown, not 0
        cold_starts=len(cold) if any(s.cold is not None for s in samples) else None,
        cold_p50_ms=_summary(cold).p50 if cold else None,
        warm_p50_ms=_summary(warm).p50 if warm else None,
        warm_samples=len(slo_ms),
        warm_p95_ms=_summary(slo_ms).p95 if slo_ms else None,
        cold_max_ms=max(cold_ok) if cold_ok else None,
        probes_needed=max(0, probes_needed(availability_target, failures) - n) if n else None,
        histogram=_histogram(ms),
        minutes=tuple(
            MinuteStat(
                minute=m,
                count=len(group),
                p95_ms=_p95([s.latency_ms for s in group if s.latency_ms is not None]),
                errors=sum(1 for s in group if not s.ok),
            )
            for m, group in sorted(minutes.items())
        ),
    )


def load_stats(report: LoadReport) -> list[EndpointStats]:
    """Per-endpoint statistics of a load run, merged from its raw latency histograms."""
    by_endpoint: dict[str, list[Series]] = {}
    for series in report.results.series:
        by_endpoint.setdefault(series.endpoint, []).append(series)
    out: list[EndpointStats] = []
    for endpoint, group in by_endpoint.items():
        hist = LatencyHistogram()
        for series in group:
            hist.merge(series.latency)
        out.append(
            _counted(
                f"{endpoint} (load)",
                sum(x.count for x in group),
                sum(x.failures for x in group),
                hist.summary(),
                ((x.version, x.count) for x in group),
            )
        )
    return out


# --- SLO evaluation ----------------------------------------------------------------------------


def worst_minute_detail(e: EndpointStats) -> str:
    """'worst minute 12:03' (local time) when the probes span more than one minute."""
    worst = e.worst_minute()
    if worst is None or len(e.minutes) <= 1:
        return ""
    return f"worst minute {time.strftime('%H:%M', time.localtime(worst.minute))}"


def latency_slos(
    stats: Sequence[EndpointStats], target: Target, *, warmup_excluded: int = 0
) -> list[SLOResult]:
    """The target's latency, cold-start and availability SLOs applied to endpoint stats.

    The p95 row is a *warm* p95 over successful probes; cold starts the target marks are
    their own row, judged against the cold-start SLO (a cold start is not a slow request);
    availability is INCONCLUSIVE while its 95 % lower bound cannot assert the target.
    """
    slos = target.slos
    out: list[SLOResult] = []
    for e in stats:
        notes = [worst_minute_detail(e)]
        if e.cold_starts is None:
            notes.append("all successful probes (the target does not mark cold starts)")
        elif e.cold_starts:
            notes.append(f"{e.cold_starts} cold start(s) excluded, judged in their own row")
        if warmup_excluded:
            notes.append(f"{warmup_excluded} warm-up probe(s) excluded")
        out.append(
            SLOResult.check(
                "latency_p95",
                e.path,
                e.warm_p95_ms,
                slos.health_latency_ms,
                "<",
                "ms",
                e.warm_samples,
                label="p95 (warm)",
                detail="; ".join(n for n in notes if n),
            )
        )
        if e.cold_starts:
            out.append(
                SLOResult.check(
                    "cold_start",
                    e.path,
                    e.cold_max_ms,
                    slos.cold_start_ms,
                    "<",
                    "ms",
                    e.cold_starts,
                    label="cold start (probe, worst)",
                    detail="client-side latency of the probes the target marked cold",
                )
            )
        avail_detail = ""
        if (
            e.availability is not None
            and e.availability >= slos.availability
            and e.availability_lower is not None
            and e.availability_lower <= slos.availability
        ):
            need = e.probes_needed
            avail_detail = "cannot be asserted at 95 % confidence" + (
                f" ({need:,} more good probes needed)" if need else ""
            )
        out.append(
            SLOResult.check(
                "availability",
                e.path,
                e.availability,
                slos.availability,
                ">=",
                "%",
                e.samples,
                label="availability",
                detail=avail_detail,
                lower_bound=e.availability_lower,
                assert_bound=True,
            )
        )
    return out


def threshold_slo(r: ThresholdResult) -> SLOResult:
    """A load threshold's outcome as an SLO line (its own pass/fail, not re-judged)."""
    t = r.threshold
    unit = "ms" if t.is_latency else ""
    return SLOResult(
        metric="load_threshold",
        subject=t.expression,
        measured=r.observed,
        budget=t.limit,
        comparison=t.op,
        unit=unit,
        samples=r.samples,
        passed=r.outcome == "pass",
        label=f"load threshold ({r.outcome})",
        detail=r.detail,
    )


def budgets_from(results: Sequence[SLOResult]) -> SLOs:
    """The budgets a run was judged against, read back from its SLO results (defaults for
    objectives the run did not check)."""
    budgets = {s.metric: s.budget for s in results}
    defaults = SLOs()
    return SLOs(
        health_latency_ms=budgets.get("latency_p95", defaults.health_latency_ms),
        cold_start_ms=budgets.get("cold_start", defaults.cold_start_ms),
        availability=budgets.get("availability", defaults.availability),
        mttr_s=budgets.get("mttr", defaults.mttr_s),
        deployment_success=budgets.get("deployment_success", defaults.deployment_success),
    )


def slo_value_text(slo: SLOResult, value: float | None) -> str:
    """A measured value or budget in the SLO's unit, for tables: '99.50 %', '143.2 ms'."""
    if value is None:
        return "—"
    if slo.unit == "%":
        return f"{value * 100:.2f} %"
    if not slo.unit:
        return f"{value:g}"
    return f"{value:,.1f} {slo.unit}"
