"""IAM enforcing mode: the caller holds only the given policy; every call it does not allow
gets AWS's AccessDeniedException, naming the action and resource."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_gameday.sandbox import Sandbox, SandboxConfig, SandboxError

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["lambda:Get*", "lambda:List*", "cloudwatch:Describe*"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:*:*:function:hasivu-dev-health-liveness*",
        },
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": ["Team/Ok"]}},
        },
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},  # not evaluated
        },
        {
            "Effect": "Deny",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": "arn:aws:cloudwatch:*:*:alarm:hasivu-dev-health-startup-*",
        },
        {
            "Effect": "Deny",
            "Action": "lambda:GetFunction",
            "Resource": "arn:aws:lambda:*:*:function:hasivu-dev-health-startup",
        },
    ],
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    path = tmp_path_factory.mktemp("iam") / "policy.json"
    path.write_text(json.dumps(POLICY))
    with Sandbox(SandboxConfig(init_duration_ms=20.0, iam_policy=str(path))) as sb:
        yield sb


def _denied(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = err.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_allowed_reads_pass_and_a_write_is_denied_naming_action_and_resource(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    fn = sandbox.function_name("health-liveness")
    assert lam.get_function_configuration(FunctionName=fn)["FunctionName"] == fn
    assert lam.get_alias(FunctionName=fn, Name="production")["Name"] == "production"
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=fn, Timeout=5)
    code, status, message = _denied(err)
    assert (code, status) == ("AccessDeniedException", 403)
    arn = f"arn:aws:lambda:{sandbox.config.region}:{sandbox.config.account_id}:function:{fn}"
    assert f"lambda:UpdateFunctionConfiguration on resource: {arn} " in message
    # nothing changed
    assert lam.get_function_configuration(FunctionName=fn)["Timeout"] != 5
    assert ("lambda:UpdateFunctionConfiguration", arn) in sandbox.iam.denied  # type: ignore[union-attr]


def test_invoke_is_allowed_only_where_the_policy_says(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    live = sandbox.function_name("health-liveness")
    assert lam.invoke(FunctionName=live, Qualifier="production")["StatusCode"] == 200
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=sandbox.function_name("health-readiness"), Qualifier="production")
    assert "lambda:InvokeFunction on resource: " in _denied(err)[2]
    assert (
        _denied(err)[2]
        .split("resource: ")[1]
        .startswith(
            f"arn:aws:lambda:{sandbox.config.region}:{sandbox.config.account_id}:function:"
            f"{sandbox.function_name('health-readiness')}:production "
        )
    )


def test_an_explicit_deny_wins_and_unlisted_services_are_denied(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, cw = sandbox_client("lambda"), sandbox_client("cloudwatch")
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=sandbox.function_name("health-startup"))
    assert _denied(err)[:2] == ("AccessDeniedException", 403)
    lam.get_function(FunctionName=sandbox.function_name("health-liveness"))
    assert cw.describe_alarms()["MetricAlarms"]
    with pytest.raises(ClientError) as err:
        cw.set_alarm_state(
            AlarmName=sandbox.function_name("health-liveness") + "-error-rate",
            StateValue="ALARM",
            StateReason="not allowed",
        )
    assert _denied(err)[1] == 403 and "cloudwatch:SetAlarmState" in _denied(err)[2]
    # STS GetCallerIdentity needs no permission on AWS either
    import boto3

    sts = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="ap-south-1"
    ).client("sts", endpoint_url=sandbox.endpoint_url)
    assert sts.get_caller_identity()["Account"] == sandbox.config.account_id


def test_a_bad_policy_file_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*"}]}))
    with pytest.raises(SandboxError, match="Effect Allow or Deny"):
        Sandbox(SandboxConfig(iam_policy=str(bad)))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "gameday"), "sandbox", "--iam", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_describe_alarms_by_name_is_authorized_on_every_named_alarm(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cw = sandbox_client("cloudwatch")
    live = sandbox.function_name("health-liveness") + "-error-rate"
    startup = sandbox.function_name("health-startup") + "-error-rate"
    assert cw.describe_alarms(AlarmNames=[live])["MetricAlarms"]
    # one denied name among several: the whole call is refused, naming that alarm
    with pytest.raises(ClientError) as err:
        cw.describe_alarms(AlarmNames=[live, startup])
    arn = f"arn:aws:cloudwatch:{sandbox.config.region}:{sandbox.config.account_id}:alarm:"
    assert f"cloudwatch:DescribeAlarms on resource: {arn}{startup} " in _denied(err)[2]


def test_a_namespace_condition_is_evaluated_and_any_other_fails_closed(
    sandbox_client: Callable[[str], Any],
) -> None:
    cw = sandbox_client("cloudwatch")
    datum = [{"MetricName": "M", "Value": 1.0}]
    cw.put_metric_data(Namespace="Team/Ok", MetricData=datum)
    # outside the condition's namespace; the SourceIp statement would match on AWS from
    # loopback, but the twin cannot evaluate it, so it never allows
    with pytest.raises(ClientError) as err:
        cw.put_metric_data(Namespace="Team/Other", MetricData=datum)
    assert _denied(err)[:2] == ("AccessDeniedException", 403)
    assert "cloudwatch:PutMetricData on resource: * " in _denied(err)[2]


def test_a_queue_is_named_by_its_arn_before_it_exists(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    with pytest.raises(ClientError) as err:
        sandbox_client("sqs").create_queue(QueueName="gameday-drill-x")
    arn = f"arn:aws:sqs:{sandbox.config.region}:{sandbox.config.account_id}:gameday-drill-x"
    assert _denied(err)[1] == 403
    assert f"sqs:CreateQueue on resource: {arn} " in _denied(err)[2]
