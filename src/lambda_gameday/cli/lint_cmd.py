"""`gameday lint`: what cannot work, before any game day."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import VerdictFailed
from ..findings import Finding
from .options import STAGE, Finite, target_option

__all__ = ["lint"]


def _experiment_files(directory: str) -> list[Path]:
    return sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []


def _experiments_dir(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A directory given on purpose must hold experiments (`--experiments /etc` is a typo,
    not a clean bill of health); the default may be absent (then no faults are linted)."""
    given = ctx.get_parameter_source(param.name or "") is not click.core.ParameterSource.DEFAULT
    if given and not _experiment_files(value):
        why = "is not a directory" if not Path(value).is_dir() else "holds no *.json experiments"
        raise click.BadParameter(f"{value} {why}", ctx, param)
    return value


@click.command("lint")
@target_option
@click.option(
    "--experiments",
    "experiments_dir",
    default="experiments",
    show_default=True,
    type=click.Path(file_okay=False),
    callback=_experiments_dir,
    help="Experiments whose faults are checked (a directory holding *.json experiments).",
)
@click.option(
    "--template",
    "templates",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Lint a SAM, CloudFormation or Serverless stack file (repeatable). Without "
    "--target only the files are linted (no sandbox is started).",
)
@click.option(
    "--stage",
    default="dev",
    show_default=True,
    type=STAGE,
    help="Serverless stage of the stack files.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a CloudFormation/SAM parameter of the stack files (repeatable).",
)
@click.option(
    "--budget",
    "budget_s",
    type=Finite(0, 86_400, low_open=True),
    default=None,
    help="MTTR budget in seconds (default: the target's SLO, 120).",
)
def lint(
    target_file: str | None,
    experiments_dir: str,
    templates: tuple[str, ...],
    stage: str,
    params: tuple[str, ...],
    budget_s: float | None,
) -> None:
    """Read the target's alarms, deployment groups and the experiments' faults, and say what
    cannot work. Exit 1 when there is an error-level finding."""
    from ..chaos.context import clients_for
    from ..chaos.lint import LintInputs
    from ..chaos.lint import lint as run_lint
    from ..chaos.lint_reader import faults_from_experiments, read_target
    from ..chaos.lint_stack import lint_stack
    from ..target_from_stack import read_stack
    from ..validate.experiment import load_experiment_file
    from .options import open_target
    from .target_cmd import _params

    stack_findings: list[Finding] = []
    parameters = _params(params)
    for t in templates:
        stack = read_stack(t, stage=stage, parameters=parameters, region="us-east-1")
        stack_findings += lint_stack(stack, budget_s=budget_s if budget_s is not None else 120.0)
        if target_file is None:
            click.echo(
                f"{t}: {stack.format}, {len(stack.functions)} functions, {len(stack.alarms)} "
                f"alarms, {len([g for g in stack.groups if g.enabled])} deployment groups"
            )
    if templates and target_file is None:
        _report(stack_findings, "stack files")
        return

    for experiment in _experiment_files(experiments_dir):
        load_experiment_file(experiment)  # bad input is refused before anything starts
    with open_target(target_file) as target:
        alarms, groups = read_target(clients_for(target), target)
        paths = _experiment_files(experiments_dir)
        readiness = next((f.name for f in target.functions if f.path == "/health/ready"), None)
        inputs = LintInputs(
            alarms=alarms,
            groups=groups,
            faults=faults_from_experiments(paths, readiness),
            function_alarms={f.name: f.alarms for f in target.functions},
            budget_s=budget_s if budget_s is not None else target.slos.mttr_s,
            on_aws=target.kind == "aws",
        )
        findings = run_lint(inputs) + stack_findings
    _report(
        findings,
        f"{len(alarms)} alarms, {len(groups)} deployment groups, {len(inputs.faults)} faults",
    )


def _report(findings: list[Finding], what: str) -> None:
    for f in findings:
        click.echo(f.line())
    errors = sum(f.severity == "error" for f in findings)
    click.echo(f"{what}: {errors} errors, {len(findings) - errors} warnings")
    if errors:
        raise VerdictFailed(f"lint found {errors} error(s)")
