"""End to end on the sandbox: a faulty canary is stopped by its alarm and rolled back; a
healthy one deploys; bad AppSpecs and groups give the errors AWS gives."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from lambda_gameday.chaos.sns.actions import queue_policy
from lambda_gameday.sandbox import Sandbox, SandboxConfig

FN = "hasivu-dev-health-liveness"
GROUP = "hasivu-dev-health-liveness"
APP = "hasivu-dev"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    # 1 s alarm periods x 2: a canary's errors fire the alarm within ~2-3 s
    with Sandbox(SandboxConfig(seed=11, extra={"alarm_period_s": 1})) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def aws(sb: Sandbox) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sb.config.region
    )
    return lambda name: session.client(name, endpoint_url=sb.endpoint_url)


def _publish(aws: Any, **env: str) -> str:
    lam = aws("lambda")
    current = lam.get_function_configuration(FunctionName=FN)
    variables = {**current.get("Environment", {}).get("Variables", {}), **env}
    lam.update_function_configuration(FunctionName=FN, Environment={"Variables": variables})
    return str(lam.publish_version(FunctionName=FN)["Version"])


def _appspec(current: str, target: str, **extra: Any) -> dict[str, Any]:
    spec = {
        "version": 0.0,
        "Resources": [
            {
                "fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": FN,
                        "Alias": "production",
                        "CurrentVersion": current,
                        "TargetVersion": target,
                    },
                }
            }
        ],
        **extra,
    }
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(spec)}}


def _served_by(r: httpx.Response) -> str:
    """What the answer says served it: health+json `releaseId` (API Gateway passes no
    version header), or the status of an answer that names none."""
    if r.status_code == 200:
        return str(r.json().get("releaseId", "?"))
    return f"status {r.status_code}"


def _drive(sb: Sandbox, aws: Any, deployment_id: str, seconds: float) -> dict[str, int]:
    """Bounded traffic through the gateway until the deployment ends (or `seconds` pass)."""
    cd = aws("codedeploy")
    seen: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=sb.api_url, timeout=5) as http:
        for i in range(100_000):
            if time.monotonic() > deadline:
                break
            v = _served_by(http.get("/health/live"))
            seen[v] = seen.get(v, 0) + 1
            if i % 20 == 0:
                status = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
                if status in ("Succeeded", "Failed", "Stopped"):
                    break
    return seen


def _notified(sqs: Any, queue: str, alarm: str, state: str, within_s: float) -> bool:
    """Whether the queue receives the alarm's `state` notification within `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in got.get("Messages", []):
            body = json.loads(json.loads(m["Body"])["Message"])
            if body["AlarmName"] == alarm and body["NewStateValue"] == state:
                return True
    return False


def test_faulty_canary_stops_on_alarm_and_rolls_back(sb: Sandbox, aws: Any) -> None:
    cd, sqs, sns = aws("codedeploy"), aws("sqs"), aws("sns")
    topic = sns.create_topic(Name="hasivu-dev-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="oncall")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # SNS delivers to a queue only if its policy lets the topic send (as on AWS)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": queue_policy(queue_arn, topic)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    # GIVEN version N+1 that raises on every invocation (failure-lambda exception mode)
    aws("ssm").put_parameter(
        Name="/hasivu/dev/failure",
        Type="String",
        Value=json.dumps({"isEnabled": True, "failureMode": "exception", "rate": 1}),
    )
    bad = _publish(aws, FAILURE_INJECTION_PARAM="/hasivu/dev/failure")
    # WHEN it is deployed as a 10 % canary and traffic flows through the gateway
    started = time.time()
    dep_id = cd.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=_appspec("1", bad),
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent10Minutes",
    )["deploymentId"]
    seen = _drive(sb, aws, dep_id, seconds=12)
    # the canary really served traffic: only it fails, and a failed answer names no version
    assert seen.get("status 502", 0) > 0, seen

    # THEN the error alarm fires, the deployment stops with ALARM_ACTIVE and rolls back
    alarm = "hasivu-dev-health-liveness-error-rate"
    fired = sb.truth.wait_for("alarm", alarm, timeout=5, after=started, new="ALARM")
    assert fired is not None
    info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert info["errorInformation"]["message"].endswith(f"Activated alarms: {alarm}")
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    done = sb.truth.wait_for("deployment", rollback_id, timeout=5, status="Succeeded")
    assert done is not None
    rb = cd.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert rb["status"] == "Succeeded" and rb["creator"] == "codeDeployRollback"
    assert rb["rollbackInfo"]["rollbackTriggeringDeploymentId"] == dep_id
    assert rb["completeTime"] >= rb["createTime"]
    stopped = sb.truth.wait_for("deployment", dep_id, timeout=1, status="Stopped")
    assert stopped is not None and fired.at <= stopped.at
    assert done.at - fired.at < 2.0  # alarm -> weights cleared, in the sandbox's fast timing

    alias = aws("lambda").get_alias(FunctionName=FN, Name="production")
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    with httpx.Client(base_url=sb.api_url, timeout=5) as http:
        versions = {_served_by(http.get("/health/live")) for _ in range(30)}
    assert versions == {"1"}
    last_alias = sb.truth.events("alias", f"{FN}:production")[-1]
    assert (last_alias.detail["version"], last_alias.detail["weights"]) == ("1", {})

    # the notification reaches the queue after the state change, not with it (on AWS too):
    # long-poll for it under a deadline
    assert _notified(sqs, queue, alarm, "ALARM", within_s=5), "no ALARM notification"


def test_healthy_version_deploys_to_succeeded(sb: Sandbox, aws: Any) -> None:
    cd = aws("codedeploy")
    # GIVEN the error alarm is back to OK (a deployment started while it is in ALARM stops)
    _wait_ok(sb, aws)
    current = aws("lambda").get_alias(FunctionName=FN, Name="production")["FunctionVersion"]
    good = _publish(aws, FAILURE_INJECTION_PARAM="", RELEASE="healthy")
    dep_id = cd.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=_appspec(current, good),
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
    )["deploymentId"]
    _drive(sb, aws, dep_id, seconds=10)
    assert sb.truth.wait_for("deployment", dep_id, timeout=5, status="Succeeded") is not None
    info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert info["status"] == "Succeeded" and "errorInformation" not in info
    weights = [
        e.detail["weights"]
        for e in sb.truth.events("alias", f"{FN}:production")
        if e.at >= info["createTime"].timestamp() - 0.01
    ]
    assert weights == [{good: 0.1}, {}]
    alias = aws("lambda").get_alias(FunctionName=FN, Name="production")
    assert alias["FunctionVersion"] == good
    assert (
        dep_id
        in cd.list_deployments(
            applicationName=APP, deploymentGroupName=GROUP, includeOnlyStatuses=["Succeeded"]
        )["deployments"]
    )


def _wait_ok(sb: Sandbox, aws: Any) -> None:
    name = "hasivu-dev-health-liveness-error-rate"
    (alarm,) = aws("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if alarm["StateValue"] != "OK":
        assert (
            sb.truth.wait_for("alarm", name, timeout=6, after=time.time() - 0.5, new="OK")
            is not None
        )


def _failed(sb: Sandbox, aws: Any, dep_id: str) -> dict[str, Any]:
    assert sb.truth.wait_for("deployment", dep_id, timeout=5, status="Failed") is not None
    return dict(aws("codedeploy").get_deployment(deploymentId=dep_id)["deploymentInfo"])


def test_appspec_naming_a_missing_version_fails(sb: Sandbox, aws: Any) -> None:
    current = aws("lambda").get_alias(FunctionName=FN, Name="production")["FunctionVersion"]
    dep_id = aws("codedeploy").create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=_appspec(current, "99"),
    )["deploymentId"]
    info = _failed(sb, aws, dep_id)
    assert info["errorInformation"]["code"] == "INVALID_LAMBDA_CONFIGURATION"
    assert "TargetVersion 99" in info["errorInformation"]["message"]
    assert "rollbackInfo" not in info  # no traffic moved, nothing to roll back


def test_alias_that_does_not_exist_fails(sb: Sandbox, aws: Any) -> None:
    spec = {
        "version": 0.0,
        "Resources": [
            {
                "fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": FN,
                        "Alias": "live",
                        "CurrentVersion": "1",
                        "TargetVersion": "2",
                    },
                }
            }
        ],
    }
    revision = {"revisionType": "String", "string": {"content": json.dumps(spec)}}
    dep_id = aws("codedeploy").create_deployment(
        applicationName=APP, deploymentGroupName=GROUP, revision=revision
    )["deploymentId"]
    info = _failed(sb, aws, dep_id)
    assert info["errorInformation"]["code"] == "INVALID_LAMBDA_CONFIGURATION"
    assert "alias live does not exist" in info["errorInformation"]["message"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"deploymentGroupName": "nope"}, "DeploymentGroupDoesNotExistException"),
        ({"applicationName": "nope"}, "ApplicationDoesNotExistException"),
        (
            {"revision": {"revisionType": "String", "string": {"content": "::: not yaml"}}},
            "InvalidRevisionException",
        ),
        ({"deploymentConfigName": "NoSuchConfig"}, "DeploymentConfigDoesNotExistException"),
    ],
)
def test_create_deployment_rejects(aws: Any, kwargs: dict[str, Any], code: str) -> None:
    args = {
        "applicationName": APP,
        "deploymentGroupName": GROUP,
        "revision": _appspec("1", "2"),
        **kwargs,
    }
    with pytest.raises(ClientError) as err:
        aws("codedeploy").create_deployment(**args)
    assert err.value.response["Error"]["Code"] == code


def test_configs_and_stop(sb: Sandbox, aws: Any) -> None:
    cd = aws("codedeploy")
    canary = cd.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent30Minutes"
    )
    routing = canary["deploymentConfigInfo"]["trafficRoutingConfig"]
    assert routing == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 30},
    }
    group = cd.get_deployment_group(applicationName=APP, deploymentGroupName=GROUP)
    assert group["deploymentGroupInfo"]["alarmConfiguration"]["enabled"] is True
    # a long canary, stopped by the user with rollback: Stopped, MANUAL_STOP, rolled back
    _wait_ok(sb, aws)
    current = aws("lambda").get_alias(FunctionName=FN, Name="production")["FunctionVersion"]
    target = _publish(aws, RELEASE="stop-me")
    dep_id = cd.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision=_appspec(current, target),
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent30Minutes",
    )["deploymentId"]
    assert (
        sb.truth.wait_for("alias", f"{FN}:production", timeout=5, weights={target: 0.1}) is not None
    )
    # one active deployment per group, as AWS: a second one is refused, naming the first
    with pytest.raises(ClientError) as busy:
        cd.create_deployment(
            applicationName=APP, deploymentGroupName=GROUP, revision=_appspec(current, target)
        )
    assert busy.value.response["Error"]["Code"] == "DeploymentLimitExceededException"
    assert dep_id in busy.value.response["Error"]["Message"]
    assert cd.stop_deployment(deploymentId=dep_id, autoRollbackEnabled=True)["status"] == (
        "Pending"
    )
    assert sb.truth.wait_for("deployment", dep_id, timeout=5, status="Stopped") is not None
    info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    assert sb.truth.wait_for("deployment", rollback, timeout=5, status="Succeeded") is not None
    assert aws("lambda").get_alias(FunctionName=FN, Name="production")["FunctionVersion"] == (
        current
    )
    with pytest.raises(ClientError) as err:
        cd.stop_deployment(deploymentId=dep_id)
    assert err.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"
