"""Options shared by subcommands: choosing a target, and the sandbox behind the default."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import click

from ..config import Target, load_target, sandbox_target
from ..extras import require_sandbox

__all__ = ["ledger_option", "open_target", "target_option"]

F = TypeVar("F", bound=Callable[..., object])


def target_option(func: F) -> F:
    """`--target FILE`: a target TOML file; without it the embedded sandbox is started."""
    return click.option(
        "--target",
        "target_file",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="GAMEDAY_TARGET",
        help="Target TOML file (default: the embedded sandbox). Env: GAMEDAY_TARGET.",
    )(func)


def ledger_option(func: F) -> F:
    """`--ledger FILE`: the fault ledger `gameday chaos` writes and `gameday cleanup` replays."""
    from ..chaos.ledger import DEFAULT_LEDGER

    return click.option(
        "--ledger",
        "ledger_path",
        default=DEFAULT_LEDGER,
        show_default=True,
        envvar="GAMEDAY_LEDGER",
        type=click.Path(dir_okay=False),
        help="Fault ledger: every fault is written here before it is injected. "
        "Env: GAMEDAY_LEDGER.",
    )(func)


@contextlib.contextmanager
def open_target(target_file: str | None, *, timing: str = "fast") -> Iterator[Target]:
    """The target from a file, or a sandbox started for the duration of the block."""
    if target_file is not None:
        yield load_target(target_file)
        return
    require_sandbox()
    from ..sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(timing=timing)) as sb:  # type: ignore[arg-type]
        yield sandbox_target(sb.api_url, sb.endpoint_url, region=sb.config.region)
