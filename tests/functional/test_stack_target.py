"""`gameday target init` on each stack fixture, then `gameday run` against the twin built
from the same file: the phases that apply to any stack (synthetic checks of every GET
route, cold starts, a short load on the target's routes) pass with the target's names and
nothing of the seed's, and the faulty-canary drill, aimed at a route by the plan, rolls back
where the route's group has alarms and is skipped, with the reason, where it has none."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_gameday.chaos import names
from lambda_gameday.chaos.runner import resolve_experiment
from lambda_gameday.config import load_target
from lambda_gameday.exceptions import ConfigError
from lambda_gameday.gameday.phases.chaos import retarget
from lambda_gameday.sandbox import Sandbox, SandboxConfig

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"

# (file, params, {path: function}, guarded route, (unguarded route, its group) or None)
CASES = {
    "sam": (
        STACKS / "sam-app" / "template.yaml",
        ["AlarmPeriod=1"],
        # REST routes on SAM's stage Prod, the HTTP API's on $default: one host in the twin
        {"/Prod/orders": "shop-orders", "/catalog": "shop-catalog"},
        "/Prod/orders",
        ("/catalog", "sam-app-CatalogFunctionDeploymentGroup"),
    ),
    "cdk": (
        STACKS / "cdk-app" / "GreeterStack.template.json",
        ["AlarmPeriod=1"],
        {"/greetings": "GreeterStack-GreeterFunction5E6F7A8B"},
        "/greetings",
        None,
    ),
    "sls": (
        STACKS / "sls-app" / "serverless.yml",
        [],
        {"/dev/notes": "notes-dev-listNotes", "/stats": "notes-dev-getStats"},
        "/dev/notes",
        ("/stats", "notes-dev-getStats"),
    ),
}

PLAN = """
name: any-stack
phases:
  - phase: synthetics
    probes: 600  # enough to assert 99.5 % availability (598 clean); 20 is INCONCLUSIVE
  - phase: coldstart
    warm_requests: 3
  - phase: load
    duration_s: 3
    users: 2
    warmup_s: 0
  - phase: chaos
    name: drill
    experiments: [faulty-canary]
    function: {guarded}
"""

UNGUARDED = """
  - phase: chaos
    name: drill-unguarded
    experiments: [faulty-canary]
    function: {unguarded}
"""


# The faulty canary's fault is failure-lambda's (an exception thrown by the new version
# only), so, as on AWS, the drill needs the stack's handlers wrapped with failure-lambda:
# the test stacks are the fixtures as a team instrumented for drills writes them, with
# FAILURE_INJECTION_PARAM set (without it the preflight refuses the drill, naming the fix).
INSTRUMENTED = {
    "template.yaml": (
        "        TABLE_NAME: shop-orders\n",
        "        FAILURE_INJECTION_PARAM: /shop/failure-lambda\n",
    ),
    "GreeterStack.template.json": (
        '"Variables": {"STAGE": {"Ref": "Stage"}',
        ', "FAILURE_INJECTION_PARAM": "/greeter/failure-lambda"',
    ),
    "serverless.yml": (
        "    NOTES_TABLE: ${self:service}-${self:provider.stage}-notes\n",
        "    FAILURE_INJECTION_PARAM: /notes/failure-lambda\n",
    ),
}


def instrumented(file: Path, tmp_path: Path) -> Path:
    """A copy of the fixture's directory (same name: SAM names the stack after it) whose
    functions are wrapped with failure-lambda."""
    copy = shutil.copytree(file.parent, tmp_path / file.parent.name) / file.name
    anchor, added = INSTRUMENTED[file.name]
    text = copy.read_text()
    assert text.count(anchor) == 1, anchor
    copy.write_text(text.replace(anchor, anchor + added))
    return copy


def gameday(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def run_plan(
    plan: Path, target_file: Path, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`gameday run` of the plan on the target, which must exit 0, and its report.json."""
    run = gameday(
        "run", "--plan", str(plan), "--target", str(target_file),
        "--report-dir", str(tmp_path / "reports"), "--no-history",
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    (report,) = (tmp_path / "reports").glob("*/report.json")
    doc: dict[str, Any] = json.loads(report.read_text())
    return run, doc


@pytest.mark.parametrize("name", sorted(CASES))
def test_target_init_then_run_passes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture, params, paths, guarded, unguarded = CASES[name]
    file = instrumented(fixture, tmp_path)
    monkeypatch.setenv("NOTES_ALARM_PERIOD", "1")  # the Serverless fixture's alarm period
    # A deployment "minute" of 3 s keeps detection (1 s alarm periods) inside the first
    # linear steps on a loaded runner, as on AWS (test_stack_twin.py says why).
    config = SandboxConfig(
        stack_file=str(file),
        stack_parameters=dict(p.split("=", 1) for p in params),
        extra={"deploy_minute_s": 3},
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
        # ... and, as failure-lambda's setup asks, the functions' execution role may read
        # the fault parameters (the preflight refuses the drill otherwise, naming this fix)
        iam = session.client("iam", endpoint_url=sb.endpoint_url)
        roles = {
            lam.get_function(FunctionName=fn.name)["Configuration"]["Role"].rsplit("/", 1)[1]
            for fn in target.functions
        }
        for role in roles:
            iam.put_role_policy(
                RoleName=role,
                PolicyName="failure-lambda",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}
                        ],
                    }
                ),
            )
        if target.alarms:
            found = cw.describe_alarms(AlarmNames=list(target.alarms))["MetricAlarms"]
            assert {a["AlarmName"] for a in found} == set(target.alarms)
        assert target.application is not None
        for group in target.deployment_groups:
            cd.get_deployment_group(applicationName=target.application, deploymentGroupName=group)
        shown = gameday("target", str(target_file), cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr  # `gameday target FILE` still works

        plan = tmp_path / "plan.yml"
        plan.write_text(
            PLAN.format(guarded=guarded)
            + (UNGUARDED.format(unguarded=unguarded[0]) if unguarded else "")
        )
        run, result = run_plan(plan, target_file, tmp_path)
        phases = {p["name"]: p for p in result["phases"]}
        for phase in ("synthetics", "coldstart", "load", "drill"):
            assert phases[phase]["status"] == "passed", phases[phase]
        # the load mix was the target's routes, not the seed's health routes
        assert {e["path"] for e in phases["load"]["endpoints"]} == {f"{p} (load)" for p in paths}
        # the drill ran on the guarded route's names and was rolled back by the platform
        (drill,) = phases["drill"]["timelines"]
        labels = [e["label"] for e in drill["events"]]
        assert any(label.startswith("alarm") for label in labels), labels
        assert drill["recovered_by"] == "platform" and drill["mttr_s"] is not None, drill
        # a real CodeDeploy deployment in the route's own group, stopped by its alarm
        group = target.function(guarded).deployment_group
        ids = cd.list_deployments(applicationName=target.application, deploymentGroupName=group)[
            "deployments"
        ]
        infos = [cd.get_deployment(deploymentId=i)["deploymentInfo"] for i in ids]
        assert any(i["status"] == "Stopped" and "rollbackInfo" in i for i in infos), infos
        if unguarded:
            skip = phases["drill-unguarded"]
            assert skip["status"] == "skipped" and not skip["timelines"], skip
            reason = f"unguarded: {unguarded[1]} has no alarms; it rolls back only if a hook fails"
            assert reason in skip["message"]
            assert reason in " ".join(run.stdout.split())  # shown on the terminal too
            lint = gameday(
                "lint", "--template", str(file), *[a for p in params for a in ("--param", p)],
                cwd=tmp_path,
            )  # fmt: skip
            said = " ".join((lint.stdout + lint.stderr).split())
            finding = (
                rf"deployment of {re.escape(paths[unguarded[0]])}:\w+ has no alarms — unguarded"
            )
            assert re.search(finding, said), said
        text = json.dumps(result)
        for path in paths:
            assert path in text
        assert "/health/live" not in text


def test_target_init_writes_groups_alarms_and_skipped_routes(tmp_path: Path) -> None:
    file, *_ = CASES["sls"]
    out = gameday("target", "init", "--stack", str(file), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "# not a target function: POST /notes/new" in out.stdout
    assert "https://REPLACE-WITH-API-ID.execute-api.us-east-1.amazonaws.com/dev" in out.stdout
    # on AWS the HTTP API has its own host: the target (one api_url) keeps the REST stage's
    assert (
        "# not a target function: GET /stats -> notes-dev-getStats (HTTP API stage $default:"
        " its own host on AWS; a target has one api_url)"
    ) in out.stdout
    data = tomllib.loads(out.stdout)
    by_path = {f["path"]: f for f in data["functions"]}
    assert set(by_path) == {"/notes"}
    assert by_path["/notes"]["deployment_group"] == "notes-dev-listNotes"
    assert by_path["/notes"]["alarms"] == ["notes-dev-listNotes-functionErrors"]
    # in the twin, one host serves both APIs: each path carries its stage
    twin = gameday(
        "target", "init", "--stack", str(file), "--kind", "sandbox",
        "--api-url", "http://127.0.0.1:9", "--endpoint-url", "http://127.0.0.1:9",
        cwd=tmp_path,
    )  # fmt: skip
    assert twin.returncode == 0, twin.stderr
    by_path = {f["path"]: f for f in tomllib.loads(twin.stdout)["functions"]}
    assert set(by_path) == {"/dev/notes", "/stats"}
    assert by_path["/stats"]["deployment_group"] == "notes-dev-getStats"
    assert "alarms" not in by_path["/stats"]
    assert data["deployment_groups"] == ["notes-dev-listNotes", "notes-dev-getStats"]
    # a path template has no value to probe: listed with the reason, never probed as `{id}`
    sam = gameday("target", "init", "--stack", str(CASES["sam"][0]), cwd=tmp_path)
    assert sam.returncode == 0, sam.stderr
    assert (
        "# not a target function: GET /orders/{orderId} -> shop-orders (a path template: no"
        " concrete value to probe it with)"
    ) in sam.stdout
    assert "{orderId}" not in "".join(f["path"] for f in tomllib.loads(sam.stdout)["functions"])
    assert "amazonaws.com/Prod" in sam.stdout  # SAM's implicit REST API stage
    assert data["alert_topic"] == "notes-dev-alerts"
    assert data["slo"]["mttr_s"] == 120


def test_names_say_why_an_experiment_does_not_apply(tmp_path: Path) -> None:
    """The names an experiment needs, on a stack without them: NotApplicable with the
    plan's skip line (no request is sent: the names come from the target file)."""
    target_file = _sandbox_target_file(tmp_path)
    conf: dict[str, object] = {"gameday_target": str(target_file)}
    assert names.deployment_group("/stats", conf) == "notes-dev-getStats"
    with pytest.raises(names.NotApplicable) as unguarded:
        names.function_alarm("/stats", configuration=conf)
    assert unguarded.value.reason == (
        "unguarded: notes-dev-getStats has no alarms; it rolls back only if a hook fails"
    )
    with pytest.raises(names.NotApplicable) as missing:
        names.function_name("/health/live", conf)
    assert (
        missing.value.reason
        == "the target has no function /health/live (its routes: /dev/notes, /stats)"
    )
    # resolve_names passes the reason on as is (the plan's skip line), not re-worded
    entry = {
        "type": "probe",
        "provider": {"type": "python", "module": names.MODULE, "func": "function_alarm",
                     "arguments": {"path": "/stats"}},
    }  # fmt: skip
    with pytest.raises(names.NotApplicable) as resolved:
        names.resolve_names({**conf, "error_alarm": entry})
    assert resolved.value.reason == unguarded.value.reason
    # a function deployed without CodeDeploy
    text = target_file.read_text().replace('deployment_group = "notes-dev-getStats"\n', "")
    target_file.write_text(text)
    with pytest.raises(names.NotApplicable) as ungrouped:
        names.deployment_group("/stats", conf)
    assert ungrouped.value.reason.startswith("notes-dev-getStats has no deployment group")


def test_retarget_aims_every_path_of_the_experiment_at_the_route(tmp_path: Path) -> None:
    target = load_target(_sandbox_target_file(tmp_path))
    source = resolve_experiment("faulty-canary")
    out = retarget(source, target, "/dev/notes", tmp_path / "faulty-canary.experiment.json")
    assert out != source
    text = out.read_text()
    assert "/health/live" not in text and '"/dev/notes"' in text
    experiment = json.loads(text)
    assert experiment["configuration"]["function"]["provider"]["arguments"] == {
        "path": "/dev/notes"
    }
    (traffic,) = [c for c in experiment["controls"] if c["name"] == "gameday-traffic"]
    assert traffic["provider"]["arguments"]["paths"] == ["/dev/notes"]
    # the rest of the experiment is as written
    original = json.loads(source.read_text())
    assert experiment["method"][0] == original["method"][0]
    assert len(experiment["method"]) == len(original["method"])
    with pytest.raises(ConfigError, match="no function '/nowhere'"):
        retarget(source, target, "/nowhere", tmp_path / "x.json")


def _sandbox_target_file(tmp_path: Path) -> Path:
    file, *_ = CASES["sls"]
    target_file = tmp_path / "target.toml"
    init = gameday(
        "target", "init", "--stack", str(file), "--kind", "sandbox",
        "--api-url", "http://127.0.0.1:9", "--endpoint-url", "http://127.0.0.1:9",
        "--out", str(target_file), cwd=tmp_path,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    return target_file


HOOKLESS_PLAN = """
name: hookless
phases:
  - phase: coldstart
    warm_requests: 3
  - phase: chaos
    name: drills
    experiments: [faulty-canary, throttling]
    function: /greetings
"""


def test_unwrapped_function_skips_hook_drills_and_runs_the_rest(tmp_path: Path) -> None:
    """The plain CDK fixture (its function is not wrapped by failure-lambda): the faulty
    canary, whose fault only failure-lambda delivers, is skipped with a line naming the
    function and what it lacks; throttling, which needs no hook, runs; the game day passes
    on the experiments that ran. `gameday chaos` on the canary alone still exits 3."""
    file = CASES["cdk"][0]
    params = ["--param", "AlarmPeriod=1"]
    config = SandboxConfig(stack_file=str(file), stack_parameters={"AlarmPeriod": "1"})
    with Sandbox(config) as sb:
        target_file = tmp_path / "target.toml"
        init = gameday(
            "target", "init", "--stack", str(file), *params,
            "--kind", "sandbox", "--region", sb.config.region, "--api-url", sb.api_url,
            "--endpoint-url", sb.endpoint_url, "--out", str(target_file),
            cwd=tmp_path,
        )  # fmt: skip
        assert init.returncode == 0, init.stderr
        text = target_file.read_text().replace("cold_start_ms = 500", "cold_start_ms = 5000")
        target_file.write_text(text)
        fn = load_target(target_file).function("/greetings").name
        reason = f"no failure-injection hook: {fn} is not set up for failure-lambda"

        plan = tmp_path / "plan.yml"
        plan.write_text(HOOKLESS_PLAN)
        run, result = run_plan(plan, target_file, tmp_path)
        phases = {p["name"]: p for p in result["phases"]}
        assert phases["coldstart"]["status"] == "passed", phases["coldstart"]
        drills = phases["drills"]
        # the skip is not a pass: only the experiment that ran has a timeline
        assert drills["status"] == "passed", drills
        assert [t["experiment"] for t in drills["timelines"]] == ["throttling"], drills
        assert f"skipped faulty-canary: {reason}" in drills["message"], drills["message"]
        assert "FAILURE_INJECTION_PARAM" in drills["message"]
        assert reason in " ".join(run.stdout.split())

        # nothing was injected for the skipped drill: no canary version was published
        lam = boto3.session.Session(
            aws_access_key_id="t", aws_secret_access_key="t", region_name=sb.config.region
        ).client("lambda", endpoint_url=sb.endpoint_url)
        descriptions = [
            v.get("Description", "")
            for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]
        ]
        assert not any("canary" in d for d in descriptions), descriptions

        aimed = retarget(
            resolve_experiment("faulty-canary"),
            load_target(target_file),
            "/greetings",
            tmp_path / "faulty-canary.json",
        )
        alone = gameday(
            "chaos", str(aimed), "--target", str(target_file),
            "--ledger", str(tmp_path / "ledger.jsonl"),
            cwd=tmp_path,
        )  # fmt: skip
        assert alone.returncode == 3, alone.stdout + alone.stderr
        lines = [line for line in alone.stderr.splitlines() if reason in line]
        assert len(lines) == 1 and "Traceback" not in alone.stderr, alone.stderr

        # failure-lambda's denylist (dependency-outage's fault) needs the hook as well
        # dependency-outage as written, its two functions being the greeter (its names
        # configuration dropped: the stack has no /health routes)
        outage = json.loads(resolve_experiment("dependency-outage").read_text())
        outage["configuration"] = {}
        cut = tmp_path / "cut-dependency.json"
        text = json.dumps(outage).replace("${ready_function}", fn)
        cut.write_text(text.replace("${health_function}", fn))
        # the dependency is known to the target (the twin's convention), so what is left
        # missing is the hook
        boto3.session.Session(
            aws_access_key_id="t", aws_secret_access_key="t", region_name=sb.config.region
        ).client("ssm", endpoint_url=sb.endpoint_url).put_parameter(
            Name="/gameday-sandbox/dependencies/database",
            Value=json.dumps({"state": "up", "latency_ms": 0}),
            Type="String",
        )
        denied = gameday(
            "chaos", str(cut), "--target", str(target_file),
            "--ledger", str(tmp_path / "ledger.jsonl"),
            cwd=tmp_path,
        )  # fmt: skip
        assert denied.returncode == 3, denied.stdout + denied.stderr
        assert f"{reason} (no FAILURE_INJECTION_PARAM" in " ".join(denied.stderr.split())
        assert "database-down's fault could never reach traffic" in denied.stderr
