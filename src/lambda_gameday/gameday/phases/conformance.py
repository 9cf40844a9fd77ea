"""The conformance phase: the seed's checklist, read-only."""

from __future__ import annotations

import time

from ...exceptions import TargetError
from ..model import PhaseResult
from ..plan import ConformanceOptions, PhaseSpec
from .common import PhaseContext, judge_findings

__all__ = ["run_conformance"]


def run_conformance(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """The seed's checklist, read-only: versions, aliases, provisioned concurrency, alarms
    and the alert topic; every finding names the resource and the fix. An item that could
    not be checked counts as an error, as a failing one does."""
    from ...synthetics.conformance import run_conformance as checklist

    opts = spec.options
    assert isinstance(opts, ConformanceOptions)
    started = time.time()
    ctx.progress("reading the target's setup")
    findings = checklist(ctx.target)
    # As `gameday conformance`: items that could not be checked (no credentials,
    # unreachable, throttled) make the target unusable; a verdict would blame the setup.
    unchecked = [f for f in findings if not f.checked]
    if unchecked:
        raise TargetError(
            f"{len(unchecked)} of {len(findings)} checklist items could not be checked; "
            f"first: {unchecked[0].resource}: {unchecked[0].message}"
        )
    return judge_findings(spec, started, findings, opts.fail_on)
