"""The synthetics phase: bounded probes of every endpoint through the check engine."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from ...config import Target
from ...exceptions import ConfigError
from ...findings import Finding
from ...synthetics import CheckDefinition, CheckResult, CheckRunner, ResultsWriter, load_checks
from ...synthetics.definitions import Expectations, LatencyBudget
from ..measure import Sample, endpoint_stats, latency_slos
from ..plan import PhaseSpec, SyntheticsOptions
from ..reachability import TargetGone, unreachable
from .common import Outcome, PhaseContext, artifact_path, phase_runner, select_functions, status_of

__all__ = ["run_synthetics"]


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
        for fn in select_functions(target, opts.endpoints)
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


@phase_runner(SyntheticsOptions)
def run_synthetics(spec: PhaseSpec, opts: SyntheticsOptions, ctx: PhaseContext) -> Outcome:
    """Bounded probes (count and wall clock) of every endpoint through the check engine;
    raw results kept as JSON Lines in `synthetics.jsonl`."""
    if opts.checks:
        checks, errors = load_checks([Path(c) for c in opts.checks])
        if errors:
            raise ConfigError("; ".join(f"{e.source}: {e.reason}" for e in errors))
    else:
        checks = _builtin_checks(ctx.target, opts)
    deadline = time.monotonic() + opts.max_seconds
    results: dict[str, list[CheckResult]] = {c.name: [] for c in checks}
    out = artifact_path(ctx, f"{spec.name}.jsonl")
    with ResultsWriter(out) as writer, CheckRunner(ctx.target, stop=ctx.stop) as runner:
        for i in range(opts.probes):
            if time.monotonic() > deadline:
                break
            if i % 25 == 0:
                ctx.progress(f"round {i + 1}/{opts.probes} of {len(checks)} endpoints")
            answered = False
            for check in checks:  # interleaved, so a transient fault hits every endpoint alike
                if ctx.stop.is_set():
                    raise KeyboardInterrupt
                result = runner.run(check)
                writer.write(result)
                results[check.name].append(result)
                answered = answered or result.status_code is not None
            if not answered:
                # A whole round without one HTTP answer: a dead target, or a broken one?
                why = unreachable(ctx.target)
                if why is not None:
                    raise TargetGone(why)
    stats = [
        endpoint_stats(
            c.endpoint if c.endpoint.startswith("/") else c.name,
            [_sample(r) for r in results[c.name]],
            ctx.target.slos.availability,
        )
        for c in checks
    ]
    slos = latency_slos(stats, ctx.target)
    status = status_of(slos)
    message = {
        "failed": f"{sum(s.breached for s in slos)} SLO(s) breached",
        "inconclusive": f"{sum(s.inconclusive for s in slos)} SLO(s) inconclusive",
    }.get(status, "")
    return Outcome(
        status,
        message=message,
        slos=slos,
        endpoints=stats,
        findings=_failure_findings([r for rs in results.values() for r in rs]),
        artifacts=(out.name,),
    )
