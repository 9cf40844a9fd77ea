"""`gameday cleanup`: undo every fault a killed run left open in the ledger."""

from __future__ import annotations

import click

from ..exceptions import TargetError
from .options import ledger_option, target_option_with

__all__ = ["cleanup"]


@click.command("cleanup")
@ledger_option
@target_option_with("Target file to use instead of the one each entry recorded.")
def cleanup(ledger_path: str, target_file: str | None) -> None:
    """Replay the undo of every ledger entry not marked undone, newest first."""
    from ..chaos.context import clients_for
    from ..chaos.ledger import Ledger
    from ..chaos.undo import cleanup as replay
    from ..config import load_target

    ledger = Ledger(ledger_path)
    clients = clients_for(load_target(target_file)) if target_file else None
    report = replay(ledger, clients=clients)
    for entry in report.undone:
        click.echo(f"removed: {entry.description}")
    if not report.undone and not report.failed:
        click.echo("nothing to clean up")
    if report.failed:
        raise TargetError(
            "could not remove: " + "; ".join(f"{e.description} ({why})" for e, why in report.failed)
        )
