"""Adapters: each phase kind calls another part of the harness and converts its result
into the game-day model (`PhaseResult`). No measurement logic lives here — only calls
and conversions — so a game day and the single-purpose commands agree by construction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..config import FunctionSpec, Target
from ..exceptions import ConfigError
from ..load.during import background_load
from ..load.results import Series
from ..load.runner import LoadReport
from ..load.thresholds import ThresholdResult
from ..stats import LatencyHistogram, LatencySummary, exact_lower_bound, probes_needed
from ..synthetics import CheckDefinition, CheckResult, CheckRunner, ResultsWriter, load_checks
from ..synthetics.definitions import Expectations, LatencyBudget
from .model import (
    EndpointStats,
    Finding,
    MinuteStat,
    PhaseResult,
    PhaseStatus,
    SLOResult,
    Timeline,
    TimelineEvent,
)
from .plan import (
    ChaosOptions,
    ColdstartOptions,
    ConformanceOptions,
    LintOptions,
    LoadOptions,
    PhaseSpec,
    SyntheticsOptions,
)

if TYPE_CHECKING:
    from ..chaos.runner import ExperimentResult
    from ..chaos.timeline import ProbeRecord
    from ..synthetics.coldstart import InvokeSample

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
    planned_experiments: tuple[str, ...] = ()  # every experiment the plan's chaos phases run


@dataclass(frozen=True)
class Sample:
    """One probe as the phases convert it: when, how long, whether it worked."""

    at: float  # epoch seconds at send
    latency_ms: float | None  # None: no response at all (refused, timed out)
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


def _p95(values: Sequence[float]) -> float:
    return _summary(values).p95 if values else 0.0


def endpoint_stats(
    path: str, samples: Sequence[Sample], availability_target: float
) -> EndpointStats:
    """Summarise raw probe samples of one endpoint: HdrHistogram percentiles, the exact
    binomial lower bound on availability, cold vs warm, per-minute p95 and versions."""
    ms = sorted(s.latency_ms for s in samples if s.latency_ms is not None)
    summary = _summary(ms)
    has = bool(ms)
    failures = sum(1 for s in samples if not s.ok)
    cold = sorted(s.latency_ms for s in samples if s.cold and s.latency_ms is not None)
    warm = sorted(s.latency_ms for s in samples if s.cold is False and s.latency_ms is not None)
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
        p50_ms=summary.p50 if has else 0.0,
        p90_ms=summary.p90 if has else 0.0,
        p95_ms=summary.p95 if has else 0.0,
        p99_ms=summary.p99 if has else 0.0,
        max_ms=summary.max if has else 0.0,
        # HTTP probes can't tell a cold start unless the target says so: unknown, not 0
        cold_starts=len(cold) if any(s.cold is not None for s in samples) else None,
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
                p95_ms=_p95([s.latency_ms for s in group if s.latency_ms is not None]),
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
                "latency_p95",
                e.path,
                e.p95_ms if e.samples else None,
                slos.health_latency_ms,
                "<",
                "ms",
                e.samples,
                label="p95",
                detail=detail,
            )
        )
        avail_detail = ""
        if e.availability_lower is not None and e.availability_lower <= slos.availability:
            need = e.probes_needed
            avail_detail = "not yet assertable at 95 % confidence" + (
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
            )
        )
    return out


# --- phases -------------------------------------------------------------------------------


def _builtin_checks(target: Target, opts: SyntheticsOptions) -> list[CheckDefinition]:
    """One check per target function: 2xx and the health+json contract. Latency is judged
    by the p95 SLO over all probes, so a slow probe is not counted as unavailable here."""
    return [
        CheckDefinition(
            name=fn.path,
            endpoint=fn.path,
            timeout_s=opts.timeout_s,
            latency=LatencyBudget(failed_ms=opts.timeout_s * 1000.0),
            expect=Expectations(status=("2xx",), health=True),
            source="<game day>",
        )
        for fn in _functions(target, opts.endpoints)
    ]


def _sample(r: CheckResult) -> Sample:
    latency = r.timing.total_ms if r.status_code is not None else None
    return Sample(r.started_at, latency, r.outcome != "failed", r.cold_start, r.executed_version)


def _failure_findings(results: Sequence[CheckResult]) -> tuple[Finding, ...]:
    """Distinct failure reasons per endpoint, most frequent first: the 'why' of a failure."""
    counts: dict[tuple[str, str], int] = {}
    for r in results:
        if r.outcome == "failed":
            key = (r.name, r.reason or "failed")
            counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    return tuple(
        Finding("error", name, f"{n} probe(s) failed: {reason}") for (name, reason), n in ranked
    )


def run_synthetics(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Bounded probes (count and wall clock) of every endpoint through the check engine;
    raw results kept as JSON Lines in `synthetics.jsonl`."""
    opts = spec.options
    assert isinstance(opts, SyntheticsOptions)
    started = time.time()
    if opts.checks:
        checks, errors = load_checks([Path(c) for c in opts.checks])
        if errors:
            raise ConfigError("; ".join(f"{e.source}: {e.reason}" for e in errors))
    else:
        checks = _builtin_checks(ctx.target, opts)
    deadline = time.monotonic() + opts.max_seconds
    results: dict[str, list[CheckResult]] = {c.name: [] for c in checks}
    out = ctx.artifacts_dir / f"{spec.name}.jsonl"
    with ResultsWriter(out) as writer, CheckRunner(ctx.target, stop=ctx.stop) as runner:
        for i in range(opts.probes):
            if time.monotonic() > deadline:
                break
            if i % 25 == 0:
                ctx.progress(f"round {i + 1}/{opts.probes} of {len(checks)} endpoints")
            for check in checks:  # interleaved, so a transient fault hits every endpoint alike
                if ctx.stop.is_set():
                    raise KeyboardInterrupt
                result = runner.run(check)
                writer.write(result)
                results[check.name].append(result)
    stats = [
        endpoint_stats(
            c.endpoint if c.endpoint.startswith("/") else c.name,
            [_sample(r) for r in results[c.name]],
            ctx.target.slos.availability,
        )
        for c in checks
    ]
    slos = latency_slos(stats, ctx.target)
    status: PhaseStatus = "passed" if all(s.passed for s in slos) else "failed"
    return PhaseResult(
        spec.name,
        spec.kind,
        status,
        started,
        time.time(),
        message="" if status == "passed" else f"{sum(not s.passed for s in slos)} SLO(s) breached",
        slos=tuple(slos),
        endpoints=tuple(stats),
        findings=_failure_findings([r for rs in results.values() for r in rs]),
        artifacts=(out.name,),
    )


def _load_stats(report: LoadReport, availability: float) -> list[EndpointStats]:
    by_endpoint: dict[str, list[Series]] = {}
    for series in report.results.series:
        by_endpoint.setdefault(series.endpoint, []).append(series)
    out: list[EndpointStats] = []
    for endpoint, group in by_endpoint.items():
        hist = LatencyHistogram()
        for series in group:
            hist.merge(series.latency)
        n = sum(x.count for x in group)
        failures = sum(x.failures for x in group)
        summary = hist.summary()
        versions: dict[str, int] = {}
        for x in group:
            versions[x.version] = versions.get(x.version, 0) + x.count
        out.append(
            EndpointStats(
                path=f"{endpoint} (load)",
                samples=n,
                failures=failures,
                p50_ms=summary.p50,
                p90_ms=summary.p90,
                p95_ms=summary.p95,
                p99_ms=summary.p99,
                max_ms=summary.max,
                availability=(n - failures) / n if n else None,
                availability_lower=exact_lower_bound(n - failures, n) if n else None,
                versions=tuple(sorted(versions.items())),
            )
        )
    return out


def _threshold_slo(r: ThresholdResult) -> SLOResult:
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


_LOAD_STATUS: dict[str, PhaseStatus] = {"pass": "passed", "fail": "failed", "error": "error"}


def run_load_phase(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """A bounded Locust run (its own process) judged on raw-histogram thresholds."""
    from ..load import LoadOptions as RunnerOptions
    from ..load import default_warmup_s, run_load

    opts = spec.options
    assert isinstance(opts, LoadOptions)
    started = time.time()
    out = ctx.artifacts_dir / f"{spec.name}-results.json"

    def progress(elapsed: float, requests: int) -> None:
        ctx.progress(f"{elapsed:.0f}/{opts.duration_s:.0f} s, {requests:,} requests")
        if ctx.stop.is_set():
            raise KeyboardInterrupt

    report = run_load(
        ctx.target,
        RunnerOptions(
            users=opts.users,
            spawn_rate=opts.spawn_rate,
            run_time_s=max(1, round(opts.duration_s)),
            workers=opts.workers,
            thresholds=opts.thresholds,
            out=out,
            warmup_s=(
                opts.warmup_s if opts.warmup_s is not None else default_warmup_s(opts.duration_s)
            ),
        ),
        progress=progress,
    )
    slos = [_threshold_slo(r) for r in report.thresholds]
    status = _LOAD_STATUS[report.verdict]
    message = ""
    if report.results.aborted is not None:
        message = f"aborted: {report.results.aborted.reason}"
    elif status == "error":
        message = "; ".join(
            f"{r.threshold.expression}: {r.detail}"
            for r in report.thresholds
            if r.outcome == "error"
        )
    return PhaseResult(
        spec.name,
        spec.kind,
        status,
        started,
        time.time(),
        message=message,
        slos=tuple(slos),
        endpoints=tuple(_load_stats(report, ctx.target.slos.availability)),
        artifacts=(out.name, report.log.name),
    )


_SEVERITY: dict[str, Literal["error", "warning", "info"]] = {
    "fail": "error",
    "error": "error",
    "warn": "warning",
    "warning": "warning",
    "pass": "info",
}


def _judge_findings(
    spec: PhaseSpec, started: float, findings: Sequence[Finding], fail_on: str
) -> PhaseResult:
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    failed = (fail_on == "error" and errors > 0) or (fail_on == "warning" and errors + warnings > 0)
    message = f"{errors} error(s), {warnings} warning(s) in {len(findings)} checks"
    return PhaseResult(
        spec.name,
        spec.kind,
        "failed" if failed else "passed",
        started,
        time.time(),
        message=message,
        findings=tuple(findings),
    )


def run_conformance(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """The seed's checklist, read-only: versions, aliases, provisioned concurrency, alarms
    and the alert topic; every finding names the resource and the fix."""
    from ..synthetics.conformance import run_conformance as checklist

    opts = spec.options
    assert isinstance(opts, ConformanceOptions)
    started = time.time()
    ctx.progress("reading the target's setup")
    findings = [
        Finding(_SEVERITY.get(f.status, "error"), f.resource, f"{f.check}: {f.message}", f.fix)
        for f in checklist(ctx.target)
    ]
    return _judge_findings(spec, started, findings, opts.fail_on)


def run_lint(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """What cannot work, before anything is injected: the target's alarms and deployment
    groups, plus the faults the experiments inject, against the MTTR budget."""
    from ..chaos.context import clients_for
    from ..chaos.lint import LintInputs, lint
    from ..chaos.lint_reader import alarms_from_template, faults_from_experiments, read_target
    from ..chaos.runner import resolve_experiment

    opts = spec.options
    assert isinstance(opts, LintOptions)
    started = time.time()
    ctx.progress("reading alarms and deployment groups")
    alarms, groups = read_target(clients_for(ctx.target), ctx.target)
    for template in opts.templates:
        alarms += alarms_from_template(Path(template))
    names = opts.experiments or ctx.planned_experiments
    paths = [resolve_experiment(n, opts.experiments_dir) for n in names]
    readiness = next((f.name for f in ctx.target.functions if f.path == "/health/ready"), None)
    found = lint(
        LintInputs(
            alarms=alarms,
            groups=groups,
            faults=faults_from_experiments(paths, readiness),
            function_alarms={f.name: f.alarms for f in ctx.target.functions},
            budget_s=ctx.target.slos.mttr_s,
            on_aws=ctx.target.kind == "aws",
        )
    )
    findings = [
        Finding(_SEVERITY.get(f.severity, "error"), f.resource, f"{f.rule}: {f.message}", f.fix)
        for f in found
    ]
    return _judge_findings(spec, started, findings, opts.fail_on)


def _invoke_sample(sample: InvokeSample, cold: bool) -> Sample:
    return Sample(
        sample.started_at, sample.client_ms, sample.error is None, cold, sample.executed_version
    )


def run_coldstart(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Force new execution environments ($LATEST env-var touch) and judge the first
    invocation against the cold-start SLO; provisioned concurrency must serve warm."""
    from ..synthetics.coldstart import ColdStartResult, run_cold_starts

    opts = spec.options
    assert isinstance(opts, ColdstartOptions)
    started = time.time()
    functions = _functions(ctx.target, opts.functions)
    budget = ctx.target.slos.cold_start_ms
    stats: list[EndpointStats] = []
    slos: list[SLOResult] = []
    findings: list[Finding] = []
    for fn in functions:
        samples: list[Sample] = []
        colds: list[float] = []
        inits: list[float] = []
        for round_no in range(opts.rounds):
            if ctx.stop.is_set():
                raise KeyboardInterrupt
            ctx.progress(f"{fn.name} round {round_no + 1}/{opts.rounds}")
            for result in run_cold_starts(ctx.target, [fn], warm_requests=opts.warm_requests):
                if not isinstance(result, ColdStartResult):  # provisioned concurrency
                    failed = result.outcome == "failed"
                    findings.append(
                        Finding(
                            "error" if failed else "info",
                            f"{result.function}:{result.alias}",
                            result.reason
                            or f"provisioned concurrency {result.declared} READY; "
                            f"{len(result.samples)} concurrent invocations all started warm",
                        )
                    )
                    continue
                if result.cold is not None:
                    samples.append(_invoke_sample(result.cold, True))
                    if result.cold.error is None:
                        colds.append(result.cold.client_ms)
                    if result.cold.init_duration_ms is not None:
                        inits.append(result.cold.init_duration_ms)
                samples += [_invoke_sample(w, False) for w in result.warm]
                if result.outcome == "failed":
                    findings.append(Finding("error", fn.name, result.reason))
        base = endpoint_stats(fn.path, samples, ctx.target.slos.availability)
        init = max(inits) if inits else None
        stats.append(
            replace(
                base,
                init_duration_ms=init,
                availability=None,
                availability_lower=None,
                probes_needed=None,
            )
        )
        detail = (
            f"Init Duration {init:.0f} ms (REPORT line)"
            if init is not None
            else ("no Init Duration in the REPORT lines")
        )
        slos.append(
            SLOResult.check(
                "cold_start",
                fn.path,
                max(colds) if colds else None,
                budget,
                "<",
                "ms",
                len(colds),
                label="cold start (first Invoke, worst)",
                detail=detail,
            )
        )
    ok = all(s.passed for s in slos) and not any(f.severity == "error" for f in findings)
    return PhaseResult(
        spec.name,
        spec.kind,
        "passed" if ok else "failed",
        started,
        time.time(),
        slos=tuple(slos),
        endpoints=tuple(stats),
        findings=tuple(findings),
    )


def _timeline(
    name: str, result: ExperimentResult, budget_s: float, probes: Sequence[ProbeRecord]
) -> Timeline:
    tl = result.timeline
    if tl is None:
        return Timeline(
            experiment=name,
            events=(),
            budget_s=budget_s,
            passed=False,
            broken_phase=result.failure(),
        )
    m = tl.milestones
    alarm = f" ({m.alarm})" if m.alarm else ""
    events = (
        TimelineEvent("fault injected", m.fault_injected, "ledger"),
        TimelineEvent("first failed request", tl.first_failed_request, "probe"),
        TimelineEvent(f"alarm ALARM{alarm}", m.alarm_fired, "target"),
        TimelineEvent("rollback started", m.rollback_started, "target"),
        TimelineEvent("alias restored", m.alias_restored, "target"),
        TimelineEvent("first sustained success", tl.first_sustained_success, "probe"),
        TimelineEvent("alarm OK", m.alarm_ok, "target"),
    )
    passed = result.ok and tl.within_budget
    return Timeline(
        experiment=name,
        events=events,
        budget_s=tl.budget_s,
        mttr_s=tl.time_to_recover,
        time_to_detect_s=tl.time_to_detect,
        time_to_rollback_s=tl.time_to_roll_back,
        time_to_recover_s=tl.time_to_recover,
        failed_requests=tl.blast_radius.failed,
        total_requests=tl.blast_radius.probes,
        passed=passed,
        broken_phase=None if passed else result.failure(),
        probes=tuple((p.sent_at, p.ok, (p.done_at - p.sent_at) * 1000.0) for p in probes[:5000]),
    )


def run_chaos(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Each experiment through the chaos runner (rollbacks always, ledger, preflight);
    its MTTR timeline judged against the target's budget; journals kept."""
    from ..chaos.runner import Interrupted, run_experiment

    opts = spec.options
    assert isinstance(opts, ChaosOptions)
    started = time.time()
    budget = ctx.target.slos.mttr_s
    timelines: list[Timeline] = []
    slos: list[SLOResult] = []
    artifacts: list[str] = []
    journals = ctx.artifacts_dir / "journals"
    for name in opts.experiments:
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        ctx.progress(f"experiment {name}")
        journal = journals / f"{Path(name).stem}.json"
        load_note = ""
        try:
            with background_load(
                ctx.target, opts.load_users, journals / f"{Path(name).stem}-load.json"
            ) as loaded:
                result = run_experiment(
                    name,
                    ctx.target,
                    allow_production=opts.allow_production or ctx.allow_production,
                    journal_path=journal,
                )
            load_note = loaded.note()
        except Interrupted as exc:
            if exc.aborted_by is None:  # a signal (Ctrl-C / SIGTERM), not a stop condition
                raise KeyboardInterrupt from None
            # A stop condition tripped: the experiment failed safely (faults removed).
            stem = Path(name).stem
            timelines.append(
                Timeline(
                    stem, (), budget, passed=False, broken_phase=f"stop condition: {exc.aborted_by}"
                )
            )
            slos.append(
                SLOResult.check(
                    "mttr",
                    stem,
                    None,
                    budget,
                    "<=",
                    "s",
                    0,
                    label="MTTR",
                    detail=f"aborted by a stop condition ({exc.aborted_by}); {exc.one_line()}",
                )
            )
            if journal.exists():
                artifacts.append(str(journal.relative_to(ctx.artifacts_dir)))
            continue
        for kept in (journal, journals / f"{Path(name).stem}-load.json"):
            if kept.exists():
                artifacts.append(str(kept.relative_to(ctx.artifacts_dir)))
        t = _timeline(Path(name).stem, result, budget, list(result.probes))
        timelines.append(t)
        slos.append(
            SLOResult.check(
                "mttr",
                t.experiment,
                t.mttr_s,
                budget,
                "<=",
                "s",
                1 if t.mttr_s is not None else 0,
                label="MTTR",
                detail=(
                    f"detect {t.time_to_detect_s:.1f} s" if t.time_to_detect_s is not None else ""
                )
                + ("" if t.passed else f"; broke: {t.broken_phase}")
                + load_note,
            )
        )
        for problem in result.cleanup_problems:
            slos.append(
                SLOResult.check(
                    "cleanup",
                    t.experiment,
                    None,
                    0,
                    "<=",
                    "",
                    0,
                    label="fault cleanup",
                    detail=problem,
                )
            )
    ok = all(t.passed for t in timelines) and all(s.passed for s in slos)
    return PhaseResult(
        spec.name,
        spec.kind,
        "passed" if ok else "failed",
        started,
        time.time(),
        slos=tuple(slos),
        timelines=tuple(timelines),
        artifacts=tuple(artifacts),
    )


_RUNNERS: dict[str, Callable[[PhaseSpec, PhaseContext], PhaseResult]] = {
    "conformance": run_conformance,
    "lint": run_lint,
    "synthetics": run_synthetics,
    "coldstart": run_coldstart,
    "load": run_load_phase,
    "chaos": run_chaos,
}


def run_phase(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Run one phase. Harness errors propagate; the orchestrator records them."""
    runner = _RUNNERS.get(spec.kind)
    if runner is None:  # parse_plan already refuses unknown kinds
        raise ConfigError(f"unknown phase {spec.kind!r}")
    return runner(spec, ctx)


def cleanup_faults(ctx: PhaseContext) -> list[str]:
    """Remove every fault still open in the chaos ledger (a safety net: the chaos runner
    already undoes its own). Returns what was removed or could not be."""
    from ..aws import Clients
    from ..chaos.ledger import DEFAULT_LEDGER, Ledger
    from ..chaos.undo import cleanup

    if not Path(DEFAULT_LEDGER).exists():
        return []
    report = cleanup(Ledger(DEFAULT_LEDGER), clients=Clients(ctx.target))
    return [f"removed {e.description}" for e in report.undone] + [
        f"could not remove {e.description}: {why}" for e, why in report.failed
    ]
