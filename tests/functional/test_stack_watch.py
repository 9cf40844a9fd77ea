"""The state watcher diffs moto's state only when something may have changed (issue 14,
scale): reads and invocations cost it nothing, a write through the AWS endpoint is seen
on the next tick, an in-process poke at once. Its periodic full diff (the safety net) is
switched off here, so every diff counted is one a change caused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from lambda_gameday.sandbox import Sandbox
from lambda_gameday.sandbox.dependencies import DEPENDENCY_PARAM_PREFIX


def test_watcher_diffs_on_writes_not_on_reads_or_traffic(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    assert sandbox.dataplane is not None
    watcher = sandbox.dataplane.watcher
    watcher.full_interval_s = 3600.0  # no safety-net diff during the test
    lam, ssm = sandbox_client("lambda"), sandbox_client("ssm")
    fn = sandbox.function_name("health-liveness")
    try:
        # settle: whatever the start wrote has been diffed (a poke takes the lock)
        watcher.poke()
        before = watcher.diffs
        # GIVEN traffic through the gateway and reads of the control plane
        with httpx.Client(base_url=sandbox.api_url, timeout=10) as http:
            for _ in range(30):
                assert http.get("/health/live").status_code == 200
        for _ in range(5):
            lam.get_alias(FunctionName=fn, Name="production")
            lam.list_functions()
            ssm.get_parameter(Name=DEPENDENCY_PARAM_PREFIX + "database")
        lam.invoke(FunctionName=fn, Qualifier="production")
        # THEN none of it marked the watcher dirty, and it diffed nothing
        assert not watcher.dirty
        assert watcher.diffs == before

        # WHEN a dependency's parameter changes through the AWS endpoint (SSM is not
        # intercepted, so only the dirty mark can make the watcher see it)
        at = sandbox.truth.events()[-1].at if sandbox.truth.events() else 0.0
        ssm.put_parameter(
            Name=DEPENDENCY_PARAM_PREFIX + "database",
            Value=json.dumps({"state": "down", "latency_ms": 0}),
            Type="String",
            Overwrite=True,
        )
        # THEN the next tick records it
        event = sandbox.truth.wait_for("dependency", "database", timeout=10, after=at)
        assert event is not None and event.detail["state"] == "down"
        assert watcher.diffs > before
    finally:
        ssm.put_parameter(
            Name=DEPENDENCY_PARAM_PREFIX + "database",
            Value=json.dumps({"state": "up", "latency_ms": 0}),
            Type="String",
            Overwrite=True,
        )
        watcher.full_interval_s = 1.0
