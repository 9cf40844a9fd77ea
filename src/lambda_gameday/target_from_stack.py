"""A target file from a stack: the functions behind each GET route, their aliases, alarms and
deployment groups, and default SLOs — what `gameday target init` and `target discover` write.

The stack comes from a file (`sandbox.stacks.load_stack`, no moto needed) or from a deployed
CloudFormation stack (`discover_stack`). Only GET (and ANY) routes become target functions:
the harness's checks and probes are GETs. Other routes and route-less functions (hooks) are
listed in the file's header comment, so nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import SLOs
from .exceptions import ConfigError

if TYPE_CHECKING:
    from .sandbox.serverless_stack import StackSpec

__all__ = ["TargetOptions", "read_stack", "target_toml"]


@dataclass(frozen=True)
class TargetOptions:
    name: str | None = None
    kind: str = "aws"
    region: str = "us-east-1"
    api_url: str | None = None
    endpoint_url: str | None = None
    command: str = "init"  # what wrote it: init (a file) or discover (a deployed stack)


def read_stack(
    path: str,
    *,
    stage: str | None,
    parameters: Mapping[str, str],
    region: str,
    stack_name: str | None = None,
) -> StackSpec:
    """The stack in `path`; a bad file is a ConfigError (exit 2) naming the place in it."""
    from .sandbox.stacks import StackFileError, load_stack

    try:
        return load_stack(
            path, stage=stage, parameters=parameters, region=region, stack_name=stack_name
        )
    except StackFileError as exc:
        raise ConfigError(" ".join(str(exc).split())) from None


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string is a JSON string for these characters


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


@dataclass(frozen=True)
class _Layout:
    """Where the target's routes are: api_url ends in `base`; `one_host`: the paths carry
    their stage prefix; `keep`: only routes under this prefix (None: all)."""

    base: str
    one_host: bool = False
    keep: str | None = None


def _layout(stack: StackSpec, kind: str) -> _Layout:
    """Routes of one stage: api_url is that stage's URL and paths are the routes'. Several
    stages (a REST API's `/Prod`, an HTTP API's `$default`): the twin serves them on one
    host, so api_url is its root and each path carries its stage; on AWS each API has its
    own host, so the target keeps one stage's routes (a REST API's first) and lists the
    others, each needing a target of its own."""
    gets = [r for f in stack.functions for r in f.routes if r.method in ("GET", "ANY")]
    prefixes = list(dict.fromkeys(r.url_prefix(stack.stage) for r in gets if not r.templated))
    if len(prefixes) <= 1:
        return _Layout(prefixes[0] if prefixes else f"/{stack.stage}")
    if kind == "sandbox":
        return _Layout("", one_host=True)
    rest = [r for r in gets if r.api == "REST" and not r.templated]
    keep = rest[0].url_prefix(stack.stage) if rest else prefixes[0]
    return _Layout(keep, keep=keep)


def target_toml(stack: StackSpec, options: TargetOptions) -> str:
    """The target file for `stack`, as TOML text (parseable by `config.load_target`)."""
    layout = _layout(stack, options.kind)
    api_url = options.api_url or (
        f"https://REPLACE-WITH-API-ID.execute-api.{options.region}.amazonaws.com{layout.base}"
    )
    skipped: list[str] = []
    entries: list[list[str]] = []
    paths: set[str] = set()
    alarm_names = [a.name for a in stack.alarms]
    for fn in stack.functions:
        gets = [r for r in fn.routes if r.method in ("GET", "ANY")]
        skipped += [
            f"{r.method} {r.path} -> {fn.name} (the harness probes with GET)"
            for r in fn.routes
            if r not in gets
        ]
        if not fn.routes:
            skipped.append(f"{fn.name}: no API route (a hook or a worker)")
        for route in gets:
            if route.templated:
                # checks and the load mix probe the target's paths: `{id}` has no value
                skipped.append(
                    f"{route.method} {route.path} -> {fn.name} (a path template: no concrete "
                    "value to probe it with)"
                )
                continue
            prefix = route.url_prefix(stack.stage)
            if layout.keep is not None and prefix != layout.keep:
                skipped.append(
                    f"{route.method} {prefix}{route.path} -> {fn.name} ({route.api} API stage "
                    f"{route.stage_name(stack.stage)}: its own host on AWS; a target has one "
                    "api_url)"
                )
                continue
            # one host, several stages: the path carries its stage
            path = ((prefix if layout.one_host else "") + route.path).rstrip("/") or "/"
            if path in paths:
                skipped.append(f"{route.method} {path} -> {fn.name} (path already listed)")
                continue
            paths.add(path)
            alias = route.alias or "$LATEST"
            group = next(
                (
                    g
                    for g in stack.groups
                    if g.enabled and g.function == fn.name and g.alias == alias
                ),
                None,
            )
            own_alarms = [
                a.name for a in stack.alarms if dict(a.dimensions).get("FunctionName") == fn.name
            ]
            alarms = list(dict.fromkeys([*(group.alarms if group else ()), *own_alarms]))
            provisioned = next((a.provisioned for a in fn.aliases if a.name == alias), 0)
            aliases = [a.name for a in fn.aliases] or ["$LATEST"]
            lines = [
                "[[functions]]",
                f"name = {_q(fn.name)}",
                f"path = {_q(path)}",
                f"alias = {_q(alias)}",
                f"aliases = {_list(aliases)}",
            ]
            if provisioned:
                lines.append(f"provisioned_concurrency = {provisioned}")
            if alarms:
                lines.append(f"alarms = {_list(alarms)}")
            if group is not None:
                lines.append(f"deployment_group = {_q(group.name)}")
            entries.append(lines)
    if not entries:
        raise ConfigError(
            f"{stack.source}: no function serves a GET route; a target needs at least one "
            "(the harness's checks are GETs)"
        )
    slos = SLOs()
    head = [
        f"# Written by `gameday target {options.command}` from {stack.source} ({stack.format}).",
        "# Review it: SLOs are the defaults, and names are as the stack file gives them.",
    ]
    if options.api_url is None:
        head.append("# api_url: replace REPLACE-WITH-API-ID with the deployed API's id.")
    if layout.one_host:
        head.append("# paths carry their API's stage: the twin serves every API on one host")
    if stack.parameters:
        head.append("# parameters: " + ", ".join(f"{k}={v}" for k, v in stack.parameters))
    head += [f"# not a target function: {s}" for s in skipped]
    head += [f"# ignored resource type: {t}" for t in stack.unsupported]
    groups = [g for g in stack.groups if g.enabled]
    apps = list(dict.fromkeys(g.application or stack.application for g in groups))
    body = [
        f"name = {_q(options.name or stack.name or stack.application)}",
        f"kind = {_q(options.kind)}",
        'environment = "dev"',
        f"region = {_q(options.region)}",
        f"api_url = {_q(api_url)}",
    ]
    if options.endpoint_url:
        body.append(f"endpoint_url = {_q(options.endpoint_url)}")
    if apps:
        body.append(f"application = {_q(apps[0])}")
    body.append(f"alarms = {_list(alarm_names)}")
    body.append(f"deployment_groups = {_list([g.name for g in groups])}")
    if stack.topics:
        body.append(f"alert_topic = {_q(stack.topics[0].name)}")
    body += [
        "",
        "[slo]",
        f"health_latency_ms = {slos.health_latency_ms:g}",
        f"cold_start_ms = {slos.cold_start_ms:g}",
        f"availability = {slos.availability}",
        f"mttr_s = {slos.mttr_s:g}",
        f"deployment_success = {slos.deployment_success}",
    ]
    out = [*head, "", *body]
    for entry in entries:
        out += ["", *entry]
    return "\n".join(out) + "\n"
