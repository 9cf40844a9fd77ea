"""The chaos runner as users run it, in subprocesses against the in-process sandbox:

* the stock `chaos run experiments/faulty-canary.json` with AWS_ENDPOINT_URL set writes a
  valid journal carrying the MTTR timeline;
* `gameday chaos` interrupted by SIGINT or SIGTERM at random (seeded) points, 20 times,
  leaves no fault behind;
* after SIGKILL, `gameday cleanup` removes what the killed run left.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import env, snapshot, wait_until

from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.sandbox import Sandbox

ROOT = Path(__file__).parents[2]

# Three faults of three kinds, then a pause long enough to be interrupted in.
TRIAL = {
    "version": "1.0.0",
    "title": "interrupt me",
    "description": "faults, then a pause",
    "extensions": [
        {"name": "gameday", "timeline": {"expect_alarm": False, "expect_rollback": False}}
    ],
    "controls": [
        {
            "name": "gameday-safety",
            "provider": {"type": "python", "module": "lambda_gameday.chaos.controls.safety"},
        }
    ],
    "method": [
        {
            "type": "action",
            "name": "canary",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "deploy_canary",
                "arguments": {
                    "function_name": "hasivu-dev-health-liveness",
                    "fault": "exception",
                    "weight": 0.5,
                },
            },
        },
        {
            "type": "action",
            "name": "throttle",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "throttle",
                "arguments": {"function_name": "hasivu-dev-health-startup"},
            },
        },
        {
            "type": "action",
            "name": "slow-redis",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.sandbox.actions",
                "func": "dependency_slow",
                "arguments": {"dependency": "redis", "latency_ms": 20},
            },
            "pauses": {"after": 3},
        },
    ],
    "rollbacks": [
        {
            "type": "action",
            "name": "remove",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "remove_faults",
                "arguments": {},
            },
        },
        {
            "type": "action",
            "name": "redis-up",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.sandbox.actions",
                "func": "dependency_up",
                "arguments": {"dependency": "redis"},
            },
        },
    ],
}


def test_stock_chaos_run_writes_a_valid_journal(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    before = snapshot(sandbox_client)
    journal_path = tmp_path / "journal.json"
    chaos = Path(sys.executable).parent / "chaos"
    proc = subprocess.run(
        [
            str(chaos),
            "--no-log-file",
            "run",
            "--journal-path",
            str(journal_path),
            str(ROOT / "experiments" / "faulty-canary.json"),
        ],
        env=env(sandbox, tmp_path / "ledger.jsonl"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    journal = json.loads(journal_path.read_text())
    for key in (
        "chaoslib-version",
        "experiment",
        "start",
        "end",
        "status",
        "steady_states",
        "run",
        "rollbacks",
        "deviated",
    ):
        assert key in journal
    assert journal["status"] == "completed" and journal["deviated"] is False
    assert [r["status"] for r in journal["run"]] == ["succeeded"] * 6
    timeline = journal["gameday"]["timeline"]
    assert timeline["broken_phase"] is None and timeline["within_budget"] is True
    assert timeline["alarm"] == "hasivu-dev-health-liveness-error-rate"
    assert Ledger(tmp_path / "ledger.jsonl").open_entries() == []
    after = snapshot(sandbox_client)
    assert after == before


def spawn(sandbox: Sandbox, target: Path, experiment: Path, ledger: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lambda_gameday.cli",
            "chaos",
            str(experiment),
            "--target",
            str(target),
            "--ledger",
            str(ledger),
        ],
        env=env(sandbox, ledger),
        cwd=experiment.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _injected_or_done(proc: subprocess.Popen[str], ledger: Path) -> bool:
    if proc.poll() is not None:
        return True
    return ledger.exists() and any(e.injected_at for e in Ledger(ledger).entries())


def test_interrupted_runs_leave_no_fault_behind(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    experiment = tmp_path / "trial.json"
    experiment.write_text(json.dumps(TRIAL))
    baseline = snapshot(sandbox_client)
    rng = random.Random(20240605)
    injected_before_signal = 0
    for trial in range(20):
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        ledger = tmp_path / f"ledger-{trial}.jsonl"
        proc = spawn(sandbox, target_file, experiment, ledger)
        # Odd trials interrupt at a seeded point after a fault is in place (a condition, so
        # a slow runner cannot turn them into start-up interruptions); even ones at a
        # seeded instant from start-up on, wherever the run has got to.
        if trial % 2:
            wait_until(lambda p=proc, path=ledger: _injected_or_done(p, path), timeout=60)
        delay = rng.uniform(0.0, 1.5) if trial % 2 else rng.uniform(0.3, 3.0)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        injected_before_signal += any(e.injected_at for e in Ledger(ledger).entries())
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
        state = snapshot(sandbox_client)
        assert state == baseline, f"trial {trial}: {sig.name} after {delay:.2f}s left\n{out}"
        assert Ledger(ledger).open_entries() == [], f"trial {trial}\n{out}"
        assert "Traceback" not in out or proc.returncode != 130, out
    # the seeded points really hit runs with faults in place, not only startup
    assert injected_before_signal >= 10


def test_after_sigkill_cleanup_removes_the_faults(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    experiment = tmp_path / "trial.json"
    experiment.write_text(json.dumps(TRIAL))
    baseline = snapshot(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    proc = spawn(sandbox, target_file, experiment, ledger)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if sum(1 for e in Ledger(ledger).entries() if e.injected_at) == 3:
            break
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=10)
    assert snapshot(sandbox_client) != baseline  # the kill left faults in place
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "cleanup", "--ledger", str(ledger)],
        env=env(sandbox, ledger),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("removed:") == 3
    assert snapshot(sandbox_client) == baseline


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_an_experiment_is_130_not_a_platform_failure(
    sandbox: Sandbox,
    sandbox_client: Callable[[str], Any],
    target_file: Path,
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    # GIVEN the faulty canary running, its fault injected (the ledger says so)
    experiment = Path(__file__).resolve().parents[2] / "experiments" / "faulty-canary.json"
    baseline = snapshot(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    proc = spawn(sandbox, target_file, experiment, ledger)
    deadline = time.monotonic() + 60
    while not any(e.injected_at for e in Ledger(ledger).entries()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the fault was never injected"
        time.sleep(0.02)
    # WHEN the run is signalled (a cancelled CI job sends SIGTERM)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    # THEN it exits 130 with the faults removed, and reads as an interruption, not a
    # broken hypothesis (chaoslib's own SIGTERM handler makes the running activity fail)
    assert proc.returncode == 130, out
    assert "interrupted; faults removed" in out
    assert "broke" not in out and "OVER budget" not in out
    assert Ledger(ledger).open_entries() == []
    assert snapshot(sandbox_client) == baseline


# Dies as SIGKILL would, at the one instant that matters: CreateDeployment has answered and
# the deployment's own ledger entry is about to be written.
_KILLED_AFTER_CREATE_DEPLOYMENT = """
import os, sys
from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.cli import main

record = Ledger.record

def dies_before_the_deployment_entry(self, kind, *args, **kwargs):
    if kind == "deployment":
        os._exit(137)
    return record(self, kind, *args, **kwargs)

Ledger.record = dies_before_the_deployment_entry
sys.argv = ["gameday", *sys.argv[1:]]
main()
"""


def test_a_kill_before_the_deployment_is_ledgered_still_leaves_nothing_after_cleanup(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    # GIVEN a canary through CodeDeploy whose run dies right after CreateDeployment answered
    experiment = tmp_path / "canary.json"
    canary = {**TRIAL["method"][0]}  # type: ignore[index]
    canary["provider"] = {
        **canary["provider"],
        "arguments": {
            "function_name": "hasivu-dev-health-liveness",
            "fault": "exception",
            "via": "codedeploy",
            "application": "hasivu-dev",
            "deployment_group": "hasivu-dev-health-liveness",
        },
    }
    experiment.write_text(json.dumps({**TRIAL, "method": [canary]}))
    baseline = snapshot(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_CREATE_DEPLOYMENT, "chaos", str(experiment),
         "--target", str(target_file), "--ledger", str(ledger)],
        env=env(sandbox, ledger), cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert killed.returncode == 137, killed.stdout + killed.stderr
    cd = sandbox_client("codedeploy")
    active = cd.list_deployments(
        applicationName="hasivu-dev",
        deploymentGroupName="hasivu-dev-health-liveness",
        includeOnlyStatuses=["Created", "Queued", "InProgress", "Baking", "Ready"],
    )["deployments"]
    assert len(active) == 1  # shifting traffic, and no ledger entry names its id
    assert [e.kind for e in Ledger(ledger).open_entries()] == ["canary"]
    # WHEN cleanup replays the ledger
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "cleanup", "--ledger", str(ledger)],
        env=env(sandbox, ledger), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # THEN it found the deployment by the marker the canary's entry carries, stopped it
    # (nothing shifts the alias afterwards), and everything is as before
    assert done.returncode == 0, done.stdout + done.stderr
    status = cd.get_deployment(deploymentId=active[0])["deploymentInfo"]["status"]
    assert status == "Stopped"
    assert Ledger(ledger).open_entries() == []
    assert snapshot(sandbox_client) == baseline
