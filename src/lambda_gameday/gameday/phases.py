"""Adapters: each phase kind calls another part of the harness and converts its result
into the game-day model (`PhaseResult`). No measurement logic lives here — only calls
and conversions — so a game day and the single-purpose commands agree by construction.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ..config import FunctionSpec, Target
from ..exceptions import ConfigError
from ..stats import LatencyHistogram, LatencySummary, exact_lower_bound, probes_needed
from .model import EndpointStats, MinuteStat, PhaseResult, PhaseStatus, SLOResult
from .plan import (
    ChaosOptions,
    ColdstartOptions,
    ConformanceOptions,
    LintOptions,
    LoadOptions,
    PhaseSpec,
    SyntheticsOptions,
)

__all__ = [
    "PhaseContext",
    "Sample",
    "endpoint_stats",
    "latency_slos",
    "run_phase",
]


@dataclass
class PhaseContext:
    """What every phase gets: the target, where to write artifacts, and how to stop."""

    target: Target
    artifacts_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[str], None] = lambda _msg: None
    allow_production: bool = False


@dataclass(frozen=True)
class Sample:
    """One probe as the phases convert it: when, how long, whether it worked."""

    at: float  # epoch seconds at send
    latency_ms: float
    ok: bool
    cold: bool | None = None  # None: the target could not tell
    version: str | None = None


def _functions(target: Target, names: Sequence[str]) -> list[FunctionSpec]:
    return [target.function(n) for n in names] if names else list(target.functions)


# --- conversions shared by phases ----------------------------------------------------------


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


def endpoint_stats(
    path: str, samples: Sequence[Sample], availability_target: float
) -> EndpointStats:
    """Summarise raw probe samples of one endpoint: HdrHistogram percentiles, the exact
    binomial lower bound on availability, cold vs warm, per-minute p95 and versions."""
    ms = sorted(s.latency_ms for s in samples)
    summary = _summary(ms)
    failures = sum(1 for s in samples if not s.ok)
    cold = sorted(s.latency_ms for s in samples if s.cold)
    warm = sorted(s.latency_ms for s in samples if s.cold is False)
    minutes: dict[float, list[Sample]] = {}
    for s in samples:
        minutes.setdefault(s.at - s.at % 60, []).append(s)
    versions: dict[str, int] = {}
    for s in samples:
        if s.version:
            versions[s.version] = versions.get(s.version, 0) + 1
    n = len(samples)
    return EndpointStats(
        path=path,
        samples=n,
        failures=failures,
        p50_ms=summary.p50 if n else 0.0,
        p90_ms=summary.p90 if n else 0.0,
        p95_ms=summary.p95 if n else 0.0,
        p99_ms=summary.p99 if n else 0.0,
        max_ms=summary.max if n else 0.0,
        cold_starts=len(cold),
        cold_p50_ms=_summary(cold).p50 if cold else None,
        warm_p50_ms=_summary(warm).p50 if warm else None,
        availability=(n - failures) / n if n else None,
        availability_lower=exact_lower_bound(n - failures, n) if n else None,
        probes_needed=max(0, probes_needed(availability_target, failures) - n) if n else None,
        histogram=_histogram(ms),
        minutes=tuple(
            MinuteStat(
                minute=m,
                count=len(group),
                p95_ms=_summary([s.latency_ms for s in group]).p95,
                errors=sum(1 for s in group if not s.ok),
            )
            for m, group in sorted(minutes.items())
        ),
        versions=tuple(sorted(versions.items())),
    )


def _minute(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def latency_slos(stats: Sequence[EndpointStats], target: Target) -> list[SLOResult]:
    """The target's latency, cold-start and availability SLOs applied to endpoint stats."""
    slos = target.slos
    out: list[SLOResult] = []
    for e in stats:
        worst = e.worst_minute()
        detail = f"worst minute {_minute(worst.minute)}" if worst and len(e.minutes) > 1 else ""
        out.append(
            SLOResult.check(
                "latency_p95", e.path, e.p95_ms if e.samples else None,
                slos.health_latency_ms, "<", "ms", e.samples, label="p95", detail=detail,
            )
        )
        avail_detail = ""
        if e.availability_lower is not None and e.availability_lower <= slos.availability:
            need = e.probes_needed
            avail_detail = (
                "not yet assertable at 95 % confidence"
                + (f" ({need:,} more good probes needed)" if need else "")
            )
        out.append(
            SLOResult.check(
                "availability", e.path, e.availability, slos.availability, ">=", "%", e.samples,
                label="availability", detail=avail_detail, lower_bound=e.availability_lower,
            )
        )
    return out


# --- phases -------------------------------------------------------------------------------


def _missing(spec: PhaseSpec, module: str, started: float) -> PhaseResult:
    return PhaseResult(
        spec.name, spec.kind, "skipped", started, time.time(),
        message=f"{module} is not part of this build yet; phase not run",
    )


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _probe_loop(ctx: PhaseContext, opts: SyntheticsOptions) -> list[EndpointStats]:
    """Bounded sequential probes of each endpoint (count and wall-clock bounded)."""
    deadline = time.monotonic() + opts.max_seconds
    stats: list[EndpointStats] = []
    headers = {"Cache-Control": "no-cache", "User-Agent": "lambda-gameday/synthetics"}
    with httpx.Client(timeout=opts.timeout_s, headers=headers) as client:
        for fn in _functions(ctx.target, opts.endpoints):
            samples: list[Sample] = []
            url = ctx.target.url(fn.path)
            for i in range(opts.probes):
                if ctx.stop.is_set():
                    raise KeyboardInterrupt
                if time.monotonic() > deadline:
                    break
                if i % 50 == 0:
                    ctx.progress(f"{fn.path} {i}/{opts.probes}")
                at = time.time()
                t0 = time.perf_counter()
                try:
                    r = client.get(url)
                    ok = r.status_code < 500
                    version = r.headers.get("X-Amz-Executed-Version")
                except httpx.HTTPError:
                    ok, version = False, None
                samples.append(Sample(at, (time.perf_counter() - t0) * 1000, ok, None, version))
            stats.append(endpoint_stats(fn.path, samples, ctx.target.slos.availability))
    return stats


def run_synthetics(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, SyntheticsOptions)
    started = time.time()
    stats = _probe_loop(ctx, spec.options)
    slos = latency_slos(stats, ctx.target)
    status: PhaseStatus = "passed" if all(s.passed for s in slos) else "failed"
    return PhaseResult(
        spec.name, spec.kind, status, started, time.time(), slos=tuple(slos), endpoints=tuple(stats)
    )


def run_conformance(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, ConformanceOptions)
    return _missing(spec, "lambda_gameday.synthetics.conformance", time.time())


def run_lint(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, LintOptions)
    return _missing(spec, "lambda_gameday.chaos.lint", time.time())


def run_coldstart(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, ColdstartOptions)
    return _missing(spec, "lambda_gameday.synthetics.coldstart", time.time())


def run_load(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, LoadOptions)
    return _missing(spec, "lambda_gameday.load", time.time())


def run_chaos(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    assert isinstance(spec.options, ChaosOptions)
    return _missing(spec, "lambda_gameday.chaos", time.time())


_RUNNERS: dict[str, Callable[[PhaseSpec, PhaseContext], PhaseResult]] = {
    "conformance": run_conformance,
    "lint": run_lint,
    "synthetics": run_synthetics,
    "coldstart": run_coldstart,
    "load": run_load,
    "chaos": run_chaos,
}


def run_phase(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Run one phase. Harness errors propagate; the orchestrator records them."""
    runner = _RUNNERS.get(spec.kind)
    if runner is None:  # parse_plan already refuses unknown kinds
        raise ConfigError(f"unknown phase {spec.kind!r}")
    return runner(spec, ctx)


def cleanup_faults(ctx: PhaseContext) -> list[str]:
    """Remove every fault a chaos phase left, via the chaos ledger. Returns what was removed."""
    if not _available("lambda_gameday.chaos"):
        return []
    return []
