"""The policy `gameday iam-policy` prints is what a game day needs, and no less: on the
sandbox in IAM mode, with exactly that policy, the game day passes; with one action the
run needs removed, it stops with one line naming the action and the resource (exit 3),
no traceback, and nothing of its faults left in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_gameday.cli.sandbox_cmd import target_toml
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.describe import describe

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"

# Every kind of phase that reads (conformance, lint, synthetics) and one destructive chaos
# phase (a faulty canary shipped through CodeDeploy, rolled back by its alarm).
PLAN = """
name: iam-gameday
phases:
  - phase: conformance
    fail_on: never
  - phase: lint
    fail_on: never
  - phase: synthetics
    probes: 600
    endpoints: [/health/live]
  - phase: chaos
    experiments: [faulty-canary]
    load_users: 2
"""

# Called only after the canary's new version is published: a fault is then half made.
REMOVED = "codedeploy:CreateDeployment"


def gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "200"},
    )


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = []
    for st in policy["Statement"]:
        acts = [a for a in st["Action"] if a != action]
        if acts:
            statements.append({**st, "Action": acts})
    return {**policy, "Statement": statements}


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The plan file and the policy `gameday iam-policy` prints for it on the sandbox's
    layout (what `gameday sandbox --target-out` describes), for a run with `--publish`."""
    d = tmp_path_factory.mktemp("iam-gameday")
    plan = d / "plan.yml"
    plan.write_text(PLAN)
    done = gameday(
        "iam-policy", "--plan", str(plan), "--account-id", ACCOUNT, "--publish", cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return plan, json.loads(done.stdout)


def _platform(sb: Sandbox, service: str) -> Any:
    """The sandbox's own (exempt) credentials: the test reads ground truth, not the harness."""
    return boto3.session.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=sb.config.region
    ).client(service, endpoint_url=sb.endpoint_url)  # type: ignore[call-overload]


@pytest.fixture
def run_with(tmp_path: Path) -> Any:
    def run(plan: Path, policy: dict[str, Any]) -> tuple[subprocess.CompletedProcess[str], Any]:
        path = tmp_path / "policy.json"
        path.write_text(json.dumps(policy))
        config = SandboxConfig(init_duration_ms=100.0, seed=7, iam_policy=str(path))
        with Sandbox(config) as sb:
            target = tmp_path / "target.toml"
            target.write_text(target_toml(describe(sb)))
            fn = sb.function_name("health-liveness")
            lam = _platform(sb, "lambda")
            before = lam.get_alias(FunctionName=fn, Name="production")["FunctionVersion"]
            done = gameday(
                "run",
                "--plan",
                str(plan),
                "--target",
                str(target),
                "--report-dir",
                str(tmp_path / "reports"),
                "--db",
                str(tmp_path / "history.sqlite3"),
                "--publish",  # PutMetricData, allowed only in the run's namespaces
                cwd=tmp_path,
            )
            # ground truth: the alias serves what it served, all of it; no canary switch
            alias = lam.get_alias(FunctionName=fn, Name="production")
            assert alias["FunctionVersion"] == before
            assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
            params = _platform(sb, "ssm").get_parameters_by_path(Path="/gameday", Recursive=True)
            assert params["Parameters"] == []  # neither the canary's switch nor the lock
            assert sb.iam is not None
            return done, list(sb.iam.denied)

    return run


pytestmark = pytest.mark.slow


def test_the_printed_policy_runs_the_game_day_and_one_action_less_stops_it(
    printed: tuple[Path, dict[str, Any]], run_with: Any
) -> None:
    plan, policy = printed
    assert any(REMOVED in st["Action"] for st in policy["Statement"])

    assert any("Condition" in st for st in policy["Statement"])  # evaluated by the twin
    # GIVEN exactly the printed policy: the game day passes and nothing was refused
    done, denied = run_with(plan, policy)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "PASS: iam-gameday" in done.stdout
    assert denied == []

    # GIVEN the same policy less one action the chaos phase needs
    done, denied = run_with(plan, without(policy, REMOVED))
    group = f"arn:aws:codedeploy:ap-south-1:{ACCOUNT}:deploymentgroup:hasivu-dev/"
    assert denied and denied[0][0] == REMOVED and denied[0][1].startswith(group)
    # THEN it stops as "target unusable" (exit 3) with one line naming action and resource
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gameday: TARGET UNUSABLE")
    assert f"{REMOVED} on {denied[0][1]} is not allowed" in lines[0]
    # the phases before it ran and passed; the faults are gone (checked in run_with)
    assert "conformance passed" in done.stdout and "synthetics  passed" in done.stdout


def test_a_run_lock_it_may_not_take_stops_the_run_before_any_phase(
    printed: tuple[Path, dict[str, Any]], run_with: Any
) -> None:
    plan, policy = printed
    done, denied = run_with(plan, without(policy, "ssm:PutParameter"))
    lock = f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter/gameday/lock"
    assert denied == [("ssm:PutParameter", lock)]  # refused, never run unlocked
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"ssm:PutParameter on {lock} is not allowed" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert "conformance" not in done.stdout  # no phase ran


DRILLS = """
name: iam-drills
phases:
  - phase: chaos
    experiments: [alarm-notification-drill, dependency-outage]
    load_users: 2
"""


def test_the_drills_queue_and_denylist_run_on_their_printed_policy(
    tmp_path: Path, run_with: Any
) -> None:
    """The notification drill's queue (created by name, its policy set and removed) and the
    dependency outage's failure-lambda denylist parameters (created, then deleted)."""
    plan = tmp_path / "drills.yml"
    plan.write_text(DRILLS)
    printed = gameday(
        "iam-policy", "--plan", str(plan), "--account-id", ACCOUNT, "--publish", cwd=ROOT
    )
    assert printed.returncode == 0, printed.stderr
    done, denied = run_with(plan, json.loads(printed.stdout))
    assert denied == []
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "PASS: iam-drills" in done.stdout
