"""`gameday lint`: what cannot work, before any game day."""

from __future__ import annotations

from pathlib import Path

import click

from ..content import content_path
from ..exceptions import VerdictFailed
from ..findings import Finding
from .options import Finite, param_option, stage_option, target_option

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
    "--experiment",
    "names",
    multiple=True,
    help="Lint only this experiment (a name in --experiments or a path; repeatable), e.g."
    " the ones a game day's plan runs. Default: every experiment in --experiments.",
)
@click.option(
    "--template",
    "templates",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Lint a SAM, CloudFormation or Serverless stack file (repeatable). Without "
    "--target only the files are linted (no sandbox is started).",
)
@stage_option("Serverless stage of the stack files.")
@param_option("Override a CloudFormation/SAM parameter of the stack files (repeatable).")
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
    names: tuple[str, ...],
    templates: tuple[str, ...],
    stage: str,
    params: tuple[str, ...],
    budget_s: float | None,
) -> None:
    """Read the target's alarms, deployment groups and the experiments' faults, and say what
    cannot work. Exit 1 when there is an error-level finding.

    The game day's lint phase runs the same lint over the experiments its plan runs; the
    summary line names the experiments covered, so the two can be compared
    (`gameday lint --experiment faulty-canary` is what the default game day lints). With
    --template and no --target, only the stack files are linted (nothing is started)."""
    from ..chaos.lint_stack import lint_stack
    from ..chaos.runner import resolve_experiment
    from ..gameday.phases.lint import lint_target
    from ..target_from_stack import read_stack
    from ..validate.experiment import load_experiment_file
    from .options import key_values, open_target

    parameters = key_values(params)
    # Stack files are read (and bad ones refused) before any target is opened.
    stacks = [
        read_stack(t, stage=stage, parameters=parameters, region="us-east-1") for t in templates
    ]
    if templates and target_file is None:
        stack_findings: list[Finding] = []
        for t, stack in zip(templates, stacks, strict=True):
            click.echo(
                f"{t}: {stack.format}, {len(stack.functions)} functions, {len(stack.alarms)} "
                f"alarms, {len([g for g in stack.groups if g.enabled])} deployment groups"
            )
            stack_findings += lint_stack(
                stack, budget_s=budget_s if budget_s is not None else 120.0
            )
        errors = sum(f.severity == "error" for f in stack_findings)
        _report(
            stack_findings,
            f"stack files: {errors} errors, {len(stack_findings) - errors} warnings",
        )
        return

    if names:
        paths = [resolve_experiment(n, experiments_dir) for n in names]
    else:
        paths = _experiment_files(str(content_path(experiments_dir)))
    for experiment in paths:
        load_experiment_file(experiment)  # bad input is refused before anything starts
    with open_target(target_file) as target:
        report = lint_target(
            target,
            paths,
            templates=[Path(t) for t in templates],
            stage=stage,
            parameters=parameters,
            budget_s=budget_s,
        )
    _report(list(report.findings), report.summary())


def _report(findings: list[Finding], summary: str) -> None:
    for f in findings:
        click.echo(f.line())
    click.echo(summary)
    errors = sum(f.severity == "error" for f in findings)
    if errors:
        raise VerdictFailed(f"lint found {errors} error(s)")
