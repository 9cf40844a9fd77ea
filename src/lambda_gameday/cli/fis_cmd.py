"""`gameday fis plan`: the changes a team makes before the fis backend can inject."""

from __future__ import annotations

import json
from dataclasses import replace

import click

from .options import open_target, target_option

__all__ = ["fis"]


@click.group("fis")
def fis() -> None:
    """AWS Fault Injection Service as a fault backend (docs/chaos.md, "FIS")."""


@fis.command("plan")
@target_option
@click.option(
    "--function",
    "functions",
    multiple=True,
    help="Function name, short name or path (repeatable; default: every target function).",
)
@click.option(
    "--apply",
    is_flag=True,
    help="Make the changes — a sandbox target only (on AWS, use your infrastructure code).",
)
def plan(target_file: str | None, functions: tuple[str, ...], apply: bool) -> None:
    """Print what each function still needs for FIS — extension layer (from the public SSM
    parameter), environment, configuration bucket, role policies — and the experiment
    template the fis backend would create. Nothing is changed without --apply."""
    from ..chaos.context import clients_for
    from ..chaos.fis.experiment import template_example
    from ..chaos.fis.setup import (
        account_of,
        apply_changes,
        plan_changes,
        sandbox_settings,
    )
    from ..exceptions import SafetyError

    with open_target(target_file) as target:
        if target.fis is None and target_file is None:
            target = replace(target, fis=sandbox_settings(account_of(clients_for(target))))
        if apply and target.kind != "sandbox":
            raise SafetyError(
                f"{target.name} is an AWS target: --apply works on a sandbox only; make these"
                " changes with your infrastructure code"
            )
        clients = clients_for(target)
        chosen = [target.function(f) for f in functions] or list(target.functions)
        pending = 0
        for fn in chosen:
            changes = plan_changes(clients, target, fn.name)
            pending += len(changes)
            click.echo(
                f"{fn.name}: {'ready for FIS' if not changes else f'{len(changes)} change(s)'}"
            )
            for change in changes:
                click.echo(f"  - {change.fix}")
                for line in change.detail.splitlines():
                    click.echo(f"      {line}")
            click.echo(f"  template ({fn.name}:{fn.alias}, error drill):")
            example = json.dumps(template_example(target, fn.name, fn.alias), indent=2)
            for line in example.splitlines():
                click.echo(f"      {line}")
            if apply and changes:
                for line in apply_changes(clients, target, fn.name, changes):
                    click.echo(f"  applied: {line}")
        if not apply:
            click.echo(f"{pending} change(s) listed; nothing was changed")
