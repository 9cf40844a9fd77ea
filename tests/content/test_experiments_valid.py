"""Every experiment in experiments/ is valid for Chaos Toolkit, uses only activities this
extension exports (with arguments their signatures accept), always rolls back, and
declares the safety and traffic controls — so `chaos run` alone is safe."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import ensure_experiment_is_valid

from lambda_gameday.chaos import ACTIVITY_MODULES, discover

EXPERIMENTS = sorted((Path(__file__).parents[2] / "experiments").glob("*.json"))
WANTED = {
    "faulty-canary",
    "latency-canary",
    "throttling",
    "timeout-regression",
    "dependency-outage",
    "manual-rollback-drill",
    "alarm-notification-drill",
}


def test_the_owner_s_experiments_are_all_there() -> None:
    assert {p.stem for p in EXPERIMENTS} >= WANTED


def activities(exp: dict[str, Any]) -> list[dict[str, Any]]:
    return (
        list(exp.get("steady-state-hypothesis", {}).get("probes", []))
        + list(exp.get("method", []))
        + list(exp.get("rollbacks", []))
    )


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_is_valid_and_safe(path: Path) -> None:
    exp = json.loads(path.read_text())
    ensure_experiment_is_valid(json.loads(path.read_text()))
    # one hypothesis, with rollbacks that always run and the harness's controls
    assert exp["steady-state-hypothesis"]["probes"]
    assert exp["runtime"]["rollbacks"]["strategy"] == "always"
    assert exp["rollbacks"], "every experiment undoes its faults"
    modules = {c["provider"]["module"] for c in exp["controls"]}
    assert {
        "lambda_gameday.chaos.controls.safety",
        "lambda_gameday.chaos.controls.traffic",
    } <= modules
    for act in activities(exp):
        prov = act["provider"]
        assert prov["type"] == "python"
        mod = importlib.import_module(prov["module"])
        assert prov["func"] in mod.__all__, f"{prov['module']}.{prov['func']} is not exported"
        params = inspect.signature(getattr(mod, prov["func"])).parameters
        unknown = set(prov.get("arguments", {})) - set(params)
        assert not unknown, f"{act['name']}: unknown arguments {unknown}"


def test_discovery_lists_every_exported_activity() -> None:
    found = {(a["mod"], a["name"]) for a in discover(discover_system=False)["activities"]}
    for module, _ in ACTIVITY_MODULES:
        for name in importlib.import_module(module).__all__:
            if inspect.isfunction(getattr(importlib.import_module(module), name)):
                assert (module, name) in found
    doc = next(a for a in discover()["activities"] if a["name"] == "deploy_canary")
    assert "LastUpdateStatus" in doc["doc"]
