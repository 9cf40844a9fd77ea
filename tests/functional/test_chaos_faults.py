"""Faults against the AWS API alone (moto behind the sandbox's AwsApi): every fault is
ledgered before injection, rollbacks and `cleanup` restore the exact previous values, and
an experiment naming something missing fails before anything is injected."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_gameday.chaos.awslambda import actions as lam_actions
from lambda_gameday.chaos.awslambda import probes as lam_probes
from lambda_gameday.chaos.context import ledger_for, target_from
from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.chaos.preflight import check_experiment
from lambda_gameday.chaos.undo import cleanup
from lambda_gameday.exceptions import ResourceNotFound, SafetyError
from lambda_gameday.sandbox.awsapi import AwsApi

FN = "hasivu-dev-health-liveness"
EXPERIMENTS = Path(__file__).parents[2] / "experiments"
REGION = "ap-south-1"


@dataclass
class Api:
    url: str
    lam: Any
    ssm: Any

    def snapshot(self) -> dict[str, Any]:
        cfg = self.lam.get_function_configuration(FunctionName=FN)
        alias = self.lam.get_alias(FunctionName=FN, Name="production")
        conc = self.lam.get_function_concurrency(FunctionName=FN)
        params = self.ssm.describe_parameters().get("Parameters", [])
        return {
            "env": cfg.get("Environment", {}).get("Variables", {}),
            "layers": [x["Arn"] for x in cfg.get("Layers", [])],
            "timeout": cfg["Timeout"],
            "alias": (
                alias["FunctionVersion"],
                alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}),
            ),
            "concurrency": conc.get("ReservedConcurrentExecutions"),
            "params": sorted(p["Name"] for p in params),
        }


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
    return buf.getvalue()


@pytest.fixture
def api() -> Iterator[Api]:
    server = AwsApi()
    server.start()
    try:
        kw = {
            "endpoint_url": server.url,
            "region_name": REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        iam = boto3.client("iam", **kw)
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kw)
        lam.create_function(
            FunctionName=FN,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Environment={"Variables": {"STAGE": "dev"}},
            Timeout=6,
        )
        v1 = lam.publish_version(FunctionName=FN)["Version"]
        lam.create_alias(FunctionName=FN, Name="production", FunctionVersion=v1)
        # the function's error alarm, as the target file names it (experiments read it)
        boto3.client("cloudwatch", **kw).put_metric_alarm(
            AlarmName=f"{FN}-errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": FN}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        yield Api(server.url, lam, boto3.client("ssm", **kw))
    finally:
        server.stop()
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()


def conf(api: Api, tmp_path: Path, run_id: str = "run1") -> dict[str, object]:
    return {
        "aws_region": REGION,
        "gameday_endpoint_url": api.url,
        "gameday_api_url": "http://127.0.0.1:9",
        "gameday_ledger": str(tmp_path / "l.jsonl"),
        "gameday_run_id": run_id,
    }


def test_canary_is_ledgered_first_and_restore_alias_undoes_everything(
    api: Api, tmp_path: Path
) -> None:
    # GIVEN a function whose production alias serves version 1
    before = api.snapshot()
    c = conf(api, tmp_path)
    # WHEN a faulty canary ships at 25 %
    out = lam_actions.deploy_canary(FN, fault="exception", weight=0.25, configuration=c)
    # THEN the alias routes 25 % to the new version, $LATEST is back to normal already,
    # and the fault lives in the failure-lambda parameter only the new version reads
    during = api.snapshot()
    assert during["alias"] == ("1", {out["canary_version"]: 0.25})
    assert during["env"] == before["env"]
    new_cfg = api.lam.get_function_configuration(FunctionName=FN, Qualifier=out["canary_version"])
    param = new_cfg["Environment"]["Variables"]["FAILURE_INJECTION_PARAM"]
    flags = json.loads(api.ssm.get_parameter(Name=param)["Parameter"]["Value"])
    assert flags["exception"]["enabled"] is True
    (entry,) = ledger_for(c).open_entries()
    assert entry.at <= out["injected_at"] and entry.injected_at == out["injected_at"]
    # WHEN the rollback runs
    lam_actions.restore_alias(FN, configuration=c)
    # THEN everything is as before and nothing is left open
    assert api.snapshot() == before
    assert ledger_for(c).open_entries() == []
    assert lam_probes.wait_for_alias_version(FN, version="1", timeout_s=1, configuration=c)


def test_cleanup_replays_what_a_killed_run_left(api: Api, tmp_path: Path) -> None:
    before = api.snapshot()
    c = conf(api, tmp_path, "killed")
    lam_actions.throttle(FN, 0, configuration=c)
    lam_actions.deploy_canary(FN, fault="latency", weight=1.0, timeout_s=1, configuration=c)
    assert api.snapshot() != before
    # WHEN another process replays the ledger
    report = cleanup(Ledger(tmp_path / "l.jsonl"), target_from(c))
    assert report.ok and len(report.undone) == 2 and report.conflicts == ()
    assert api.snapshot() == before
    assert cleanup(Ledger(tmp_path / "l.jsonl"), target_from(c)).undone == ()  # idempotent


def test_manual_rollback_drill_names_the_previous_version(api: Api, tmp_path: Path) -> None:
    c = conf(api, tmp_path)
    out = lam_actions.deploy_canary(FN, fault="none", weight=1.0, configuration=c)
    rb = lam_actions.manual_rollback(FN, configuration=c)
    assert (rb["from_version"], rb["to_version"]) == (out["canary_version"], "1")
    assert rb["matches_previous"] and rb["duration_s"] >= 0
    lam_actions.remove_faults(configuration=c)


def experiment(*activities: dict[str, Any]) -> dict[str, Any]:
    return {"title": "t", "description": "d", "method": list(activities)}


def act(
    func: str, module: str = "lambda_gameday.chaos.awslambda.actions", **args: Any
) -> dict[str, Any]:
    return {
        "type": "action",
        "name": func,
        "provider": {"type": "python", "module": module, "func": func, "arguments": args},
    }


@pytest.mark.parametrize(
    ("activity", "reason"),
    [
        (act("throttle", function_name="hasivu-dev-nope"), "function hasivu-dev-nope"),
        (act("deploy_canary", function_name=FN, alias="blue"), f"alias {FN}:blue"),
        (
            act(
                "wait_for_alarm_state",
                "lambda_gameday.chaos.cloudwatch.probes",
                alarm_name="no-such-alarm",
            ),
            "alarm 'no-such-alarm' does not exist",
        ),
    ],
)
def test_missing_resources_fail_before_injection(
    api: Api, tmp_path: Path, activity: dict[str, Any], reason: str
) -> None:
    before = api.snapshot()
    c = conf(api, tmp_path)
    exp = experiment(act("throttle", function_name=FN), activity)
    with pytest.raises(ResourceNotFound) as err:
        check_experiment(exp, c)
    assert reason in str(err.value) and "\n" not in str(err.value)
    assert api.snapshot() == before and ledger_for(c).entries() == []


def test_production_target_refuses_destructive_experiments(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "prod.toml"
    target.write_text(
        f'name = "prod"\nkind = "sandbox"\nenvironment = "production"\nregion = "{REGION}"\n'
        f'endpoint_url = "{api.url}"\napi_url = "http://127.0.0.1:9"\n'
        f'[[functions]]\nname = "{FN}"\npath = "/health/live"\n'
    )
    exp = experiment(act("throttle", function_name=FN))
    monkeypatch.delenv("GAMEDAY_ALLOW_PRODUCTION", raising=False)
    with pytest.raises(SafetyError, match="pass --allow-production"):
        check_experiment(exp, {"gameday_target": str(target)})
    # the experiment's own configuration cannot grant production
    with pytest.raises(SafetyError, match="pass --allow-production"):
        check_experiment(exp, {"gameday_target": str(target), "gameday_allow_production": True})
    check_experiment(exp, {"gameday_target": str(target)}, allow_production=True)
    monkeypatch.setenv("GAMEDAY_ALLOW_PRODUCTION", "1")
    check_experiment(exp, {"gameday_target": str(target)})


def gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_target(api: Api, tmp_path: Path, environment: str = "dev") -> Path:
    path = tmp_path / f"{environment}.toml"
    path.write_text(
        f'name = "{environment}"\nkind = "sandbox"\nenvironment = "{environment}"\n'
        f'region = "{REGION}"\nendpoint_url = "{api.url}"\napi_url = "http://127.0.0.1:9"\n'
        f'application = "hasivu-dev"\n'
        f'[[functions]]\nname = "{FN}"\npath = "/health/live"\nalarms = ["{FN}-errors"]\n'
        f'deployment_group = "{FN}"\n'
        f'[[functions]]\nname = "hasivu-dev-health-startup"\npath = "/health/startup"\n'
    )
    return path


def test_cli_dry_run_prints_the_plan_and_touches_nothing(api: Api, tmp_path: Path) -> None:
    before = api.snapshot()
    done = gameday(
        "chaos",
        str(EXPERIMENTS / "faulty-canary.json"),
        "--dry-run",
        "--target",
        str(write_target(api, tmp_path)),
        "--ledger",
        str(tmp_path / "l.jsonl"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "deploy_canary(function_name='hasivu-dev-health-liveness'" in done.stdout
    assert "rollbacks (always run):" in done.stdout and "nothing was injected" in done.stdout
    assert api.snapshot() == before and not (tmp_path / "l.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["chaos", "no-such-experiment"], 2, "no experiment 'no-such-experiment'"),
        (["chaos", str(EXPERIMENTS / "throttling.json")], 5, "pass --allow-production"),
        (["chaos", str(EXPERIMENTS / "throttling.json"), "--dry-run"], 5, "production"),
        (["cleanup", "--ledger", "/proc/nope/l.jsonl"], 0, "nothing to clean up"),
    ],
)
def test_cli_bad_input_is_one_line(
    api: Api, tmp_path: Path, args: list[str], code: int, text: str
) -> None:
    target = write_target(api, tmp_path, "production")
    extra = ["--target", str(target)] if args[0] == "chaos" else []
    done = gameday(*args, *extra, cwd=tmp_path)
    out = done.stderr if code else done.stdout
    assert done.returncode == code, done.stderr
    assert text in out and "Traceback" not in done.stderr
    if code:
        assert len(done.stderr.strip().splitlines()) == 1
