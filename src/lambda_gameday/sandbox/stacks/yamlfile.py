"""YAML with CloudFormation's short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub`, ...), turned
into their long forms (`{"Ref": ...}`, `{"Fn::GetAtt": [A, B]}`, `{"Fn::Sub": ...}`) so
one resolver handles both. JSON templates are YAML too."""

from __future__ import annotations

import json
from typing import Any

import yaml

from .errors import StackFileError

__all__ = ["load_yaml"]


# libyaml's parser when PyYAML was built with it (10x faster on large templates); the
# constructors, and so the tags, are the same Python code either way.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        logical, _, attr = value.partition(".")
        return {"Fn::GetAtt": [logical, attr]}
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _construct)


def load_yaml(text: str, source: str) -> Any:
    if text.lstrip().startswith("{"):  # a JSON template (cdk synth's cdk.out): no tags
        try:
            return json.loads(text)
        except ValueError:
            pass  # let the YAML parser say where it is broken
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise StackFileError(f"{source}: not valid YAML ({where}{problem})") from None
