"""`gameday chaos NAME|PATH`: run one experiment with rollbacks always and the MTTR timeline."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Target
from ..exceptions import GamedayError, TargetError
from .options import (
    allow_production_option,
    experiments_dir_option,
    file_option,
    ledger_option,
    open_target,
    target_option,
    valued_option,
    writes_outputs,
)

__all__ = ["chaos"]


@click.command("chaos")
@writes_outputs(
    ("journal_path", "--journal"),
    ("load_out", "--load-out"),
    derived=lambda kw: (
        [(_load_out(Path(kw["experiment"]), kw["journal_path"]), "load results (--load-out)")]
        if kw["load_users"] and not kw["dry_run"] and kw["load_out"] is None
        else []
    ),
)
@click.argument("experiment")
@target_option
@click.option("--dry-run", is_flag=True, help="Print what would be done; touch nothing.")
@allow_production_option("destructive experiments against a production target")
@ledger_option
@file_option(
    "--journal", "journal_path", help="Write the Chaos Toolkit journal here (secrets redacted)."
)
@experiments_dir_option("Where NAME is looked up.")
@valued_option(
    "--load-users",
    type=click.IntRange(0, 10_000),
    default=0,
    help="Drive this many Locust users through the experiment (0: none); the requests and"
    " failures under load are printed after the timeline.",
)
@file_option(
    "--load-out",
    help="Where the load's results go (default: next to --journal, else"
    " .gameday/<experiment>-load.json).",
)
@click.option(
    "--backend",
    type=click.Choice(["fis", "extension", "failure-lambda"]),
    default=None,
    help="Deliver Lambda faults through this backend (default: the experiment's"
    " gameday_backend, then the target's chaos_backend, then each fault's own). With fis"
    " and no --target, the embedded sandbox is set up as `gameday fis plan` lists.",
)
def chaos(
    experiment: str,
    target_file: str | None,
    dry_run: bool,
    allow_production: bool,
    ledger_path: str,
    journal_path: str | None,
    experiments_dir: str,
    load_users: int,
    load_out: str | None,
    backend: str | None,
) -> None:
    """Run EXPERIMENT (a name in experiments/ or a path) against the target.

    Every fault is written to the ledger before injection and removed however the run
    ends (rollbacks always run; Ctrl-C and SIGTERM remove faults, then exit 130).
    Exit 1 when the hypothesis failed, naming the phase that broke. With --load-users N,
    Locust drives N users through the whole run (bounded by three MTTR budgets).
    """
    from ..chaos.runner import raise_for, resolve_experiment, run_experiment
    from ..load.during import background_load
    from ..validate.experiment import load_experiment_file

    path = resolve_experiment(experiment, experiments_dir)
    load_experiment_file(path)  # bad input is refused before a sandbox starts
    users = 0 if dry_run else load_users
    out = Path(load_out) if load_out else _load_out(path, journal_path)
    extra: dict[str, object] = {"gameday_backend_override": backend} if backend else {}
    gone: str | None = None
    with open_target(target_file) as target, background_load(target, users, out) as loaded:
        if backend == "fis" and target_file is None and not dry_run:
            target = _fis_sandbox(target)
        result = run_experiment(
            path,
            target,
            dry_run=dry_run,
            allow_production=allow_production,
            ledger_path=ledger_path,
            journal_path=journal_path,
            extra_configuration=extra,
        )
        if not dry_run and (not result.ok or result.cleanup_problems):
            # A target that went away makes every failed probe and missed alarm the
            # network's doing: no verdict on the platform, exit 3 instead.
            from ..gameday.reachability import unreachable

            gone = unreachable(target)
        cleanup_hint = f"gameday cleanup --ledger {ledger_path}" + (
            f" --target {target_file}" if target_file else ""
        )
    if gone is not None:
        not_removed = "; ".join(dict.fromkeys(result.cleanup_problems))
        raise TargetError(
            f"target became unusable during {path.stem}: {gone}"
            + (
                f"; faults NOT removed: {not_removed} — when the target is back, run "
                f"`{cleanup_hint}`"
                if not_removed
                else ""
            )
        )
    if dry_run:
        for line in result.journal["plan"]:
            click.echo(line)
        click.echo("dry run: nothing was injected")
        return
    click.echo(f"{result.title}: {result.status}")
    if result.timeline is not None:
        for line in result.timeline.render():
            click.echo(line)
    if loaded.enabled:
        click.echo(
            f"under load ({load_users} users): {loaded.requests:,} requests,"
            f" {loaded.failures:,} failed ({loaded.share_failed:.1%}); results in {out}"
        )
    if result.cleanup_problems:
        raise GamedayError(
            "faults NOT removed: "
            + "; ".join(dict.fromkeys(result.cleanup_problems))
            + f" (run `{cleanup_hint}`)"
        )
    raise_for(result)


def _fis_sandbox(target: Target) -> Target:
    """The embedded sandbox, set up for FIS the way `gameday fis plan` lists (said aloud)."""
    from dataclasses import replace

    from ..chaos.context import clients_for
    from ..chaos.fis.setup import account_of, prepare_sandbox, sandbox_settings

    clients = clients_for(target)
    target = replace(target, fis=sandbox_settings(account_of(clients)))
    done = prepare_sandbox(clients, target, [f.name for f in target.functions])
    click.echo(f"sandbox: set up for FIS ({len(done)} change(s), as `gameday fis plan` lists)")
    return target


def _load_out(experiment: Path, journal_path: str | None) -> Path:
    name = f"{experiment.stem}-load.json"
    return Path(journal_path).with_name(name) if journal_path else Path(".gameday") / name
