"""What a running sandbox serves, as plain data: the facts a target file needs.

The sandbox knows its own resources, so a target file written from this is exact — never
built from naming guesses. The CLI turns it into TOML (`gameday sandbox --target-out`); the
sandbox itself knows nothing of the harness's target format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core import Sandbox

__all__ = ["FunctionFacts", "SandboxFacts", "describe"]


@dataclass(frozen=True)
class FunctionFacts:
    name: str
    path: str
    alias: str
    provisioned_concurrency: int
    alarms: tuple[str, ...]
    deployment_group: str | None


@dataclass(frozen=True)
class SandboxFacts:
    account_id: str
    region: str
    stage: str
    endpoint_url: str
    api_url: str
    application: str | None
    alert_topic: str | None
    functions: tuple[FunctionFacts, ...]


def describe(sandbox: Sandbox) -> SandboxFacts:
    from .control import control_loops

    cfg = sandbox.config
    try:
        stack = control_loops(sandbox).stack
    except LookupError:
        stack = None
    dataplane = sandbox.dataplane
    provisioned = dataplane.service.provisioned if dataplane is not None else {}
    functions = []
    for path, route in sorted(sandbox.routes.items()):
        if route.templated:  # `{id}` has no value a check could probe with
            continue
        fn = route.function
        alarms: tuple[str, ...] = ()
        group = None
        if stack is not None:
            alarms = tuple(
                a.name for a in stack.alarms if ("FunctionName", fn) in tuple(a.dimensions)
            )
            guard = next((g for g in stack.groups if g.function == fn), None)
            group = guard.name if guard is not None else None
            if not alarms and guard is not None:
                # the faithful seed's alarms have no dimensions: the ones guarding this
                # function are those its deployment group stops on
                alarms = tuple(guard.alarms)
        pc = provisioned.get((fn, route.alias or ""))
        functions.append(
            FunctionFacts(
                name=fn,
                # relative to api_url: on a twin of several stages it carries its stage
                path=(dataplane.url(path)[len(sandbox.api_url) :] or "/") if dataplane else path,
                alias=route.alias or "$LATEST",
                provisioned_concurrency=pc.requested if pc is not None else 0,
                alarms=alarms,
                deployment_group=group,
            )
        )
    return SandboxFacts(
        account_id=cfg.account_id,
        region=cfg.region,
        stage=cfg.stage,
        endpoint_url=sandbox.endpoint_url,
        api_url=sandbox.api_url,
        application=stack.application if stack is not None else None,
        alert_topic=stack.topics[0].name if stack is not None and stack.topics else None,
        functions=tuple(functions),
    )
