"""The AppSpec of a Lambda deployment: which alias moves from which version to which, and
the lifecycle hooks. Accepts revisionType AppSpecContent or String, JSON or YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

__all__ = ["AppSpec", "AppSpecError", "LambdaTarget", "parse_appspec"]


class AppSpecError(ValueError):
    """The revision cannot be read as a Lambda AppSpec (AWS: InvalidRevisionException)."""


@dataclass(frozen=True)
class LambdaTarget:
    function: str
    alias: str
    current_version: str
    target_version: str


@dataclass(frozen=True)
class AppSpec:
    target: LambdaTarget
    before_allow_traffic: str | None = None
    after_allow_traffic: str | None = None


def _content(revision: Mapping[str, object]) -> str:
    kind = revision.get("revisionType")
    if kind == "AppSpecContent":
        block = revision.get("appSpecContent")
    elif kind == "String":
        block = revision.get("string")
    else:
        raise AppSpecError(
            f"revisionType {kind!r} is not supported for the Lambda compute platform "
            "(use AppSpecContent or String)"
        )
    if not isinstance(block, Mapping) or not isinstance(block.get("content"), str):
        raise AppSpecError("the revision has no AppSpec content")
    return str(block["content"])


def parse_appspec(revision: Mapping[str, object]) -> AppSpec:
    text = _content(revision)
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise AppSpecError(f"the AppSpec is neither JSON nor YAML: {exc}") from None
    if not isinstance(doc, Mapping):
        raise AppSpecError("the AppSpec must be a mapping")
    resources = doc.get("Resources") or doc.get("resources")
    if not isinstance(resources, list) or len(resources) != 1:
        raise AppSpecError("a Lambda AppSpec needs exactly one entry under Resources")
    (entry,) = resources
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise AppSpecError("each Resources entry is {logicalName: {Type, Properties}}")
    (body,) = entry.values()
    props = body.get("Properties") if isinstance(body, Mapping) else None
    if not isinstance(props, Mapping):
        raise AppSpecError("the Lambda resource has no Properties")
    try:
        target = LambdaTarget(
            str(props["Name"]),
            str(props["Alias"]),
            str(props["CurrentVersion"]),
            str(props["TargetVersion"]),
        )
    except KeyError as exc:
        raise AppSpecError(f"the Lambda resource's Properties lack {exc.args[0]}") from None
    hooks: dict[str, str] = {}
    for hook in doc.get("Hooks") or []:
        if isinstance(hook, Mapping):
            hooks.update({str(k): str(v) for k, v in hook.items()})
    unknown = set(hooks) - {"BeforeAllowTraffic", "AfterAllowTraffic"}
    if unknown:
        raise AppSpecError(f"unknown Lambda lifecycle hooks: {sorted(unknown)}")
    return AppSpec(target, hooks.get("BeforeAllowTraffic"), hooks.get("AfterAllowTraffic"))
