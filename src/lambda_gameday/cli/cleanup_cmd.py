"""`gameday cleanup`: undo the faults a killed run left open in the ledger — on the
current target only.

With --target (or GAMEDAY_TARGET), the target's identity (account id from STS, Region,
endpoint URL, name) selects the entries to undo; entries of other targets are listed with
the target each belongs to and left alone. Without a target, each entry's recorded target
is rebuilt and its entries are undone only if the live target still answers with the
recorded identity. `--check` lists what would be undone and touches nothing.
"""

from __future__ import annotations

import click

from ..exceptions import TargetError
from .options import ledger_option, target_option_with

__all__ = ["cleanup"]


@click.command("cleanup")
@ledger_option
@target_option_with(
    "Undo only this target's entries (default: each entry's recorded target, if it "
    "still answers with the recorded identity). Env: GAMEDAY_TARGET."
)
@click.option("--check", is_flag=True, help="List what would be undone; change nothing.")
def cleanup(ledger_path: str, target_file: str | None, check: bool) -> None:
    """Undo, newest first, every open ledger entry made on the target.

    \b
    Exit codes: 0 nothing of this target left open (other targets' entries are listed);
    2 bad input; 3 a fault could not be removed (named, with how to remove it by hand);
    5 refused: a run holds the target's lock.
    """
    from ..chaos.context import target_from_ref
    from ..chaos.ledger import Ledger, LedgerEntry, describe_target, same_target
    from ..chaos.undo import CleanupReport
    from ..chaos.undo import cleanup as replay
    from ..config import Target, load_target
    from ..exceptions import GamedayError, SafetyError
    from ..lock import target_lock

    ledger = Ledger(ledger_path)
    entries = ledger.open_entries()
    for problem in ledger.problems[:20]:
        click.echo(f"warning: {problem}", err=True)
    if len(ledger.problems) > 20:
        click.echo(f"warning: {len(ledger.problems) - 20} more unreadable lines skipped", err=True)

    def run_one(target: Target) -> CleanupReport:
        if check:
            return replay(ledger, target, check=True)
        # never undo under a run that is still going: it holds the target's lock
        with target_lock(target, "gameday cleanup"):
            return replay(ledger, target)

    reports: list[CleanupReport] = []
    unreachable: list[tuple[LedgerEntry, str]] = []
    if target_file is not None:
        reports.append(run_one(load_target(target_file)))
    else:
        groups: list[list[LedgerEntry]] = []
        for entry in entries:
            for group in groups:
                if same_target(group[0].target, entry.target) or (group[0].target == entry.target):
                    group.append(entry)
                    break
            else:
                groups.append([entry])
        for group in groups:
            ref = group[0].target
            if not ref.get("account_id"):
                continue  # recorded without an identity: listed below, never undone
            try:
                reports.append(run_one(target_from_ref(ref)))
            except SafetyError:
                raise  # a run holds that target: say so, exit 5
            except GamedayError as exc:  # unreachable, or its target file no longer loads
                unreachable += [(e, exc.one_line()) for e in group]

    handled = {e.id for r in reports for e in (*r.undone, *r.pending, *(f for f, _ in r.failed))}
    unreach_ids = {e.id for e, _ in unreachable}
    for r in reports:
        for entry in r.pending:
            click.echo(f"would remove: {entry.description} on {describe_target(entry.target)}")
        for entry in r.undone:
            click.echo(f"removed: {entry.description}")
        for entry, conflict in r.conflicts:
            click.echo(f"conflict, left alone: {entry.description}: {conflict}")
    for entry, why in unreachable:
        click.echo(
            f"not reachable, left in the ledger: {entry.description} on "
            f"{describe_target(entry.target)} ({why})"
        )
    foreign = [e for e in entries if e.id not in handled and e.id not in unreach_ids]
    for entry in foreign:
        click.echo(
            f"another target's, left alone: {entry.description} on {describe_target(entry.target)}"
        )
    if not check and not any(r.failed for r in reports):
        try:
            ledger.compact()
        except GamedayError as exc:
            click.echo(f"warning: {exc.one_line()}", err=True)
    if not handled and not foreign and not unreachable:
        click.echo("nothing to clean up")
    left = [line for r in reports for line in r.left_behind()]
    if left:
        raise TargetError(
            "faults may still be in place: " + "; ".join(left) + " — run `gameday cleanup` "
            "again once the target answers"
        )
