"""The lint phase: what cannot work, before anything is injected.

`lint_target` is the one lint: `gameday lint` calls it too, so for the same experiments
the command and the phase report the same findings, and both say which experiments (and
how many alarms, groups and faults) they covered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ...config import Target
from ...findings import Finding
from ..plan import LintOptions, PhaseSpec
from .common import Outcome, PhaseContext, judge_findings, phase_runner

__all__ = ["LintReport", "lint_target", "run_lint"]


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    experiments: tuple[str, ...]  # the experiments whose faults were linted (file stems)
    alarms: int
    groups: int
    faults: int

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    def summary(self) -> str:
        """'12 alarms, 4 deployment groups, 1 fault of 1 experiment (faulty-canary): ...'."""
        names = ", ".join(self.experiments) or "none"
        warnings = sum(f.severity == "warning" for f in self.findings)
        return (
            f"{self.alarms} alarms, {self.groups} deployment groups, {self.faults} faults of "
            f"{len(self.experiments)} experiment(s) ({names}): {self.errors} error(s), "
            f"{warnings} warning(s)"
        )


def lint_target(
    target: Target,
    experiments: Sequence[Path],
    *,
    templates: Sequence[Path] = (),
    stage: str = "dev",
    parameters: Mapping[str, str] | None = None,
    budget_s: float | None = None,
) -> LintReport:
    """The target's alarms and deployment groups and the faults `experiments` inject,
    against the MTTR budget (default: the target's SLO); plus, for each stack file in
    `templates` (SAM, CloudFormation, Serverless), what its deployment settings cannot do."""
    from ...chaos.context import clients_for
    from ...chaos.lint import LintInputs, lint
    from ...chaos.lint_reader import faults_from_experiments, read_target
    from ...chaos.lint_stack import lint_stack
    from ...target_from_stack import read_stack

    budget = budget_s if budget_s is not None else target.slos.mttr_s
    stack_findings: list[Finding] = []
    for template in templates:
        stack = read_stack(
            str(template), stage=stage, parameters=parameters or {}, region=target.region
        )
        stack_findings += lint_stack(stack, budget_s=budget)
    alarms, groups = read_target(clients_for(target), target)
    readiness = next((f.name for f in target.functions if f.path == "/health/ready"), None)
    faults = faults_from_experiments(list(experiments), readiness, target)
    found = lint(
        LintInputs(
            alarms=alarms,
            groups=groups,
            faults=faults,
            function_alarms={f.name: f.alarms for f in target.functions},
            budget_s=budget,
            on_aws=target.kind == "aws",
            # the FIS extension's slow poll: 60 s on AWS, scaled in the sandbox's fast timing
            fis_ramp_up_s=(60.0 if target.kind == "aws" else 2.0)
            if target.chaos_backend == "fis"
            else 0.0,
        )
    )
    return LintReport(
        (*found, *stack_findings),
        tuple(p.stem for p in experiments),
        len(alarms),
        len(groups),
        len(faults),
    )


@phase_runner(LintOptions)
def run_lint(spec: PhaseSpec, opts: LintOptions, ctx: PhaseContext) -> Outcome:
    """What cannot work, before anything is injected: the target's alarms and deployment
    groups, plus the faults the plan's experiments inject, against the MTTR budget."""
    from ...chaos.runner import resolve_experiment

    ctx.progress("reading alarms and deployment groups")
    names = opts.experiments or ctx.planned_experiments
    report = lint_target(
        ctx.target,
        [resolve_experiment(n, opts.experiments_dir) for n in names],
        templates=[Path(t) for t in opts.templates],
    )
    return replace(judge_findings(report.findings, opts.fail_on), message=report.summary())
