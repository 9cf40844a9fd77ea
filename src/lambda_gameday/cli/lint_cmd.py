"""`gameday lint`: what cannot work, before any game day."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import VerdictFailed
from .options import target_option

__all__ = ["lint"]


@click.command("lint")
@target_option
@click.option(
    "--experiments",
    "experiments_dir",
    default="experiments",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Experiments whose faults are checked.",
)
@click.option(
    "--template",
    "templates",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Also lint alarms in a CloudFormation template or serverless.yml.",
)
@click.option(
    "--stage",
    default="dev",
    show_default=True,
    help="Value of ${self:provider.stage} in templates.",
)
@click.option(
    "--budget",
    "budget_s",
    type=float,
    default=None,
    help="MTTR budget in seconds (default: the target's SLO, 120).",
)
def lint(
    target_file: str | None,
    experiments_dir: str,
    templates: tuple[str, ...],
    stage: str,
    budget_s: float | None,
) -> None:
    """Read the target's alarms, deployment groups and the experiments' faults, and say what
    cannot work. Exit 1 when there is an error-level finding."""
    from ..chaos.context import clients_for
    from ..chaos.lint import LintInputs
    from ..chaos.lint import lint as run_lint
    from ..chaos.lint_reader import alarms_from_template, faults_from_experiments, read_target
    from .options import open_target

    with open_target(target_file) as target:
        alarms, groups = read_target(clients_for(target), target)
        for t in templates:
            alarms += alarms_from_template(Path(t), {"self:provider.stage": stage})
        paths = (
            sorted(Path(experiments_dir).glob("*.json")) if Path(experiments_dir).is_dir() else []
        )
        readiness = next((f.name for f in target.functions if f.path == "/health/ready"), None)
        inputs = LintInputs(
            alarms=alarms,
            groups=groups,
            faults=faults_from_experiments(paths, readiness, target),
            function_alarms={f.name: f.alarms for f in target.functions},
            budget_s=budget_s if budget_s is not None else target.slos.mttr_s,
            on_aws=target.kind == "aws",
        )
        findings = run_lint(inputs)
    for f in findings:
        click.echo(f.line())
    errors = sum(f.severity == "error" for f in findings)
    click.echo(
        f"{len(alarms)} alarms, {len(groups)} deployment groups, {len(inputs.faults)} faults:"
        f" {errors} errors, {len(findings) - errors} warnings"
    )
    if errors:
        raise VerdictFailed(f"lint found {errors} error(s)")
