"""The load phase: a bounded Locust run (its own process) judged on raw-histogram thresholds."""

from __future__ import annotations

from dataclasses import replace

from ...config import HEALTH_FUNCTIONS, Target
from ..measure import load_stats, threshold_slo
from ..model import PhaseStatus
from ..plan import LoadOptions, PhaseSpec
from ..reachability import TargetGone, unreachable
from .common import Outcome, PhaseContext, artifact_path, phase_runner

__all__ = ["run_load", "target_mix"]

_LOAD_STATUS: dict[str, PhaseStatus] = {"pass": "passed", "fail": "failed", "error": "error"}


def target_mix(target: Target) -> str | None:
    """The default locustfile's mix for `target` when the user has written none: its GET
    routes (every target function is one), equally weighted. None for the seed's health
    routes, which keep the locustfile's own weights (loadtests/health.py DEFAULT_MIX)."""
    paths = list(dict.fromkeys(fn.path for fn in target.functions))
    if not paths or set(paths) == {path for _, path in HEALTH_FUNCTIONS}:
        return None
    return ",".join(f"{path}=1" for path in paths)


@phase_runner(LoadOptions)
def run_load(spec: PhaseSpec, opts: LoadOptions, ctx: PhaseContext) -> Outcome:
    """A bounded Locust run (its own process) judged on raw-histogram thresholds."""
    from ...load import LoadOptions as RunnerOptions
    from ...load import default_warmup_s
    from ...load import run_load as run_locust

    out = artifact_path(ctx, f"{spec.name}-results.json")

    checked = [0.0]

    def progress(elapsed: float, requests: int) -> None:
        ctx.progress(f"{elapsed:.0f}/{opts.duration_s:.0f} s, {requests:,} requests")
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        if elapsed - checked[0] >= 2.0:
            # Locust counts a refused connection as a failed request: a target that went
            # away mid-run must end the phase as unusable, not as users' failures.
            checked[0] = elapsed
            why = unreachable(ctx.target, timeout_s=1.0)
            if why is not None:
                raise TargetGone(why)

    report = run_locust(
        ctx.target,
        RunnerOptions(
            users=opts.users,
            spawn_rate=opts.spawn_rate,
            run_time_s=max(1, round(opts.duration_s)),
            workers=opts.workers,
            thresholds=opts.thresholds,
            out=out,
            mix=target_mix(ctx.target),
            warmup_s=(
                opts.warmup_s if opts.warmup_s is not None else default_warmup_s(opts.duration_s)
            ),
        ),
        progress=progress,
    )
    slos = [threshold_slo(r) for r in report.thresholds]
    warm = report.results
    if warm.warmup_s > 0:
        # Say what the gate did not see: requests in the warm-up (cold starts, connection
        # set-up) are in the totals and the latency table, not in the thresholds.
        note = f"warm-up: first {warm.warmup_s:g} s ({warm.warmup_count:,} requests) not gated"
        slos = [replace(x, detail="; ".join(d for d in (x.detail, note) if d)) for x in slos]
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
    return Outcome(
        status,
        message=message,
        slos=slos,
        endpoints=load_stats(report),
        artifacts=(out.name, report.log.name),
    )
