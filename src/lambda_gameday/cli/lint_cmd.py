"""`gameday lint`: what cannot work, before any game day."""

from __future__ import annotations

from pathlib import Path

import click

from ..content import content_path
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
    names: tuple[str, ...],
    templates: tuple[str, ...],
    stage: str,
    budget_s: float | None,
) -> None:
    """Read the target's alarms, deployment groups and the experiments' faults, and say what
    cannot work. Exit 1 when there is an error-level finding.

    The game day's lint phase runs the same lint over the experiments its plan runs; the
    summary line names the experiments covered, so the two can be compared
    (`gameday lint --experiment faulty-canary` is what the default game day lints)."""
    from ..chaos.runner import resolve_experiment
    from ..gameday.phases.lint import lint_target
    from .options import open_target

    if names:
        paths = [resolve_experiment(n, experiments_dir) for n in names]
    else:
        directory = content_path(experiments_dir)
        paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    with open_target(target_file) as target:
        report = lint_target(
            target,
            paths,
            templates=[Path(t) for t in templates],
            stage=stage,
            budget_s=budget_s,
        )
    for f in report.findings:
        click.echo(f.line())
    click.echo(report.summary())
    if report.errors:
        raise VerdictFailed(f"lint found {report.errors} error(s)")
