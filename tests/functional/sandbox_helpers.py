"""Helpers shared by the sandbox's functional tests (not fixtures: plain functions)."""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_gameday.sandbox import Sandbox


def code_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


def make_function(
    sandbox: Sandbox,
    lam: Any,
    name: str,
    handler: Callable[[dict[str, Any], Any], Any],
    *,
    path: str | None = None,
    timeout: int = 3,
    env: dict[str, str] | None = None,
    alias: str = "live",
) -> str:
    """Create `name` through the API, run `handler` for it, publish version 1, point
    `alias` at it and (if `path`) serve it at `path`. Returns the published version."""
    assert sandbox.dataplane is not None and sandbox.dataplane.stack is not None
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=sandbox.dataplane.stack.role_arn,
        Handler="index.handler",
        Code={"ZipFile": code_zip()},
        Timeout=timeout,
        MemorySize=128,
        Environment={"Variables": env or {}},
    )
    sandbox.register_handler(name, handler)
    version: str = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    if path is not None:
        sandbox.dataplane.add_route(path, name, alias)
    return version


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def report_lines(logs: Any, function: str, start_ms: int) -> list[str]:
    """Every REPORT line of `function` since `start_ms`, via filter_log_events."""
    try:
        events = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{function}", startTime=start_ms, filterPattern="REPORT"
        )["events"]
    except logs.exceptions.ResourceNotFoundException:  # created by the first invocation's logs
        return []
    return [e["message"] for e in events]


FUNCTIONS = [
    ("hasivu-dev-health-comprehensive", "/health"),
    ("hasivu-dev-health-liveness", "/health/live"),
    ("hasivu-dev-health-readiness", "/health/ready"),
    ("hasivu-dev-health-startup", "/health/startup"),
]


def snapshot(client: Callable[[str], Any]) -> dict[str, Any]:
    """Everything a fault could leave behind."""
    lam, ssm = client("lambda"), client("ssm")
    state: dict[str, Any] = {}
    for fn, _ in FUNCTIONS:
        cfg = lam.get_function_configuration(FunctionName=fn)
        state[fn] = {
            "env": cfg.get("Environment", {}).get("Variables", {}),
            "layers": [x["Arn"] for x in cfg.get("Layers", [])],
            "timeout": cfg["Timeout"],
            "concurrency": lam.get_function_concurrency(FunctionName=fn).get(
                "ReservedConcurrentExecutions"
            ),
            "aliases": {
                a["Name"]: (
                    a["FunctionVersion"],
                    a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}),
                )
                for a in lam.list_aliases(FunctionName=fn)["Aliases"]
            },
        }
    names = [p["Name"] for p in ssm.describe_parameters(MaxResults=50)["Parameters"]]
    state["ssm"] = {n: ssm.get_parameter(Name=n)["Parameter"]["Value"] for n in sorted(names)}
    return state


def env(sandbox: Sandbox, ledger: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GAMEDAY_", "AWS_"))}
    out.update(sandbox.env())
    out.update(GAMEDAY_API_URL=sandbox.api_url, GAMEDAY_LEDGER=str(ledger), PYTHONUNBUFFERED="1")
    return out


def assert_started_insufficient(sandbox: Sandbox, alarm: dict[str, Any]) -> None:
    """A new alarm starts INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"). Its first
    evaluation comes at its next cadence boundary, which a slow start may already have
    crossed: then the twin's ground truth must show it left INSUFFICIENT_DATA from there."""
    if alarm["StateValue"] == "INSUFFICIENT_DATA":
        assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
        return
    first = sandbox.truth.wait_for("alarm", alarm["AlarmName"], timeout=5)
    assert first is not None, f"{alarm['AlarmName']} is {alarm['StateValue']} with no transition"
    assert (first.detail["old"], first.detail["new"]) == ("INSUFFICIENT_DATA", alarm["StateValue"])
