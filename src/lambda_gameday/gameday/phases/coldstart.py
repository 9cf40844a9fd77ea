"""The cold-start phase: force new execution environments and judge the first invocation."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ...findings import Finding
from ..measure import Sample, endpoint_stats
from ..model import EndpointStats, SLOResult
from ..plan import ColdstartOptions, PhaseSpec
from .common import Outcome, PhaseContext, phase_runner, select_functions, status_of

if TYPE_CHECKING:
    from ...synthetics.coldstart import InvokeSample

__all__ = ["MODELLED", "run_coldstart"]

MODELLED = "modelled by the sandbox"


def _invoke_sample(sample: InvokeSample, cold: bool) -> Sample:
    return Sample(
        sample.started_at, sample.client_ms, sample.error is None, cold, sample.executed_version
    )


@phase_runner(ColdstartOptions)
def run_coldstart(spec: PhaseSpec, opts: ColdstartOptions, ctx: PhaseContext) -> Outcome:
    """Force new execution environments ($LATEST env-var touch) and judge the first
    invocation against the cold-start SLO; provisioned concurrency must serve warm."""
    from ...synthetics.coldstart import ColdStartResult, run_cold_starts

    functions = select_functions(ctx.target, opts.functions)
    budget = ctx.target.slos.cold_start_ms
    # The sandbox writes REPORT lines with the Init Duration it was configured with: a
    # modelled number, never to be read as a measurement (the target's kind says which).
    modelled = ctx.target.kind == "sandbox"
    source = MODELLED if modelled else "REPORT line"
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
                modelled=("init_duration_ms",) if modelled else (),
            )
        )
        detail = (
            f"Init Duration {init:.0f} ms ({source})"
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
    return Outcome(status_of(slos, findings), slos=slos, endpoints=stats, findings=findings)
