"""The conformance phase: the seed's checklist, read-only."""

from __future__ import annotations

from ..plan import ConformanceOptions, PhaseSpec
from .common import Outcome, PhaseContext, judge_findings, phase_runner

__all__ = ["run_conformance"]


@phase_runner(ConformanceOptions)
def run_conformance(spec: PhaseSpec, opts: ConformanceOptions, ctx: PhaseContext) -> Outcome:
    """The seed's checklist, read-only: versions, aliases, provisioned concurrency, alarms
    and the alert topic; every finding names the resource and the fix. An item that could
    not be checked counts as an error, as a failing one does."""
    from ...synthetics.conformance import require_checked
    from ...synthetics.conformance import run_conformance as checklist

    ctx.progress("reading the target's setup")
    findings = checklist(ctx.target)
    require_checked(findings)  # as `gameday conformance`: unchecked items, target unusable
    return judge_findings(findings, opts.fail_on)
