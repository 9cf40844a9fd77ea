"""Lambda probes: what the alias serves, seen from the control plane and from users."""

from __future__ import annotations

import time
from collections import Counter
from typing import TypedDict

from ...aws import Throttled, aws_errors
from ...exceptions import GamedayError
from ..faults import scope
from ..run import run_of

__all__ = [
    "AliasState",
    "TrafficSplit",
    "alias_routing",
    "observed_split",
    "wait_for_alias_version",
]


class AliasState(TypedDict):
    function: str
    alias: str
    version: str
    weights: dict[str, float]
    observed_at: float  # when this process saw it (Lambda keeps no alias timestamp)


class TrafficSplit(TypedDict):
    probes: int
    versions: dict[str, int]
    shares: dict[str, float]


def alias_routing(
    function_name: str, alias: str = "production", configuration: dict[str, object] | None = None
) -> AliasState:
    """The alias's version and additional version weights right now."""
    sc = scope(configuration)
    with aws_errors(f"reading alias {function_name}:{alias}"):
        got = sc.clients.lambda_().get_alias(FunctionName=function_name, Name=alias)
    weights = got.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
    return AliasState(
        function=function_name,
        alias=alias,
        version=got["FunctionVersion"],
        weights={k: float(v) for k, v in weights.items()},
        observed_at=time.time(),
    )


def _stable_version(
    function: str, alias: str, configuration: dict[str, object] | None
) -> str | None:
    sc = scope(configuration)
    for entry in sc.ledger.entries():
        if entry.run_id != sc.ledger.run_id or entry.resource != f"{function}:{alias}":
            continue
        for step in entry.undo:
            if step["op"] == "restore_alias":
                return step["version"]
    return None


def wait_for_alias_version(
    function_name: str,
    alias: str = "production",
    version: str | None = None,
    timeout_s: float = 120.0,
    configuration: dict[str, object] | None = None,
) -> AliasState:
    """Wait until the alias serves only `version` (default: the version it served before
    this run's canary) with no additional weights."""
    wanted = version or _stable_version(function_name, alias, configuration)
    if wanted is None:
        raise GamedayError(
            f"no version given and no canary of {function_name}:{alias} in this run's ledger"
        )
    run = run_of(configuration)
    pause = scope(configuration).clients.poll_interval(0.1)
    deadline = time.monotonic() + timeout_s
    state: AliasState | None = None
    while True:
        run.check_abort()
        try:
            state = alias_routing(function_name, alias, configuration)
        except Throttled:
            if state is None and time.monotonic() > deadline:
                raise
        if state is None:
            time.sleep(pause)
            continue
        if state["version"] == wanted and not any(state["weights"].values()):
            return state
        if time.monotonic() > deadline:
            raise GamedayError(
                f"alias {function_name}:{alias} still serves {state['version']}"
                f" with weights {state['weights']} after {timeout_s:g}s (wanted only {wanted})"
            )
        time.sleep(pause)


def observed_split(
    path: str | None = None,
    since: float | None = None,
    configuration: dict[str, object] | None = None,
) -> TrafficSplit:
    """The traffic split users actually saw: the serving version each answer of the
    background traffic named itself (the target's `version_source`; "unknown" when it
    names none — API Gateway passes no version header), in this run (optionally one path,
    since an epoch time)."""
    probes = [
        p
        for p in run_of(configuration).recorded()
        if (path is None or p.path == path) and (since is None or p.sent_at >= since)
    ]
    counts = Counter(p.version or "unknown" for p in probes)
    total = sum(counts.values())
    return TrafficSplit(
        probes=total,
        versions=dict(counts),
        shares={v: n / total for v, n in counts.items()} if total else {},
    )
