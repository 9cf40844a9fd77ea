"""`gameday iam-policy`: read-only for gates, exactly the experiments' writes for game days,
on the target's own resources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lambda_gameday.config import sandbox_target
from lambda_gameday.gameday.plan import default_plan, parse_plan
from lambda_gameday.iam_policy import policy_for

ROOT = Path(__file__).parents[2]
TARGET = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:1", region="ap-south-1")
WRITES = ("Put", "Update", "Create", "Delete", "Set", "Publish", "Stop", "Subscribe", "Invoke")


def actions(doc: dict[str, object]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for st in doc["Statement"]:  # type: ignore[attr-defined]
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for a in st["Action"]:
            out.setdefault(a, set()).update(res)
    return out


def is_write(action: str) -> bool:
    return action.split(":", 1)[1].startswith(WRITES)


def test_a_plan_of_gates_gets_a_read_only_policy() -> None:
    plan = parse_plan(
        {"name": "gates", "phases": [{"phase": p} for p in ("conformance", "lint", "synthetics")]},
        "gates.yml",
    )
    got = actions(
        policy_for(plan, TARGET, account="123456789012", experiments_dir=ROOT / "experiments")
    )
    # the only writes: the run lock, one SSM parameter that is never the platform's state
    lock = {"arn:aws:ssm:ap-south-1:123456789012:parameter/gameday/lock"}
    writes = {a: r for a, r in got.items() if is_write(a)}
    assert got and writes == {"ssm:PutParameter": lock, "ssm:DeleteParameter": lock}
    assert got["ssm:GetParameter"] == lock and got["sts:GetCallerIdentity"] == {"*"}
    # the target's own resources by ARN, in its Region and account
    for res in got["cloudwatch:DescribeAlarms"]:
        assert res.startswith("arn:aws:cloudwatch:ap-south-1:123456789012:alarm:hasivu-dev-")


def test_the_default_game_day_writes_only_what_its_canary_touches() -> None:
    got = actions(policy_for(default_plan(), TARGET, experiments_dir=ROOT / "experiments"))
    writes = {a: r for a, r in got.items() if is_write(a)}
    live = "arn:aws:lambda:ap-south-1:*:function:hasivu-dev-health-liveness"
    assert writes["lambda:UpdateAlias"] == {live, live + ":*"}
    assert writes["lambda:PublishVersion"] == {live, live + ":*"}
    assert writes["codedeploy:CreateDeployment"] == {
        "arn:aws:codedeploy:ap-south-1:*:deploymentgroup:hasivu-dev/hasivu-dev-health-liveness"
    }
    assert writes["ssm:PutParameter"] == {
        "arn:aws:ssm:ap-south-1:*:parameter/gameday/hasivu-dev-health-liveness/canary-failure",
        "arn:aws:ssm:ap-south-1:*:parameter/gameday/lock",
    }
    # nothing destructive beyond the canary: no concurrency, no alarm state, no queues
    assert "lambda:PutFunctionConcurrency" not in writes and "cloudwatch:SetAlarmState" not in got
    assert not any(a.startswith("sqs:") for a in got)
    # the cold-start phase forces new environments: a configuration change on every function
    assert len(writes["lambda:UpdateFunctionConfiguration"]) == 2 * len(TARGET.functions)


def test_cli_prints_the_policy_and_refuses_bad_input(tmp_path: Path) -> None:
    plan = tmp_path / "drill.yml"
    plan.write_text(
        "name: drill\nphases:\n  - phase: chaos\n"
        "    experiments: [alarm-notification-drill, throttling]\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lambda_gameday.cli", "iam-policy", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = run("--plan", str(plan), "--account-id", "123456789012")
    assert done.returncode == 0, done.stderr
    got = actions(json.loads(done.stdout))
    assert got["cloudwatch:SetAlarmState"] == {
        "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:hasivu-dev-health-liveness-duration",
        "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:hasivu-dev-health-liveness-error-rate",
    }  # which of the function's alarms watches Errors is read at run time: both
    assert got["sqs:SetQueueAttributes"] == {"arn:aws:sqs:ap-south-1:123456789012:gameday-drill-*"}
    assert got["lambda:PutFunctionConcurrency"] == {
        "arn:aws:lambda:ap-south-1:123456789012:function:hasivu-dev-health-startup",
        "arn:aws:lambda:ap-south-1:123456789012:function:hasivu-dev-health-startup:*",
    }
    bad = run("--account-id", "12")
    assert bad.returncode == 2 and "12 digits" in bad.stderr and "Traceback" not in bad.stderr


def test_access_denied_becomes_one_line_naming_action_and_resource() -> None:
    import pytest
    from botocore.exceptions import ClientError

    from lambda_gameday.aws import AccessDenied, aws_errors, watching_denials
    from lambda_gameday.exceptions import TargetError

    arn = "arn:aws:lambda:ap-south-1:123456789012:function:f:production"
    body = {
        "Error": {
            "Code": "AccessDeniedException",
            "Message": f"User: arn:aws:iam::123456789012:user/u is not authorized to perform: "
            f"lambda:UpdateAlias on resource: {arn} because no identity-based policy allows "
            "the lambda:UpdateAlias action",
        }
    }
    with (
        watching_denials() as seen,
        pytest.raises(AccessDenied) as err,
        aws_errors("moving the alias"),
    ):
        raise ClientError(body, "UpdateAlias")  # type: ignore[arg-type]
    assert isinstance(err.value, TargetError)  # exit 3: the target is unusable as given
    assert (err.value.action, err.value.resource) == ("lambda:UpdateAlias", arn)
    line = str(err.value)
    assert "\n" not in line and line.startswith("moving the alias: access denied: ")
    assert f"lambda:UpdateAlias on {arn} is not allowed" in line
    assert seen == [err.value]


def test_publishing_adds_put_metric_data_in_the_runs_namespaces_only() -> None:
    plan = parse_plan({"name": "p", "phases": [{"phase": "synthetics"}]}, "p.yml")
    plain = policy_for(plan, TARGET, experiments_dir=ROOT / "experiments")
    assert "cloudwatch:PutMetricData" not in actions(plain)
    doc = policy_for(plan, TARGET, experiments_dir=ROOT / "experiments", publish=True)
    (st,) = [s for s in doc["Statement"] if "cloudwatch:PutMetricData" in s["Action"]]
    assert st["Action"] == ["cloudwatch:PutMetricData"] and st["Resource"] == "*"
    assert st["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["HASIVU/Deployment", "HASIVU/SLO"]}
    }


def test_an_activity_with_no_known_grants_is_refused_not_under_granted(tmp_path: Path) -> None:
    import pytest

    from lambda_gameday.exceptions import ConfigError

    exp = json.loads((ROOT / "experiments" / "throttling.json").read_text())
    exp["method"].append(
        {
            "type": "action",
            "name": "stop-it",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.codedeploy.actions",
                "func": "stop_deployment",
                "arguments": {"deployment_id": "d-1"},
            },
        }
    )
    (tmp_path / "custom.json").write_text(json.dumps(exp))
    plan = parse_plan(
        {"name": "c", "phases": [{"phase": "chaos", "experiments": ["custom"]}]}, "c.yml"
    )
    with pytest.raises(ConfigError, match="no IAM policy known for activity 'stop_deployment'"):
        policy_for(plan, TARGET, experiments_dir=tmp_path)
