"""`gameday target`: validate a target file and show what the harness will use, or write one
from a stack.

    gameday target FILE                      validate FILE and print it (same as `target show`)
    gameday target init --stack TEMPLATE     write a target from a SAM, CloudFormation or
                                             Serverless file
    gameday target discover --stack-name N   the same from a deployed CloudFormation stack

`target` is a group whose default command is `show`, so `gameday target FILE` keeps working.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
from rich.markup import escape
from rich.table import Table

from ..config import load_target
from ..console import make_console
from .options import file_option, key_values, param_option, stage_option, valued_option

if TYPE_CHECKING:
    from ..target_from_stack import TargetOptions

__all__ = ["target"]


class _DefaultShow(click.Group):
    """A group that runs `show` when the first argument is not one of its commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultShow)
def target() -> None:
    """Validate a target file (`gameday target FILE`), or write one from a stack."""


@target.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
def show(path: str) -> None:
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


def _target_settings(
    command: Literal["init", "discover"],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`--out` and the written target's own settings (`--name`, `--kind`, `--region`,
    `--api-url`, `--endpoint-url`), handed to the command as `out` and one `options`."""

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def command_with_settings(
            *,
            out: str | None,
            name: str | None,
            kind: str,
            region: str,
            api_url: str | None,
            endpoint_url: str | None,
            **rest: object,
        ) -> None:
            from ..target_from_stack import TargetOptions

            options = TargetOptions(name, kind, region, api_url, endpoint_url, command=command)
            func(out=out, options=options, **rest)

        declared = [
            file_option("--out", help="Write the target here (default: standard output)."),
            click.option("--name", default=None, help="Target name (default: the application)."),
            valued_option(
                "--kind", type=click.Choice(["aws", "sandbox"]), default="aws", help="Target kind."
            ),
            valued_option("--region", type=click.STRING, default="us-east-1", help="AWS region."),
            click.option(
                "--api-url",
                default=None,
                help="The deployed API's base URL (default: a placeholder to fill in).",
            ),
            click.option(
                "--endpoint-url",
                default=None,
                help="AWS endpoint (e.g. the sandbox's) written into the target.",
            ),
        ]
        wrapped: Callable[..., None] = command_with_settings
        for option in reversed(declared):
            wrapped = option(wrapped)
        return wrapped

    return decorate


def _write(text: str, out: str | None) -> None:
    import tomllib

    from ..config import parse_target

    parse_target(tomllib.loads(text), out or "<generated>")  # what we write must load
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write {out} ({exc.strerror})", param_hint="--out"
        ) from None
    click.echo(f"target: wrote {out}", err=True)


@target.command("init")
@click.option(
    "--stack",
    "stack_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="SAM, CloudFormation (cdk synth) or Serverless Framework file.",
)
@stage_option("Serverless stage (default: the file's).", default=None)
@param_option("Override a CloudFormation/SAM parameter (repeatable).")
@click.option(
    "--stack-name",
    default=None,
    help="CloudFormation stack name used for generated names (default: from the file).",
)
@_target_settings("init")
def init(
    stack_file: str,
    stage: str | None,
    params: tuple[str, ...],
    stack_name: str | None,
    out: str | None,
    options: TargetOptions,
) -> None:
    """Write a target file from a stack file: the functions behind each GET route, their
    aliases, alarms and deployment groups, and default SLOs."""
    from ..exceptions import ConfigError
    from ..target_from_stack import read_stack, target_toml

    if not Path(stack_file).is_file():
        raise ConfigError(f"{stack_file}: stack file not found")
    stack = read_stack(
        stack_file,
        stage=stage,
        parameters=key_values(params),
        region=options.region,
        stack_name=stack_name,
    )
    _write(target_toml(stack, options), out)


@target.command("discover")
@click.option("--stack-name", required=True, help="The deployed CloudFormation stack.")
@stage_option("Stage written in the target.")
@click.option("--profile", default=None, help="AWS profile (kind aws).")
@_target_settings("discover")
def discover(
    stack_name: str, stage: str, profile: str | None, out: str | None, options: TargetOptions
) -> None:
    """Write a target file from a deployed CloudFormation stack: ListStackResources (every
    page), its template, then each resource's own API for the live state."""
    from ..stack_discover import discover_stack
    from ..target_from_stack import target_toml

    stack = discover_stack(
        stack_name,
        region=options.region,
        endpoint_url=options.endpoint_url,
        kind="sandbox" if options.kind == "sandbox" else "aws",
        profile=profile,
        stage=stage,
    )
    _write(target_toml(stack, options), out)
