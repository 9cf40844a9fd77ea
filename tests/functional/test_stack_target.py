"""`gameday target init` on each stack fixture, then `gameday run` against the twin built
from the same file: the phases that apply to any stack (synthetic checks of every GET
route, cold starts) pass with the target's names and nothing of the seed's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import boto3
import pytest

from lambda_gameday.config import load_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"

# (file, params, {path: function}, {path: deployment group or None})
CASES = {
    "sam": (
        STACKS / "sam-app" / "template.yaml",
        ["AlarmPeriod=1"],
        {"/orders": "shop-orders", "/catalog": "shop-catalog"},
    ),
    "cdk": (
        STACKS / "cdk-app" / "GreeterStack.template.json",
        ["AlarmPeriod=1"],
        {"/greetings": "GreeterStack-GreeterFunction5E6F7A8B"},
    ),
    "sls": (
        STACKS / "sls-app" / "serverless.yml",
        [],
        {"/notes": "notes-dev-listNotes", "/stats": "notes-dev-getStats"},
    ),
}

PLAN = """
name: any-stack
phases:
  - phase: synthetics
    probes: 600  # enough to assert 99.5 % availability (598 clean); 20 is INCONCLUSIVE
  - phase: coldstart
    warm_requests: 3
"""


def gameday(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_target_init_then_run_passes(name: str, tmp_path: Path) -> None:
    file, params, paths = CASES[name]
    config = SandboxConfig(
        stack_file=str(file), stack_parameters=dict(p.split("=", 1) for p in params)
    )
    with Sandbox(config) as sb:
        target_file = tmp_path / "target.toml"
        init = gameday(
            "target", "init", "--stack", str(file), *[a for p in params for a in ("--param", p)],
            "--kind", "sandbox", "--region", sb.config.region, "--api-url", sb.api_url,
            "--endpoint-url", sb.endpoint_url, "--out", str(target_file),
            cwd=tmp_path,
        )  # fmt: skip
        assert init.returncode == 0, init.stderr
        # Latency budgets for a shared, loaded test machine: the test is about the harness
        # running on any stack, not about this machine's speed (the defaults stay in init's
        # output, checked in the test below).
        text = target_file.read_text()
        text = text.replace("health_latency_ms = 100", "health_latency_ms = 2000")
        target_file.write_text(text.replace("cold_start_ms = 500", "cold_start_ms = 5000"))
        target = load_target(target_file)
        assert (target.slos.health_latency_ms, target.slos.cold_start_ms) == (2000, 5000)
        assert {f.path: f.name for f in target.functions} == paths
        assert not any("hasivu" in f.name for f in target.functions)
        # every alias, alarm and group the target names exists on the twin
        session = boto3.session.Session(
            aws_access_key_id="t", aws_secret_access_key="t", region_name=sb.config.region
        )
        lam = session.client("lambda", endpoint_url=sb.endpoint_url)
        cw = session.client("cloudwatch", endpoint_url=sb.endpoint_url)
        cd = session.client("codedeploy", endpoint_url=sb.endpoint_url)
        for fn in target.functions:
            assert lam.get_alias(FunctionName=fn.name, Name=fn.alias)["Name"] == fn.alias
        if target.alarms:
            found = cw.describe_alarms(AlarmNames=list(target.alarms))["MetricAlarms"]
            assert {a["AlarmName"] for a in found} == set(target.alarms)
        assert target.application is not None
        for group in target.deployment_groups:
            cd.get_deployment_group(applicationName=target.application, deploymentGroupName=group)
        shown = gameday("target", str(target_file), cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr  # `gameday target FILE` still works

        plan = tmp_path / "plan.yml"
        plan.write_text(PLAN)
        run = gameday(
            "run", "--plan", str(plan), "--target", str(target_file),
            "--report-dir", str(tmp_path / "reports"), "--no-history",
            cwd=tmp_path,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr
        (report,) = (tmp_path / "reports").glob("*/report.json")
        result = json.loads(report.read_text())
        text = json.dumps(result)
        for path in paths:
            assert path in text
        assert "/health/live" not in text


def test_target_init_writes_groups_alarms_and_skipped_routes(tmp_path: Path) -> None:
    file, _, _ = CASES["sls"]
    out = gameday("target", "init", "--stack", str(file), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "# not a target function: POST /notes/new" in out.stdout
    assert "https://REPLACE-WITH-API-ID.execute-api.us-east-1.amazonaws.com/dev" in out.stdout
    data = tomllib.loads(out.stdout)
    by_path = {f["path"]: f for f in data["functions"]}
    assert by_path["/notes"]["deployment_group"] == "notes-dev-listNotes"
    assert by_path["/notes"]["alarms"] == ["notes-dev-listNotes-functionErrors"]
    assert by_path["/stats"]["deployment_group"] == "notes-dev-getStats"
    assert "alarms" not in by_path["/stats"]
    assert data["deployment_groups"] == ["notes-dev-listNotes", "notes-dev-getStats"]
    assert data["alert_topic"] == "notes-dev-alerts"
    assert data["slo"]["mttr_s"] == 120
