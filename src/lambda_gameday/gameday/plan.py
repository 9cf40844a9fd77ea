"""Game-day plan files: an ordered list of phases with per-phase options, in YAML or TOML.

    name: nightly
    description: what this game day proves
    phases:
      - phase: conformance
      - phase: synthetics
        probes: 300
      - phase: chaos
        experiments: [faulty-canary]

Every problem is a ConfigError naming the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

import yaml
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from ..exceptions import ConfigError
from ..validate.documents import check_tree, read_document
from ..validate.limits import MAX_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS
from ..validate.text import shown
from ..validate.values import name_problem

__all__ = [
    "PHASE_KINDS",
    "ChaosOptions",
    "ColdstartOptions",
    "ConformanceOptions",
    "LintOptions",
    "LoadOptions",
    "PhaseKind",
    "PhaseOptions",
    "PhaseSpec",
    "Plan",
    "SyntheticsOptions",
    "check_references",
    "default_plan",
    "load_plan",
    "parse_plan",
]

PhaseKind = Literal["conformance", "lint", "synthetics", "coldstart", "load", "chaos"]
FailOn = Literal["error", "warning", "never"]


def _whole(low: int, high: int) -> Any:
    return Field(ge=low, le=high, description=f"a whole number from {low} to {high}")


def _seconds(high: float, *, above_zero: bool = True) -> Any:
    low = "> 0" if above_zero else ">= 0"
    if above_zero:
        return Field(gt=0, le=high, description=f"a number of seconds {low} and <= {high:g}")
    return Field(ge=0, le=high, description=f"a number of seconds {low} and <= {high:g}")


# Bounds: a plan runs unattended in CI, so every count and duration has a ceiling (a typo of
# 99999999 users or `.inf` seconds must be refused, not run).
Names = Annotated[
    tuple[Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)], ...],
    Field(max_length=MAX_ITEMS, description="a list of names (each 1..256 characters)"),
]
Paths = Annotated[
    tuple[Annotated[str, Field(min_length=1, max_length=4096)], ...],
    Field(max_length=MAX_ITEMS, description="a list of file or directory paths"),
]


@dataclass(frozen=True)
class ConformanceOptions:
    """Read-only checklist of the target's setup (versions, aliases, alarms, topic)."""

    fail_on: FailOn = "error"  # finding severity that fails the phase


@dataclass(frozen=True)
class LintOptions:
    """What cannot work, said before anything runs (alarm arithmetic vs the MTTR budget)."""

    fail_on: FailOn = "error"
    # The faults these experiments inject are linted. Empty: the experiments this plan's
    # chaos phases run (so a game day lints what it is about to do).
    experiments: Names = ()
    experiments_dir: Annotated[str, Field(min_length=1, max_length=4096)] = "experiments"
    templates: Paths = ()  # CloudFormation / serverless.yml files with more alarms


@dataclass(frozen=True)
class SyntheticsOptions:
    """Probe each endpoint a bounded number of times and judge latency and availability."""

    probes: Annotated[int, _whole(1, 100_000)] = 200  # per endpoint
    endpoints: Names = ()  # paths or function names; empty: every target function
    checks: Paths = ()  # check definition files/folders; empty: built-in health checks
    timeout_s: Annotated[float, _seconds(60)] = 5.0
    max_seconds: Annotated[float, _seconds(3600)] = 60.0  # bound on the phase's wall-clock time


@dataclass(frozen=True)
class ColdstartOptions:
    """Force new execution environments and measure the first request against the budget."""

    functions: Names = ()  # empty: every target function
    warm_requests: Annotated[int, _whole(0, 1000)] = 5
    rounds: Annotated[int, _whole(1, 100)] = 1


@dataclass(frozen=True)
class LoadOptions:
    """A short, bounded Locust run gated on thresholds evaluated from raw timings."""

    duration_s: Annotated[float, _seconds(86_400)] = 10.0
    users: Annotated[int, _whole(1, 10_000)] = 10
    spawn_rate: Annotated[float, Field(gt=0, le=10_000, description="users/s > 0, <= 10000")] = 10.0
    thresholds: Names = ()  # empty: derived from the target's SLOs
    workers: Annotated[int, _whole(0, 64)] = 0
    # counted, not gated; None: the load runner's default
    warmup_s: Annotated[float, _seconds(3600, above_zero=False)] | None = None


@dataclass(frozen=True)
class ChaosOptions:
    """Run chaos experiments and judge their MTTR timelines against the budget."""

    experiments: Names = ("faulty-canary",)  # names in experiments/ or file paths
    # Never set from a plan file: only the command line or the environment grant production
    # (issue 13); parse_plan refuses the key. Kept for callers building options in code.
    allow_production: bool = False
    load_users: Annotated[int, _whole(0, 10_000)] = 0  # Locust users through each experiment
    # how Lambda faults are delivered in this phase (default: the experiment's, the target's)
    backend: Literal["fis", "extension", "failure-lambda"] | None = None
    # The target function (route or name) the experiments aim at, in place of the one each
    # experiment is written for (the seed's /health/live); empty: the experiment's own.
    function: str = ""


PhaseOptions = Union[  # noqa: UP007  (used at runtime by isinstance checks)
    ConformanceOptions, LintOptions, SyntheticsOptions, ColdstartOptions, LoadOptions, ChaosOptions
]

_OPTIONS: dict[str, type[Any]] = {
    "conformance": ConformanceOptions,
    "lint": LintOptions,
    "synthetics": SyntheticsOptions,
    "coldstart": ColdstartOptions,
    "load": LoadOptions,
    "chaos": ChaosOptions,
}
PHASE_KINDS: tuple[PhaseKind, ...] = cast(tuple[PhaseKind, ...], tuple(_OPTIONS))
_COMMON = ("phase", "name", "continue_on_failure")


@dataclass(frozen=True)
class PhaseSpec:
    kind: PhaseKind
    name: str
    options: PhaseOptions
    continue_on_failure: bool = True  # a failed phase still lets later phases run


@dataclass(frozen=True)
class Plan:
    name: str
    phases: tuple[PhaseSpec, ...]
    description: str = ""
    source: str = "<built-in>"


_STRICT = ConfigDict(strict=True, allow_inf_nan=False)
# Phase names become file names in the report directory: no separators, no traversal.
_PHASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_GRANTS = ("allow_production", "allow-production", "allowproduction")


def _optional_of(tp: Any) -> Any:
    """`X` for `X | None` (an option that may be left out), else None."""
    args = get_args(tp)
    if type(None) in args and len(args) == 2:
        return next(a for a in args if a is not type(None))
    return None


def _describe(tp: Any) -> str:
    """What an option expects: its Field description, else a phrase from its type."""
    if (inner := _optional_of(tp)) is not None:
        return _describe(inner)
    origin = get_origin(tp)
    if origin is Annotated:
        for meta in reversed(get_args(tp)[1:]):
            if getattr(meta, "description", None):
                return str(meta.description)
        return _describe(get_args(tp)[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is tuple:
        return "a list of strings"
    return {int: "a whole number >= 0", float: "a number >= 0", bool: "true or false"}.get(
        tp, "a non-empty string"
    )


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp, config=_STRICT)


def _coerce(value: object, tp: Any) -> object:
    """The value validated as `tp` (strict JSON semantics: a list is a tuple, "5" is not a
    number, NaN and infinities are not numbers), or a ValueError."""
    args = get_args(tp)
    base = args[0] if get_origin(tp) is Annotated else tp
    if get_origin(base) is tuple and isinstance(value, str):
        value = [value]  # `experiments: faulty-canary` means a list of one
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        raise ValueError from None  # a YAML date or set: not a plan value
    try:
        return _adapter(tp).validate_json(text)
    except ValidationError:
        raise ValueError from None


def _phase_name(where: str, name: object, seen: set[str]) -> str:
    if not isinstance(name, str) or not _PHASE_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}.name = {shown(name)} is invalid; expected 1..64 letters, digits, '.', '_'"
            " or '-' starting with a letter or digit (it names the phase's report files)"
        )
    if name in seen:
        raise ConfigError(f"{where}.name = {name!r} is used twice; give each phase its own name")
    seen.add(name)
    return name


def _refuse_grant(where: str, key: str) -> None:
    if key.lower() in _GRANTS:
        raise ConfigError(
            f"{where}: {key} cannot be set in a plan file; only the command line"
            " (--allow-production) or GAMEDAY_ALLOW_PRODUCTION=1 can allow production"
        )


def _parse_phase(source: str, index: int, raw: object, seen: set[str]) -> PhaseSpec:
    where = f"{source}: phases[{index}]"
    if isinstance(raw, str):
        raw = {"phase": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table with a 'phase' key, got {shown(raw)}")
    table = cast(Mapping[str, object], raw)
    kind = table.get("phase")
    if not isinstance(kind, str) or kind not in _OPTIONS:
        raise ConfigError(
            f"{where}.phase = {shown(kind)} is not a phase; allowed: {', '.join(PHASE_KINDS)}"
        )
    cls = _OPTIONS[kind]
    hints = typing.get_type_hints(cls, include_extras=True)
    allowed = {f.name for f in fields(cls)} - {"allow_production"}
    values: dict[str, object] = {}
    for key, value in table.items():
        if key in _COMMON:
            continue
        _refuse_grant(where, str(key))
        if key not in allowed:
            known = ", ".join(sorted(allowed | set(_COMMON)))
            raise ConfigError(
                f"{where}: unknown key {shown(key)} for phase {kind}; allowed: {known}"
            )
        try:
            values[key] = _coerce(value, hints[key])
        except ValueError:
            raise ConfigError(
                f"{where}.{key} = {shown(value)} is invalid; expected {_describe(hints[key])}"
            ) from None
    name = _phase_name(where, table.get("name", kind), seen)
    cont = table.get("continue_on_failure", True)
    if not isinstance(cont, bool):
        raise ConfigError(
            f"{where}.continue_on_failure = {shown(cont)} is invalid; expected true/false"
        )
    options = cls(**values)
    if isinstance(options, LoadOptions) and (options.warmup_s or 0) >= options.duration_s:
        assert options.warmup_s is not None
        raise ConfigError(
            f"{where}.warmup_s = {options.warmup_s:g} is invalid; expected less than"
            f" duration_s ({options.duration_s:g})"
        )
    return PhaseSpec(cast(PhaseKind, kind), name, options, cont)


def parse_plan(data: object, source: str) -> Plan:
    """Validate a parsed plan document."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a plan must be a table with 'name' and 'phases'")
    check_tree(data, source)
    table = cast(Mapping[str, object], data)
    for key in table:
        _refuse_grant(source, str(key))
        if key not in ("name", "description", "phases"):
            raise ConfigError(
                f"{source}: unknown key {shown(key)}; allowed: description, name, phases"
            )
    name = table.get("name", Path(source).stem)
    why = name_problem(name) if isinstance(name, str) else "a non-empty string"
    if why is not None:
        raise ConfigError(f"{source}: name = {shown(name)} is invalid; expected {why}")
    assert isinstance(name, str)
    description = table.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_TEXT_CHARS:
        raise ConfigError(
            f"{source}: description must be a string of at most {MAX_TEXT_CHARS} characters"
        )
    raw_phases = table.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise ConfigError(f"{source}: phases must be a non-empty list of phase tables")
    if len(raw_phases) > 100:
        raise ConfigError(f"{source}: phases has {len(raw_phases)} entries; at most 100")
    seen: set[str] = set()
    phases = tuple(_parse_phase(source, i, p, seen) for i, p in enumerate(raw_phases))
    return Plan(name=name, phases=phases, description=description, source=source)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file (.toml as TOML, .json as JSON, anything else as YAML)."""
    p = Path(path)
    return parse_plan(read_document(p, "plan file"), str(p))


def check_references(plan: Plan) -> None:
    """What a plan names exists and parses, checked before anything starts: experiments
    (the chaos and lint phases), thresholds (load), check files (synthetics), templates."""
    from ..chaos.runner import resolve_experiment
    from ..load.thresholds import parse_thresholds
    from ..synthetics.definitions import load_checks
    from ..validate.experiment import load_experiment_file

    for i, spec in enumerate(plan.phases):
        where = f"{plan.source}: phases[{i}] ({spec.name})"
        opts = spec.options
        try:
            if isinstance(opts, ChaosOptions | LintOptions):
                folder = opts.experiments_dir if isinstance(opts, LintOptions) else "experiments"
                for name in opts.experiments:
                    load_experiment_file(resolve_experiment(name, folder))
            if isinstance(opts, LintOptions):
                for template in opts.templates:
                    if not Path(template).is_file():
                        raise ConfigError(f"{template}: template file not found")
            if isinstance(opts, LoadOptions):
                parse_thresholds(opts.thresholds)
            if isinstance(opts, SyntheticsOptions) and opts.checks:
                _, errors = load_checks(opts.checks)
                if errors:
                    raise ConfigError(errors[0].reason)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.one_line()}") from None


def default_plan() -> Plan:
    """The plan `gameday run` uses without --plan (shipped as default_plan.yml)."""
    text = resources.files(__package__).joinpath("default_plan.yml").read_text(encoding="utf-8")
    return parse_plan(yaml.safe_load(text), "<default plan>")


def replace_options(spec: PhaseSpec, **changes: object) -> PhaseSpec:
    """A copy of `spec` with some options changed (used by tests and the pytest plugin)."""
    return dataclasses.replace(spec, options=dataclasses.replace(spec.options, **changes))  # type: ignore[arg-type]
