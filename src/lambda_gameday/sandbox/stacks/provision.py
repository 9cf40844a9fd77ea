"""Create a stack file's functions, versions, aliases and routes in a running twin.

Goes through the sandbox's own AWS endpoint (so every call meets the same validation users
hit). The data plane has already created the HASIVU seed: seed functions the stack names
keep their seed handlers; the others are deleted with their routes, so the twin serves the
file's API and nothing else. A function the twin cannot run gets `handlers.stand_in`.
Alarms, topics and deployment groups follow through `serverless_stack.provision`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..handlers import HEALTH_HANDLERS, Handler, stand_in, stand_in_hook
from ..serverless_stack import FunctionDef, StackSpec
from ..stack import code_zip, lambda_role

if TYPE_CHECKING:
    from ..core import Sandbox

__all__ = ["function_names", "provision_functions"]

_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def function_names(lam: Any) -> set[str]:
    """The names of every function the Lambda client's account has (all pages)."""
    return {
        f["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    }


def provision_functions(
    sandbox: Sandbox, stack: StackSpec, clients: dict[str, Any], *, only: bool = True
) -> list[str]:
    """Create the stack's functions, versions, aliases and routes; returns warnings.
    `only`: the stack is the twin's whole API (other functions and routes are removed)."""
    from ..gateway import Route

    lam, iam = clients["lambda"], clients["iam"]
    warnings: list[str] = []
    wanted = {f.name for f in stack.functions}
    existing = function_names(lam)
    if only:  # the seed's functions the stack does not name (others' are not ours to drop)
        cfg = sandbox.config
        seed = {f"{cfg.service}-{cfg.stage}-{short}" for short in HEALTH_HANDLERS}
        for name in sorted((existing & seed) - wanted):
            lam.delete_function(FunctionName=name)
        for path in [p for p, r in sandbox.routes.items() if r.function not in wanted]:
            del sandbox.routes[path]

    role = lambda_role(iam, f"{stack.application}-sandbox-lambda-role"[:64])
    code = code_zip()
    hooks = {h for g in stack.groups for h in (g.pre_traffic_hook, g.post_traffic_hook) if h}
    for fdef in stack.functions:
        if fdef.name not in existing:
            handler = (
                stand_in_hook(sandbox.endpoint_url, sandbox.config.region)
                if fdef.name in hooks
                else stand_in
            )
            _create(sandbox, lam, fdef, role, code, handler)
        _routes(sandbox, stack, fdef, warnings, Route)
    if sandbox.dataplane is not None:  # the stages may differ from the seed's one
        sandbox.dataplane.refresh_api_url()
    return warnings


def _create(
    sandbox: Sandbox, lam: Any, fdef: FunctionDef, role: str, code: bytes, handler: Handler
) -> None:
    lam.create_function(
        FunctionName=fdef.name,
        Runtime=fdef.runtime if fdef.runtime != "image" else "python3.12",
        Role=role,
        Handler=fdef.handler or "index.handler",
        Code={"ZipFile": code},
        MemorySize=fdef.memory_mb,
        Timeout=fdef.timeout_s,
        Environment={"Variables": dict(fdef.environment)},
    )
    sandbox.register_handler(fdef.name, handler)
    needed = max(
        [fdef.versions]
        + [int(a.version) for a in fdef.aliases if a.version.isdigit()]
        + [int(v) for a in fdef.aliases for v, _ in a.weights if v.isdigit()]
    )
    for _ in range(needed):
        lam.publish_version(FunctionName=fdef.name)
    for alias in fdef.aliases:
        kwargs: dict[str, Any] = {}
        if alias.weights:
            kwargs["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
        lam.create_alias(
            FunctionName=fdef.name, Name=alias.name, FunctionVersion=alias.version, **kwargs
        )
        if alias.provisioned:
            lam.put_provisioned_concurrency_config(
                FunctionName=fdef.name,
                Qualifier=alias.name,
                ProvisionedConcurrentExecutions=alias.provisioned,
            )


def _routes(
    sandbox: Sandbox, stack: StackSpec, fdef: FunctionDef, warnings: list[str], route_type: Any
) -> None:
    for route in fdef.routes:
        path = route.path.rstrip("/") or "/"
        methods = _ALL_METHODS if route.method == "ANY" else (route.method,)
        current = sandbox.routes.get(path)
        if current is not None and (current.function, current.alias) != (fdef.name, route.alias):
            warnings.append(
                f"route {route.method} {path} of {fdef.name} is not served: the twin's gateway "
                f"serves {path} by {current.function} already (one function per path)"
            )
            continue
        if current is not None:
            methods = tuple(dict.fromkeys((*current.methods, *methods)))
        sandbox.routes[path] = route_type(
            path, fdef.name, route.alias, methods, route.api, route.stage_name(stack.stage)
        )
