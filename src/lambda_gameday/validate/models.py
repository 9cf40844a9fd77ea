"""Schemas as pydantic models, and their errors as the harness's one-line ConfigError.

Every file model is strict (no "5" for 5, no true for 1), forbids unknown keys and refuses
NaN and infinities. A validation error becomes `FILE: key.path = VALUE is invalid; expected
WHAT`, where WHAT is the field's description, so messages read the same in every format.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ..exceptions import ConfigError
from .limits import MAX_NAME_CHARS
from .text import shown
from .values import name_problem, region_problem, url_problem

__all__ = [
    "STRICT",
    "Name",
    "Region",
    "StrictModel",
    "Url",
    "config_error",
    "validate_model",
]

M = TypeVar("M", bound=BaseModel)

STRICT = ConfigDict(
    extra="forbid", strict=True, allow_inf_nan=False, frozen=True, hide_input_in_errors=True
)


class StrictModel(BaseModel):
    model_config = STRICT


def _checked(problem: typing.Callable[[str], str | None]) -> typing.Callable[[str], str]:
    def check(value: str) -> str:
        why = problem(value)
        if why is not None:
            raise ValueError(why)
        return value

    return check


Name = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(_checked(name_problem))]
Url = Annotated[str, AfterValidator(_checked(url_problem))]
Region = Annotated[str, AfterValidator(_checked(region_problem))]


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly, in a list/tuple, or optionally."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        return _inner_model(get_args(annotation)[0])
    if origin in (list, tuple, Union, types.UnionType):
        for arg in get_args(annotation):
            if (found := _inner_model(arg)) is not None:
                return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose field `loc[-1]` is (walking through nested models and list indices)."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part)
        current = _inner_model(info.annotation) if info is not None else None
    return current


def _expected(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return "a valid value"
    info = model.model_fields.get(key)
    if info is None or not info.description:
        return "a valid value"
    return info.description


def _value_at(data: object, loc: tuple[int | str, ...]) -> object:
    for part in loc:
        in_table = isinstance(data, Mapping) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_table or in_list):
            return None
        data = data[part]  # type: ignore[index]
    return data


def config_error(
    exc: ValidationError, model: type[BaseModel], data: object, source: str
) -> ConfigError:
    """The first error of `exc` as one line naming the file, the key path and what fits."""
    errors = exc.errors(include_url=False, include_input=False)
    # An unknown key first: a misspelt key usually explains the "missing" one.
    err: ErrorDetails = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    where = _path(loc)
    owner = _model_at(model, loc) if loc else model
    key = loc[-1] if loc else ""
    if err["type"] == "extra_forbidden" and owner is not None:
        allowed = ", ".join(sorted(owner.model_fields))
        return ConfigError(f"{source}: unknown key {where}; allowed: {allowed}")
    if err["type"] == "missing":
        expected = _expected(owner, str(key))
        return ConfigError(f"{source}: missing key {where} ({expected})")
    if not loc:
        return ConfigError(f"{source}: expected a table of settings, got {shown(data)}")
    expected = (
        _expected(owner, str(key))
        if isinstance(key, str)
        else _expected(_model_at(model, loc[:-1]), str(loc[-2]) if len(loc) > 1 else "")
    )
    value = shown(_value_at(data, loc))
    why = err["msg"].removeprefix("Value error, ")
    detail = "" if expected.startswith(why) or why.startswith("Input should") else f" ({why})"
    return ConfigError(f"{source}: {where} = {value} is invalid; expected {expected}{detail}")


def validate_model(model: type[M], data: object, source: str) -> M:
    """`data` as `model`, or a ConfigError naming `source` and the key path."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {shown(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, model, data, source) from None
