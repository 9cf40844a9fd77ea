"""What the repository hands to users stays safe to copy: the GitHub Actions example passes
inputs through `env:` only, and the Locust docs never bind the master to every interface."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflow_inputs_never_reach_a_script_directly() -> None:
    workflow = yaml.safe_load((ROOT / "examples/github-actions-gameday.yml").read_text())
    scripts = [step["run"] for step in _steps(workflow) if "run" in step]
    assert scripts
    for script in scripts:
        # any expression inside `run:` is pasted into the script before bash parses it
        assert "${{" not in script, script
    envs = [step.get("env", {}) for step in _steps(workflow)]
    assert any("github.event.inputs.plan" in str(v) for e in envs for v in e.values())


def test_locust_master_stays_off_the_network_in_the_docs() -> None:
    text = (ROOT / "docs/load.md").read_text()
    binds = re.findall(r"--master-bind-host\s+(\S+)", text)
    assert binds and set(binds) == {"127.0.0.1"}
    assert "no authentication" in text and ("tunnel" in text and "VPN" in text)
