"""CloudFormation's intrinsic functions, as far as the stack model needs them.

Supported: `Ref` (parameters, pseudo parameters, resources), `Fn::GetAtt`, `Fn::Sub` (both
forms), `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If` with `Conditions` (`Fn::Equals`,
`Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`), `Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`
and `AWS::NoValue`. Anything else (`Fn::ImportValue`, `Fn::Transform`, ...) is bad input
naming its place in the file: the model cannot know a value another stack exports.

A resource's `Ref` and attributes come from `ResourceNames`, which the reader fills with
the physical names the sandbox will create (CloudFormation's own rules for each type:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import StackFileError

__all__ = ["NO_VALUE", "Resolver", "ResourceValue"]

NO_VALUE = object()  # AWS::NoValue: the property is removed
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class ResourceValue:
    """What `Ref` returns for a resource, and its `Fn::GetAtt` attributes."""

    ref: str
    attributes: Mapping[str, str]


class Resolver:
    def __init__(
        self,
        source: str,
        template: Mapping[str, Any],
        parameters: Mapping[str, str | list[str]],
        pseudo: Mapping[str, str],
        resource: Callable[[str, str], ResourceValue | None],
    ):
        self.source = source
        self.template = template
        self.parameters = parameters
        self.pseudo = pseudo
        self._resource = resource
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    def fail(self, path: str, problem: str) -> StackFileError:
        return StackFileError(f"{self.source}: {path}: {problem}")

    # -- conditions -------------------------------------------------------------------

    def condition(self, name: object, path: str) -> bool:
        if not isinstance(name, str):
            raise self.fail(path, "a condition name must be a string")
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise self.fail(path, f"condition {name!r} is not defined in Conditions")
        if name in self._evaluating:
            raise self.fail(f"Conditions.{name}", "the condition refers to itself")
        self._evaluating.add(name)
        try:
            value = self._boolean(conditions[name], f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    def _boolean(self, node: Any, path: str) -> bool:
        if isinstance(node, bool):
            return node
        if isinstance(node, Mapping) and len(node) == 1:
            ((fn, arg),) = node.items()
            where = f"{path}.{fn}"
            if fn == "Condition":
                return self.condition(arg, where)
            if fn == "Fn::Equals":
                if not isinstance(arg, list) or len(arg) != 2:
                    raise self.fail(where, "takes a list of two values")
                return str(self.value(arg[0], f"{where}[0]")) == str(
                    self.value(arg[1], f"{where}[1]")
                )
            if fn == "Fn::Not":
                if not isinstance(arg, list) or len(arg) != 1:
                    raise self.fail(where, "takes a list of one condition")
                return not self._boolean(arg[0], f"{where}[0]")
            if fn in ("Fn::And", "Fn::Or"):
                if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
                    raise self.fail(where, "takes a list of 2 to 10 conditions")
                values = [self._boolean(a, f"{where}[{i}]") for i, a in enumerate(arg)]
                return all(values) if fn == "Fn::And" else any(values)
        raise self.fail(path, "is not a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or)")

    # -- values -----------------------------------------------------------------------

    def value(self, node: Any, path: str) -> Any:
        """`node` with every intrinsic resolved (NO_VALUE entries dropped)."""
        if isinstance(node, list):
            out = [self.value(v, f"{path}[{i}]") for i, v in enumerate(node)]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(node, Mapping):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                return self._intrinsic(str(key), arg, f"{path}.{key}")
        out_map = {str(k): self.value(v, f"{path}.{k}") for k, v in node.items()}
        return {k: v for k, v in out_map.items() if v is not NO_VALUE}

    def string(self, node: Any, path: str) -> str:
        value = self.value(node, path)
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise self.fail(path, f"must be a string, not {type(value).__name__}")
        return str(value)

    def _intrinsic(self, fn: str, arg: Any, path: str) -> Any:
        if fn == "Ref":
            return self._ref(arg, path)
        if fn == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            if not isinstance(arg, list) or len(arg) != 2:
                raise self.fail(path, "takes [LogicalId, Attribute]")
            return self._getatt(str(arg[0]), str(self.value(arg[1], path)), path)
        if fn == "Fn::Sub":
            return self._sub(arg, path)
        if fn == "Fn::Join":
            if not isinstance(arg, list) or len(arg) != 2:
                raise self.fail(path, "takes [delimiter, [values]]")
            items = self.value(arg[1], f"{path}[1]")
            if not isinstance(items, list):
                raise self.fail(f"{path}[1]", "must be a list")
            return str(arg[0]).join(self.string(v, f"{path}[1]") for v in items)
        if fn == "Fn::Select":
            if not isinstance(arg, list) or len(arg) != 2:
                raise self.fail(path, "takes [index, [values]]")
            index = self.value(arg[0], f"{path}[0]")
            items = self.value(arg[1], f"{path}[1]")
            try:
                return items[int(index)]
            except (ValueError, TypeError, IndexError):
                raise self.fail(path, f"index {index!r} is not in the list") from None
        if fn == "Fn::Split":
            if not isinstance(arg, list) or len(arg) != 2:
                raise self.fail(path, "takes [delimiter, string]")
            return self.string(arg[1], f"{path}[1]").split(str(arg[0]))
        if fn == "Fn::If":
            if not isinstance(arg, list) or len(arg) != 3:
                raise self.fail(path, "takes [condition, value if true, value if false]")
            chosen = 1 if self.condition(arg[0], f"{path}[0]") else 2
            return self.value(arg[chosen], f"{path}[{chosen}]")
        if fn == "Fn::FindInMap":
            if not isinstance(arg, list) or len(arg) != 3:
                raise self.fail(path, "takes [map, top-level key, second-level key]")
            keys = [self.string(a, f"{path}[{i}]") for i, a in enumerate(arg)]
            node: Any = self.template.get("Mappings") or {}
            for key in keys:
                if not isinstance(node, Mapping) or key not in node:
                    raise self.fail(path, f"Mappings has no {'.'.join(keys)}")
                node = node[key]
            return node
        if fn == "Fn::Base64":
            return self.string(arg, path)
        if fn == "Fn::GetAZs":
            region = self.pseudo["AWS::Region"]
            return [f"{region}a", f"{region}b", f"{region}c"]
        raise self.fail(path, f"unsupported intrinsic function {fn}")

    def _ref(self, name: Any, path: str) -> Any:
        if not isinstance(name, str):
            raise self.fail(path, "Ref takes a name")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        found = self._resource(name, path)
        if found is None:
            raise self.fail(path, f"Ref to {name!r}, which is not a parameter or resource")
        return found.ref

    def _getatt(self, logical: str, attribute: str, path: str) -> str:
        found = self._resource(logical, path)
        if found is None:
            raise self.fail(path, f"Fn::GetAtt on {logical!r}, which is not a resource")
        if attribute not in found.attributes:
            # An attribute the model does not use: a stable placeholder, not a guess.
            return f"{found.ref}.{attribute}"
        return found.attributes[attribute]

    def _sub(self, arg: Any, path: str) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], Mapping):
                raise self.fail(path, "takes a string or [string, {variables}]")
            text = arg[0]
            variables = {str(k): self.string(v, f"{path}[1].{k}") for k, v in arg[1].items()}
        else:
            text = arg
        if not isinstance(text, str):
            raise self.fail(path, "the template must be a string")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                logical, attribute = name.split(".", 1)
                return self._getatt(logical, attribute, path)
            value = self._ref(name, path)
            if isinstance(value, list):
                raise self.fail(path, f"${{{name}}} is a list; Fn::Sub needs a string")
            return str(value)

        return _SUB_VAR.sub(replace, text)
