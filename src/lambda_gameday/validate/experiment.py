"""Chaos Toolkit experiments: structure, chaoslib's own validation, then the harness's checks.

Three layers, in order, each failing with one line naming the file and the key path:

1. a JSON Schema of the experiment's shape (chaoslib assumes it: a top-level list, a
   `method` string or `arguments` list made chaoslib raise AttributeError/TypeError);
2. chaoslib's `ensure_experiment_is_valid` (titles, activities, signatures, controls);
3. every argument of this harness's activities (`lambda_gameday.chaos.*`) is checked
   against the function's own type hints with pydantic, so `"fault": "bogus"` or
   `"timeout_s": "soon"` is refused before anything is injected rather than injecting a
   harmless canary and waiting for an alarm that cannot come.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ConfigDict, TypeAdapter, ValidationError

from ..exceptions import ConfigError
from .documents import read_document
from .limits import MAX_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS
from .text import shown

__all__ = ["SCHEMA", "check_arguments", "check_shape", "load_experiment_file"]

_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS}
_TEXT = {"type": "string", "maxLength": MAX_TEXT_CHARS}
_PAUSE = {"type": "number", "minimum": 0, "maximum": 3600}
_PROVIDER = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["python", "http", "process"]},
        "module": _NAME,
        "func": _NAME,
        "arguments": {"type": "object"},
        "url": _TEXT,
        "path": _TEXT,
        "method": _NAME,
        "timeout": {"type": ["number", "array"]},
    },
}
_ACTIVITY = {
    "type": "object",
    "properties": {
        "type": {"enum": ["action", "probe"]},
        "name": _NAME,
        "provider": _PROVIDER,
        "pauses": {
            "type": "object",
            "properties": {"before": _PAUSE, "after": _PAUSE},
            "additionalProperties": False,
        },
        "background": {"type": "boolean"},
        "ref": _NAME,
        "controls": {"type": "array"},
    },
    "anyOf": [{"required": ["ref"]}, {"required": ["type", "name", "provider"]}],
}
_ACTIVITIES = {"type": "array", "maxItems": MAX_ITEMS, "items": _ACTIVITY}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["title", "description", "method"],
    "properties": {
        "version": {"type": "string"},
        "title": {**_TEXT, "minLength": 1},
        "description": {**_TEXT, "minLength": 1},
        "tags": {"type": "array", "items": _NAME, "maxItems": MAX_ITEMS},
        "configuration": {"type": "object"},
        "secrets": {"type": "object"},
        "extensions": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": _NAME}},
        },
        "controls": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "provider"],
                "properties": {"name": _NAME, "provider": _PROVIDER},
            },
        },
        "steady-state-hypothesis": {
            "type": "object",
            "required": ["title"],
            "properties": {"title": _TEXT, "probes": _ACTIVITIES},
        },
        "method": _ACTIVITIES,
        "rollbacks": _ACTIVITIES,
        "runtime": {"type": "object"},
        "contributions": {"type": "object"},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _path(parts: typing.Iterable[object]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_shape(experiment: object, source: str) -> None:
    """The JSON Schema above; the most relevant error, as one line."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(experiment))
    if error is None:
        return
    where = _path(error.absolute_path) or "the experiment"
    if error.validator == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        why = f"is {shown(error.instance)}; expected {'an' if wanted[0] in 'ao' else 'a'} {wanted}"
    elif error.validator == "required":
        missing = error.message.split(" is a required property")[0]
        raise ConfigError(f"{source}: {where}: key {missing} is required")
    elif error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        why = f"is {shown(error.instance)}; expected one of {allowed}"
    else:
        why = f"is invalid ({shown(error.message, 160)})"
    raise ConfigError(f"{source}: {where} {why}")


def _activities(experiment: Mapping[str, Any]) -> typing.Iterator[tuple[str, Mapping[str, Any]]]:
    ssh = experiment.get("steady-state-hypothesis") or {}
    for section, acts in (
        ("steady-state-hypothesis.probes", ssh.get("probes") or []),
        ("method", experiment.get("method") or []),
        ("rollbacks", experiment.get("rollbacks") or []),
    ):
        for i, act in enumerate(acts):
            yield f"{section}[{i}]", act


@functools.cache
def _adapter(hint: Any) -> TypeAdapter[Any] | None:
    try:
        return TypeAdapter(hint, config=ConfigDict(strict=True, allow_inf_nan=False))
    except Exception:  # a hint pydantic cannot build a schema for: chaoslib's check stands
        return None


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:
        return {}


def _substituted(value: object) -> bool:
    """A value chaoslib fills from configuration at run time (`${stage}`)."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_substituted(v) for v in value)
    if isinstance(value, dict):
        return any(_substituted(v) for v in value.values())
    return False


def check_arguments(experiment: Mapping[str, Any], source: str) -> None:
    """Each argument of this harness's activities against its function's type hints."""
    for where, act in _activities(experiment):
        provider = act.get("provider") or {}
        module = str(provider.get("module", ""))
        if provider.get("type") != "python" or not module.startswith("lambda_gameday.chaos"):
            continue
        func = getattr(importlib.import_module(module), str(provider.get("func")), None)
        if func is None or not callable(func):
            continue  # chaoslib has said so already
        hints = _hints(func)
        params = inspect.signature(func).parameters
        for key, value in (provider.get("arguments") or {}).items():
            if key not in params or key not in hints or _substituted(value):
                continue
            adapter = _adapter(hints[key])
            if adapter is None:
                continue
            try:
                # JSON mode: a list is a fine tuple, "5" is not an int, NaN is not a number
                adapter.validate_json(json.dumps(value, allow_nan=True), strict=True)
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                ctx = err.get("ctx") or {}
                expected = f"one of {ctx['expected']}" if "expected" in ctx else err["msg"].lower()
                raise ConfigError(
                    f"{source}: {where}.provider.arguments.{key} = {shown(value)} is invalid"
                    f" for {provider.get('func')}: {expected}"
                ) from None


def _chaoslib_validate(experiment: dict[str, Any], source: str) -> None:
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise ConfigError(f"{source}: {' '.join(str(exc).split())}") from None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise ConfigError(
            f"{source}: Chaos Toolkit cannot read it ({type(exc).__name__}: {shown(str(exc), 160)})"
        ) from None


def load_experiment_file(path: str | Path) -> dict[str, Any]:
    """Read an experiment (.json, .yaml, .yml) and validate all three layers."""
    p = Path(path)
    if p.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise ConfigError(f"{p}: an experiment is a .json, .yaml or .yml file")
    data = read_document(p, "experiment")
    check_shape(data, str(p))
    assert isinstance(data, dict)
    experiment = typing.cast(dict[str, Any], data)
    _chaoslib_validate(experiment, str(p))
    check_arguments(experiment, str(p))
    return experiment
