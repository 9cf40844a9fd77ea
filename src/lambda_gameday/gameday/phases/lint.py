"""The lint phase: what cannot work, before anything is injected."""

from __future__ import annotations

import time
from pathlib import Path

from ..model import PhaseResult
from ..plan import LintOptions, PhaseSpec
from .common import PhaseContext, judge_findings

__all__ = ["run_lint"]


def run_lint(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """What cannot work, before anything is injected: the target's alarms and deployment
    groups, plus the faults the experiments inject, against the MTTR budget."""
    from ...chaos.context import clients_for
    from ...chaos.lint import LintInputs, lint
    from ...chaos.lint_reader import alarms_from_template, faults_from_experiments, read_target
    from ...chaos.runner import resolve_experiment

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
            faults=faults_from_experiments(paths, readiness, ctx.target),
            function_alarms={f.name: f.alarms for f in ctx.target.functions},
            budget_s=ctx.target.slos.mttr_s,
            on_aws=ctx.target.kind == "aws",
        )
    )
    return judge_findings(spec, started, found, opts.fail_on)
