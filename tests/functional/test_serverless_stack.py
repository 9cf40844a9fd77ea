"""The stack can be built from the seed's Serverless file instead of the default."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx
import pytest
from sandbox_helpers import assert_started_insufficient

from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.serverless import ServerlessFileError, parse_serverless

EXAMPLE = Path(__file__).parents[2] / "examples" / "serverless.yml"


def test_example_file_builds_the_seed_stack_on_the_endpoint() -> None:
    with Sandbox(SandboxConfig(serverless_file=str(EXAMPLE))) as sb:
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=sb.config.region,
        )
        cw = session.client("cloudwatch", endpoint_url=sb.endpoint_url)
        cd = session.client("codedeploy", endpoint_url=sb.endpoint_url)
        alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
        assert set(alarms) == {"hasivu-dev-error-rate", "hasivu-dev-duration"}
        err = alarms["hasivu-dev-error-rate"]
        assert (err["Period"], err["EvaluationPeriods"], err["Threshold"]) == (60, 2, 10.0)
        assert err["TreatMissingData"] == "notBreaching" and err["Dimensions"] == []
        assert err["AlarmActions"] == [
            f"arn:aws:sns:{sb.config.region}:{sb.config.account_id}:hasivu-dev-alerts"
        ]
        assert_started_insufficient(sb, err)
        # the file names the seed's functions: they keep the seed's handlers (not stand-ins)
        assert set(sb.routes) == {"/health", "/health/live", "/health/ready", "/health/startup"}
        live = httpx.get(sb.api_url + "/health/live", timeout=5).json()
        assert "uptime" in live["checks"] and "stand-in" not in live["description"]
        groups = cd.list_deployment_groups(applicationName="hasivu-dev")["deploymentGroups"]
        assert len(groups) == 4
        info = cd.get_deployment_group(
            applicationName="hasivu-dev", deploymentGroupName="hasivu-dev-health-liveness"
        )
        g = info["deploymentGroupInfo"]
        assert g["deploymentConfigName"] == "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
        assert [a["name"] for a in g["alarmConfiguration"]["alarms"]] == [
            "hasivu-dev-error-rate",
            "hasivu-dev-duration",
        ]
        assert set(g["autoRollbackConfiguration"]["events"]) == {
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_ALARM",
        }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("service: [unclosed", "not valid YAML"),
        ("provider: {}", "'service' is required"),
        (
            "service: s\nfunctions:\n  f: {}\nresources:\n  Resources:\n    A:\n"
            "      Type: AWS::CloudWatch::Alarm\n      Properties: {MetricName: Errors}\n",
            "Properties.Statistic is required",
        ),
        ("service: s\nprovider:\n  stage: ${env:NOPE_NOT_SET}\n", "cannot resolve variable"),
    ],
)
def test_bad_serverless_files_give_one_line_errors(text: str, fragment: str) -> None:
    with pytest.raises(ServerlessFileError) as err:
        parse_serverless(text, source="bad.yml")
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_env_fallback_and_ref(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_EMAIL", "oncall@example.com")
    stack = parse_serverless(EXAMPLE.read_text(), stage="staging")
    assert stack.application == "hasivu-staging"
    assert stack.topics[0].subscriptions == (("email", "oncall@example.com"),)
    assert {a.topics for a in stack.alarms} == {("hasivu-staging-alerts",)}
    assert stack.groups[0].pre_traffic_hook == "hasivu-staging-health-readiness"
