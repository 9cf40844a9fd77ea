"""Options shared by subcommands, and the value types every option is checked with.

One place declares `--target`, `--allow-production`, `--force`, `--out`, `--ledger` and the
bounded number types, so every command refuses the same bad values the same way (exit 2,
one line, before a sandbox starts or any AWS call): `--api-port 99999`, `--duration nan`,
`--warm 99999999999999999999`, `--abort-after -1`, `--put ""`. A command's own options are
one call too: `valued_option` (a default --help shows) and `file_option` (an optional FILE);
`gathered` hands a command its dataclass (LoadOptions, SandboxConfig) filled from the parsed
parameters named as its fields.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..config import Target, load_target, sandbox_target
from ..exceptions import ConfigError, SafetyError
from ..extras import require_sandbox
from ..validate.text import shown
from ..validate.values import name_problem, url_problem

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "OWNED_DIR",
    "Finite",
    "NameType",
    "UrlType",
    "allow_production_option",
    "check_overwrite",
    "db_option",
    "experiments_dir_option",
    "file_option",
    "gathered",
    "key_values",
    "ledger_option",
    "open_target",
    "out_option",
    "param_option",
    "plan_option",
    "refuse_production",
    "stage_option",
    "target_option",
    "target_option_with",
    "valued_option",
    "writes_outputs",
    "writing_command",
]

F = TypeVar("F", bound=Callable[..., Any])
V = TypeVar("V")
R = TypeVar("R")
D = TypeVar("D", bound="DataclassInstance")

# Files under here belong to the harness (ledger, logs, reports, default results): it may
# replace them. Anywhere else, an existing file is only overwritten with --force.
OWNED_DIR = Path(".gameday")


# --- value types ---------------------------------------------------------------------------


class Finite(click.ParamType[float]):
    """A finite float in [low, high] (`low_open`: strictly above low). NaN and inf are not
    numbers a duration or budget can be."""

    name = "number"

    def __init__(self, low: float, high: float, *, low_open: bool = False) -> None:
        self.low, self.high, self.low_open = low, high, low_open

    def _range(self) -> str:
        return f"{'>' if self.low_open else '>='} {self.low:g} and <= {self.high:g}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(str(value))
            except ValueError:
                self.fail(f"{shown(value)} is not a number", param, ctx)
        ok = math.isfinite(number) and (number > self.low if self.low_open else number >= self.low)
        if not ok or number > self.high:
            self.fail(f"{shown(value)} is not a finite number {self._range()}", param, ctx)
        return number


class NameType(click.ParamType[str]):
    """A name: printable, 1..256 characters (validate.limits), optionally matching `pattern`."""

    name = "name"

    def __init__(
        self, pattern: str | None = None, expected: str = "a name", *, limit: int = 256
    ) -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.expected, self.limit = expected, limit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        why = name_problem(text, self.limit)
        if why is None and self.pattern is not None and not self.pattern.fullmatch(text):
            why = self.expected
        if why is not None:
            self.fail(f"{shown(text)} is invalid; expected {why}", param, ctx)
        return text


class UrlType(click.ParamType[str]):
    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        why = url_problem(text)
        if why is not None:
            self.fail(f"{shown(text)} is invalid; expected {why}", param, ctx)
        return text


# AWS names: a stage names an API Gateway stage and is part of every function name
# (alphanumerics, '-' and '_'); a CloudWatch dashboard name is alphanumerics, '-' and '_',
# at most 255 characters.
# https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
STAGE = NameType(r"[A-Za-z0-9_-]{1,32}", "a stage of letters, digits, '-' and '_' (at most 32)")
DASHBOARD_NAME = NameType(
    r"[A-Za-z0-9_-]{1,255}",
    "a dashboard name of letters, digits, '-' and '_' (at most 255)",
    limit=255,
)
PORT = click.IntRange(0, 65535)
SEED = click.IntRange(0, 2**32 - 1)


# --- shared options ------------------------------------------------------------------------


def valued_option(
    *decls: str,
    type: click.ParamType[V],
    default: V,
    help: str | None = None,
    envvar: str | None = None,
) -> Callable[[F], F]:
    """An option whose default `--help` shows (`[default: ...]`)."""
    return click.option(
        *decls, type=type, default=default, show_default=True, envvar=envvar, help=help
    )


def file_option(
    *decls: str, help: str, exists: bool = False, envvar: str | None = None
) -> Callable[[F], F]:
    """An optional FILE option: a path that is not a directory, None when not given."""
    return click.option(
        *decls,
        type=click.Path(exists=exists, dir_okay=False),
        default=None,
        envvar=envvar,
        help=help,
    )


_TARGET_HELP = "Target TOML file (default: the embedded sandbox). Env: GAMEDAY_TARGET."


def target_option_with(help: str) -> Callable[[F], F]:
    """`--target FILE` with a command's own help text."""
    return file_option("--target", "target_file", envvar="GAMEDAY_TARGET", help=help)


def target_option(func: F) -> F:
    """`--target FILE`: a target TOML file; without it the embedded sandbox is started."""
    return target_option_with(_TARGET_HELP)(func)


def allow_production_option(what: str) -> Callable[[F], F]:
    """`--allow-production` (or GAMEDAY_ALLOW_PRODUCTION=1): the only grants of production;
    a plan or target file cannot give it (issue 13)."""
    return click.option(
        "--allow-production",
        is_flag=True,
        envvar="GAMEDAY_ALLOW_PRODUCTION",
        help=f"Allow {what}. Env: GAMEDAY_ALLOW_PRODUCTION=1.",
    )


def refuse_production(target: Target, allow_production: bool, why: str) -> None:
    """SafetyError (exit 5) before a command that `why` touches a production target without
    `--allow-production` or GAMEDAY_ALLOW_PRODUCTION=1."""
    from ..chaos.guard import production_granted

    if target.is_production and not (allow_production or production_granted()):
        raise SafetyError(
            f"target {target.name} is production: {why}; pass --allow-production to run it"
        )


def ledger_option(func: F) -> F:
    """`--ledger FILE`: the fault ledger `gameday chaos` writes and `gameday cleanup` replays."""
    from ..chaos.ledger import DEFAULT_LEDGER

    return valued_option(
        "--ledger",
        "ledger_path",
        type=click.Path(dir_okay=False),
        default=DEFAULT_LEDGER,
        envvar="GAMEDAY_LEDGER",
        help="Fault ledger: every fault is written here before it is injected. "
        "Env: GAMEDAY_LEDGER.",
    )(func)


def out_option(default: str, help: str) -> Callable[[F], F]:
    """`--out FILE`, by default a file the harness owns under .gameday/."""
    return valued_option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path(default),
        help=help + " An existing file outside .gameday/ is kept unless --force.",
    )


def db_option(
    help: str = "History database. Env: GAMEDAY_DB. Default: .gameday/history.sqlite3.",
) -> Callable[[F], F]:
    """`--db FILE`: the run history database (the command reads GAMEDAY_DB when unset)."""
    return file_option("--db", help=help)


def stage_option(help: str, default: str | None = "dev") -> Callable[[F], F]:
    """`--stage NAME`: the API Gateway stage (checked as AWS names one)."""
    return valued_option("--stage", type=STAGE, default=default, help=help)


def experiments_dir_option(help: str) -> Callable[[F], F]:
    """`--experiments-dir DIR` (default ./experiments): where experiment names are looked up."""
    return valued_option(
        "--experiments-dir", type=click.Path(file_okay=False), default="experiments", help=help
    )


def plan_option(func: F) -> F:
    """`--plan FILE`: a plan file; without it the built-in plan."""
    return file_option(
        "--plan", "plan_file", help="Plan file (YAML or TOML). Default: the built-in plan."
    )(func)


def param_option(help: str) -> Callable[[F], F]:
    """`--param KEY=VALUE` (repeatable): a stack parameter override; read with `key_values`."""
    return click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help=help)


def key_values(raw: tuple[str, ...]) -> dict[str, str]:
    """The `--param KEY=VALUE` overrides as a mapping (a later KEY wins)."""
    out: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--param")
        out[key] = value
    return out


def _owned(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(OWNED_DIR.resolve())
    except (OSError, RuntimeError):
        return False


def check_overwrite(path: Path | str | None, force: bool, option: str) -> None:
    """Refuse to replace an existing file the harness does not own, unless --force."""
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{option} {p}: is a directory; expected a file path")
    if p.exists() and not force and not _owned(p):
        raise ConfigError(
            f"{option} {p}: file exists; pass --force to overwrite it, or choose another path"
        )


def writes_outputs(
    *params: tuple[str, str],
    derived: Callable[[dict[str, Any]], list[tuple[Path, str]]] | None = None,
) -> Callable[[F], F]:
    """Add `--force` and check each (parameter, option) output before the command runs.

    Place directly under `@click.command()`. `derived` names further files the command
    writes next to an output, each with the words that say where it came from.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            force = bool(kwargs.pop("force"))
            for param, option in params:
                check_overwrite(kwargs.get(param), force, option)
            for extra, label in derived(kwargs) if derived is not None else []:
                check_overwrite(extra, force, label)
            return func(*args, **kwargs)

        return click.option("--force", is_flag=True, help="Overwrite existing output files.")(
            wrapper
        )  # type: ignore[return-value]

    return decorate


def writing_command(
    derived: Callable[[dict[str, Any]], list[tuple[Path, str]]] | None = None,
) -> Callable[[Callable[..., None]], click.Command]:
    """`@click.command()` for a command that writes `--out` about a `--target`: the command
    with `--force` (see `writes_outputs`) and `--target` first, `--out` where it declares it."""

    def decorate(func: Callable[..., None]) -> click.Command:
        return click.command()(
            writes_outputs(("out", "--out"), derived=derived)(target_option(func))
        )

    return decorate


def gathered(
    into: str, dataclass: Callable[[], type[D]]
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Hand the command, as parameter `into`, the dataclass (`dataclass()`: imported only when
    the command runs) with every parsed parameter named as one of its fields filled in, except
    those the command declares itself; it calls it with the fields it computes. Instead of a
    keyword call that copies each parameter by name. A parameter the command neither declares
    nor gathers is a TypeError when it runs, so a misnamed option cannot pass unseen."""

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        declared = inspect.signature(func).parameters.keys()

        @functools.wraps(func)
        def wrapper(**kwargs: object) -> R:
            cls = dataclass()
            fields = {f.name for f in dataclasses.fields(cls)}
            names = (fields - declared) & kwargs.keys()
            filled = functools.partial(cls, **{name: kwargs.pop(name) for name in names})
            return func(**kwargs, **{into: filled})

        return wrapper

    return decorate


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
