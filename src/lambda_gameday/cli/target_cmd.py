"""`gameday target`: validate a target file and show what the harness will use."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..config import load_target
from ..console import make_console

__all__ = ["target"]


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
def target(path: str) -> None:
    """Validate the target file PATH and print what it describes."""
    t = load_target(path)
    console = make_console()
    # Values from the file are escaped: a name like "[/]" is text, not markup.
    console.print(
        f"[bold]{escape(t.name)}[/] ({t.kind}, {t.environment}) region={t.region} "
        + escape(
            f"api={t.api_url} endpoint={t.endpoint_url or 'AWS default'} profile={t.profile or '-'}"
        )
    )
    table = Table("function", "path", "alias", "critical", "provisioned", "alarms", "group")
    for fn in t.functions:
        table.add_row(
            escape(fn.name),
            escape(fn.path),
            escape(fn.alias),
            "yes" if fn.critical else "",
            str(fn.provisioned_concurrency or ""),
            escape(", ".join(fn.alarms)),
            escape(fn.deployment_group or ""),
        )
    console.print(table)
    s = t.slos
    console.print(
        f"SLOs: health < {s.health_latency_ms:g} ms, cold start < {s.cold_start_ms:g} ms, "
        f"availability > {s.availability:.3%}, MTTR < {s.mttr_s:g} s, "
        f"deployment success > {s.deployment_success:.0%}"
    )
