"""The one rich Console the CLI prints through.

When output is not a terminal (CI logs, pipes), rich assumes 80 columns and elides table
cells; reports in CI must stay readable, so non-terminals get a wide console instead.
Automatic highlighting is off: its regexes are quadratic in a long unbroken token, so a
100 000-character name from a target file took 40 s to print (issue 16). Styles the code
writes with markup (`[bold]`) still apply.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

__all__ = ["make_console", "wrapping"]


def wrapping(table: Table) -> Table:
    """Cells wrap onto more lines instead of being cut with an ellipsis: a narrow console
    (a CI log at 80 columns) must still show every value in full."""
    for column in table.columns:
        column.overflow = "fold"
    return table


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, width=200, soft_wrap=False, highlight=False)
