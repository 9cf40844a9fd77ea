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
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Union, cast, get_args, get_origin

import yaml

from ..exceptions import ConfigError

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
    "default_plan",
    "load_plan",
    "parse_plan",
]

PhaseKind = Literal["conformance", "lint", "synthetics", "coldstart", "load", "chaos"]
FailOn = Literal["error", "warning", "never"]


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
    experiments: tuple[str, ...] = ()
    experiments_dir: str = "experiments"
    templates: tuple[str, ...] = ()  # CloudFormation / serverless.yml files with more alarms


@dataclass(frozen=True)
class SyntheticsOptions:
    """Probe each endpoint a bounded number of times and judge latency and availability."""

    probes: int = 200  # per endpoint
    endpoints: tuple[str, ...] = ()  # paths or function names; empty: every target function
    checks: tuple[str, ...] = ()  # check definition files/folders; empty: built-in health checks
    timeout_s: float = 5.0
    max_seconds: float = 60.0  # hard bound on the phase's wall-clock time


@dataclass(frozen=True)
class ColdstartOptions:
    """Force new execution environments and measure the first request against the budget."""

    functions: tuple[str, ...] = ()  # empty: every target function
    warm_requests: int = 5
    rounds: int = 1


@dataclass(frozen=True)
class LoadOptions:
    """A short, bounded Locust run gated on thresholds evaluated from raw timings."""

    duration_s: float = 10.0
    users: int = 10
    spawn_rate: float = 10.0
    thresholds: tuple[str, ...] = ()  # empty: derived from the target's SLOs
    workers: int = 0
    warmup_s: float | None = None  # counted, not gated; None: the load runner's default


@dataclass(frozen=True)
class ChaosOptions:
    """Run chaos experiments and judge their MTTR timelines against the budget."""

    experiments: tuple[str, ...] = ("faulty-canary",)  # names in experiments/ or file paths
    allow_production: bool = False
    load_users: int = 0  # > 0: Locust users driving the endpoints through each experiment


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


def _optional_of(tp: Any) -> Any:
    """`X` for `X | None` (an option that may be left out), else None."""
    args = get_args(tp)
    if type(None) in args and len(args) == 2:
        return next(a for a in args if a is not type(None))
    return None


def _describe(tp: Any) -> str:
    if (inner := _optional_of(tp)) is not None:
        return _describe(inner)
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is tuple:
        return "a list of strings"
    return {int: "a whole number >= 0", float: "a number >= 0", bool: "true or false"}.get(
        tp, "a non-empty string"
    )


def _coerce(value: object, tp: Any) -> object:
    """The value converted to `tp`, or a ValueError if it does not fit."""
    if (inner := _optional_of(tp)) is not None:
        return _coerce(value, inner)
    origin = get_origin(tp)
    if origin is Literal:
        if value not in get_args(tp):
            raise ValueError
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError
        return tuple(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError
        return float(value)
    if not isinstance(value, str) or not value:
        raise ValueError
    return value


def _parse_phase(source: str, index: int, raw: object, seen: set[str]) -> PhaseSpec:
    where = f"{source}: phases[{index}]"
    if isinstance(raw, str):
        raw = {"phase": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table with a 'phase' key, got {raw!r}")
    table = cast(Mapping[str, object], raw)
    kind = table.get("phase")
    if kind not in _OPTIONS:
        raise ConfigError(
            f"{where}.phase = {kind!r} is not a phase; allowed: {', '.join(PHASE_KINDS)}"
        )
    cls = _OPTIONS[kind]
    hints = typing.get_type_hints(cls)
    allowed = {f.name for f in fields(cls)}
    values: dict[str, object] = {}
    for key, value in table.items():
        if key in _COMMON:
            continue
        if key not in allowed:
            known = ", ".join(sorted(allowed | set(_COMMON)))
            raise ConfigError(f"{where}: unknown key {key!r} for phase {kind}; allowed: {known}")
        try:
            values[key] = _coerce(value, hints[key])
        except ValueError:
            raise ConfigError(
                f"{where}.{key} = {value!r} is invalid; expected {_describe(hints[key])}"
            ) from None
    name = table.get("name", kind)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name = {name!r} is invalid; expected a non-empty string")
    if name in seen:
        raise ConfigError(f"{where}.name = {name!r} is used twice; give each phase its own name")
    seen.add(name)
    cont = table.get("continue_on_failure", True)
    if not isinstance(cont, bool):
        raise ConfigError(f"{where}.continue_on_failure = {cont!r} is invalid; expected true/false")
    options = cls(**values)
    if isinstance(options, SyntheticsOptions) and options.probes == 0:
        raise ConfigError(f"{where}.probes = 0 is invalid; a phase measuring nothing can't pass")
    return PhaseSpec(cast(PhaseKind, kind), name, options, cont)


def parse_plan(data: object, source: str) -> Plan:
    """Validate a parsed plan document."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a plan must be a table with 'name' and 'phases'")
    table = cast(Mapping[str, object], data)
    for key in table:
        if key not in ("name", "description", "phases"):
            raise ConfigError(f"{source}: unknown key {key!r}; allowed: description, name, phases")
    name = table.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: name = {name!r} is invalid; expected a non-empty string")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{source}: description must be a string")
    raw_phases = table.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise ConfigError(f"{source}: phases must be a non-empty list of phase tables")
    seen: set[str] = set()
    phases = tuple(_parse_phase(source, i, p, seen) for i, p in enumerate(raw_phases))
    return Plan(name=name, phases=phases, description=description, source=source)


def _parse_text(text: str, source: str) -> object:
    if source.endswith(".toml"):
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{source}: not valid YAML{where} ({problem})") from None


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file (.yml/.yaml/.json as YAML, .toml as TOML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: plan file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read plan file ({exc})") from None
    return parse_plan(_parse_text(text, str(p)), str(p))


def default_plan() -> Plan:
    """The plan `gameday run` uses without --plan (shipped as default_plan.yml)."""
    text = resources.files(__package__).joinpath("default_plan.yml").read_text(encoding="utf-8")
    return parse_plan(yaml.safe_load(text), "<default plan>")


def replace_options(spec: PhaseSpec, **changes: object) -> PhaseSpec:
    """A copy of `spec` with some options changed (used by tests and the pytest plugin)."""
    return dataclasses.replace(spec, options=dataclasses.replace(spec.options, **changes))  # type: ignore[arg-type]
