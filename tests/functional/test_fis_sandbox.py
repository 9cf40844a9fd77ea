"""AWS FIS in the twin: templates and experiments through the stock API (boto3 and the aws
CLI), configuration objects under the function's location, the extension's polling in the
data plane, stop conditions, and FIS's refusals."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_helpers import code_zip, wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig

BUCKET = "fis-config-ft"
PREFIX = "FisConfigs/"


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "fine"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(init_duration_ms=20.0, seed=3)) as sb:
        yield sb


def _fis_function(
    sandbox: Sandbox,
    client: Callable[[str], Any],
    name: str,
    path: str,
    role: str | None = None,
) -> str:
    """A function set up as the FIS user guide says: layer (from the public SSM parameter),
    exec wrapper, configuration location. Returns the alias ARN."""
    lam, ssm, s3 = client("lambda"), client("ssm"), client("s3")
    assert sandbox.dataplane is not None and sandbox.dataplane.stack is not None
    region = sandbox.config.region
    layer = ssm.get_parameter(
        Name="/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x"
    )["Parameter"]["Value"]
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    _roles(sandbox, client)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role or sandbox.dataplane.stack.role_arn,
        Handler="index.handler",
        Code={"ZipFile": code_zip()},
        Timeout=3,
        Layers=[layer],
        Environment={
            "Variables": {
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/aws-fis/bootstrap",
                "AWS_FIS_CONFIGURATION_LOCATION": f"arn:aws:s3:::{BUCKET}/{PREFIX}",
                "AWS_FIS_EXTENSION_METRICS": "all",
            }
        },
    )
    sandbox.register_handler(name, _ok)
    version = lam.publish_version(FunctionName=name)["Version"]
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    sandbox.dataplane.add_route(path, name, "live")
    return str(alias["AliasArn"])


ROLE = "fis-experiments"


def _roles(sandbox: Sandbox, client: Callable[[str], Any]) -> None:
    """The user guide's two policies: FIS may write the location (its experiment role,
    trusted by fis.amazonaws.com); the functions' role may read it."""
    iam = client("iam")
    assert sandbox.dataplane is not None and sandbox.dataplane.stack is not None
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName=ROLE,
            AssumeRolePolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                 "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
            ),
        )  # fmt: skip
    iam.put_role_policy(RoleName=ROLE, PolicyName="write", PolicyDocument=_policy("s3:PutObject"))
    fn_role = sandbox.dataplane.stack.role_arn.rsplit("/", 1)[-1]
    iam.put_role_policy(RoleName=fn_role, PolicyName="read", PolicyDocument=_policy("s3:GetObject"))


def _trust(service: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _policy(action: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _template(role: str, target: str, actions: dict[str, Any], alarms: list[str]) -> Any:
    return {
        "clientToken": str(uuid.uuid4()),
        "description": "ft",
        "roleArn": role,
        "targets": {
            "fn": {
                "resourceType": "aws:lambda:function",
                "resourceArns": [target],
                "selectionMode": "ALL",
            }
        },
        "actions": actions,
        "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": a} for a in alarms]
        or [{"source": "none"}],
        "tags": {"gameday-run": "ft"},
    }


def _error_action(duration: str = "PT3S") -> dict[str, Any]:
    return {
        "err": {
            "actionId": "aws:lambda:invocation-error",
            "parameters": {"duration": duration, "preventExecution": "true"},
            "targets": {"Functions": "fn"},
        }
    }


def _status(fis: Any, exp_id: str) -> str:
    return str(fis.get_experiment(id=exp_id)["experiment"]["state"]["status"])


def test_experiment_runs_injects_and_cleans_up(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fis, s3 = sandbox_client("fis"), sandbox_client("s3")
    target = _fis_function(sandbox, sandbox_client, "ft-fis-a", "/fis-a")
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tmpl = fis.create_experiment_template(**_template(role, target, _error_action(), []))
    tid = tmpl["experimentTemplate"]["id"]
    exp = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)
    exp_id = exp["experiment"]["id"]
    assert exp["experiment"]["state"]["status"] == "pending"
    # fast timing: slow poll 2 s (a new environment reads the configuration at once)
    wait_until(lambda: httpx.get(sandbox.api_url + "/fis-a").status_code == 502, timeout=5)
    keys = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])
    assert [k["Key"] for k in keys] == [f"{PREFIX}{exp_id}/ft-fis-a.json"]
    wait_until(lambda: _status(fis, exp_id) == "completed", timeout=8)
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0
    # the extension sees the removal at its next (fast) poll; then traffic is clean again
    wait_until(lambda: httpx.get(sandbox.api_url + "/fis-a").status_code == 200, timeout=3)
    events = [e.detail["event"] for e in sandbox.truth.events("fault", "ft-fis-a")]
    assert events[:3] == ["fis-config-written", "fis-applied", "fis-config-removed"]
    statuses = [e.detail["status"] for e in sandbox.truth.events("experiment", exp_id)]
    assert statuses == ["pending", "initiating", "running", "completed"]
    # AWS_FIS_EXTENSION_METRICS=all: EMF in namespace aws-fis-extension (names: the twin's)
    assert sandbox.dataplane is not None
    emf = sandbox.dataplane.raw_datapoints(
        "error.injected",
        {"FunctionName": "ft-fis-a"},
        time.time() - 120,
        time.time() + 5,
        namespace="aws-fis-extension",
    )
    assert emf and all(v == 1.0 for _, v in emf)

    # the stock aws CLI reads the same experiment
    env = {**os.environ, **sandbox.env()}
    aws = str(Path(sys.executable).parent / "aws")
    got = json.loads(
        subprocess.run(
            [aws, "fis", "get-experiment", "--id", exp_id, "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert got["experiment"]["state"]["status"] == "completed"
    assert got["experiment"]["actions"]["err"]["state"]["status"] == "completed"
    listed = json.loads(
        subprocess.run(
            [aws, "fis", "list-experiments", "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert {e["id"]: e["state"]["status"] for e in listed["experiments"]}[exp_id] == "completed"


def test_stop_condition_stops_the_experiment_with_its_reason(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fis, cw, s3 = sandbox_client("fis"), sandbox_client("cloudwatch"), sandbox_client("s3")
    target = _fis_function(sandbox, sandbox_client, "ft-fis-b", "/fis-b")
    cw.put_metric_alarm(
        AlarmName="ft-fis-stop",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "ft-fis-b"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1000,
        ComparisonOperator="GreaterThanThreshold",
    )
    alarm_arn = cw.describe_alarms(AlarmNames=["ft-fis-stop"])["MetricAlarms"][0]["AlarmArn"]
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tid = fis.create_experiment_template(
        **_template(role, target, _error_action("PT5M"), [alarm_arn])
    )["experimentTemplate"]["id"]
    exp_id = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)[
        "experiment"
    ]["id"]
    wait_until(lambda: _status(fis, exp_id) == "running", timeout=3)
    wait_until(lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0))
    fired = time.time()
    cw.set_alarm_state(AlarmName="ft-fis-stop", StateValue="ALARM", StateReason="ft")
    wait_until(lambda: _status(fis, exp_id) == "stopped", timeout=3)
    state = fis.get_experiment(id=exp_id)["experiment"]["state"]
    assert alarm_arn in state["reason"] and "stop condition" in state["reason"]
    stopped = sandbox.truth.events("experiment", exp_id)[-1]
    assert stopped.detail["status"] == "stopped" and stopped.at >= fired
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0


def test_stop_experiment_by_hand(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    fis = sandbox_client("fis")
    target = _fis_function(sandbox, sandbox_client, "ft-fis-c", "/fis-c")
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tid = fis.create_experiment_template(**_template(role, target, _error_action("PT5M"), []))[
        "experimentTemplate"
    ]["id"]
    exp_id = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)[
        "experiment"
    ]["id"]
    wait_until(lambda: _status(fis, exp_id) == "running", timeout=3)
    assert fis.stop_experiment(id=exp_id)["experiment"]["state"]["status"] in (
        "stopping",
        "stopped",
    )
    wait_until(lambda: _status(fis, exp_id) == "stopped", timeout=3)
    assert fis.get_experiment(id=exp_id)["experiment"]["actions"]["err"]["state"]["status"] == (
        "stopped"
    )


def test_dry_run_writes_nothing(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    fis = sandbox_client("fis")
    target = _fis_function(sandbox, sandbox_client, "ft-fis-d", "/fis-d")
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tid = fis.create_experiment_template(**_template(role, target, _error_action("PT1S"), []))[
        "experimentTemplate"
    ]["id"]
    exp_id = fis.start_experiment(
        clientToken=str(uuid.uuid4()),
        experimentTemplateId=tid,
        experimentOptions={"actionsMode": "skip-all"},
    )["experiment"]["id"]
    wait_until(lambda: _status(fis, exp_id) == "completed", timeout=3)
    exp = fis.get_experiment(id=exp_id)["experiment"]
    assert exp["actions"]["err"]["state"]["status"] == "skipped"
    assert not [e for e in sandbox.truth.events("fault", "ft-fis-d")]
    assert httpx.get(sandbox.api_url + "/fis-d").status_code == 200


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"actionId": "aws:lambda:invocation-add-delay",
             "parameters": {"duration": "PT1M", "startupDelayMilliseconds": "900001"}},
            "startupDelayMilliseconds",
        ),
        (
            {"actionId": "aws:lambda:invocation-error",
             "parameters": {"duration": "PT1M", "invocationPercentage": "0",
                            "preventExecution": "true"}},
            "invocationPercentage",
        ),
        (
            {"actionId": "aws:lambda:invocation-error", "parameters": {"duration": "PT1M"}},
            "preventExecution",
        ),
    ],
)  # fmt: skip
def test_fis_refuses_invalid_parameters(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], action: dict[str, Any], message: str
) -> None:
    fis = sandbox_client("fis")
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    target = f"arn:aws:lambda:{sandbox.config.region}:{sandbox.config.account_id}:function:x"
    spec = _template(role, target, {"a": {**action, "targets": {"Functions": "fn"}}}, [])
    with pytest.raises(fis.exceptions.ValidationException, match=message):
        fis.create_experiment_template(**spec)


def test_fis_refuses_a_bad_role_and_fails_an_unknown_target(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fis = sandbox_client("fis")
    target = f"arn:aws:lambda:{sandbox.config.region}:{sandbox.config.account_id}:function:nope"
    # botocore itself refuses an empty roleArn; FIS refuses one that is not a role ARN
    spec = _template("arn:aws:iam::123:user/someone", target, _error_action(), [])
    with pytest.raises(fis.exceptions.ValidationException, match="roleArn"):
        fis.create_experiment_template(**spec)
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tid = fis.create_experiment_template(**_template(role, target, _error_action(), []))[
        "experimentTemplate"
    ]["id"]
    exp_id = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)[
        "experiment"
    ]["id"]
    wait_until(lambda: _status(fis, exp_id) == "failed", timeout=3)
    state = fis.get_experiment(id=exp_id)["experiment"]["state"]
    assert "nope" in state["reason"]
    # the twin does not model template updates: refused, never applied unchecked
    with pytest.raises(fis.exceptions.ValidationException, match="not modelled"):
        fis.update_experiment_template(id=tid, description="changed")


def test_an_experiment_role_fis_cannot_assume_fails_the_experiment(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fis, iam = sandbox_client("fis"), sandbox_client("iam")
    target = _fis_function(sandbox, sandbox_client, "ft-fis-e", "/fis-e")
    iam.create_role(RoleName="not-for-fis", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/not-for-fis"
    tid = fis.create_experiment_template(**_template(role, target, _error_action(), []))[
        "experimentTemplate"
    ]["id"]
    exp_id = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)[
        "experiment"
    ]["id"]
    wait_until(lambda: _status(fis, exp_id) == "failed", timeout=3)
    assert "fis.amazonaws.com" in fis.get_experiment(id=exp_id)["experiment"]["state"]["reason"]
    assert not [e for e in sandbox.truth.events("fault", "ft-fis-e")]


def test_a_function_whose_role_cannot_read_the_location_gets_no_fault(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fis, iam = sandbox_client("fis"), sandbox_client("iam")
    iam.create_role(RoleName="fn-no-read", AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))
    fn_role = f"arn:aws:iam::{sandbox.config.account_id}:role/fn-no-read"
    target = _fis_function(sandbox, sandbox_client, "ft-fis-f", "/fis-f", role=fn_role)
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/{ROLE}"
    tid = fis.create_experiment_template(**_template(role, target, _error_action("PT2S"), []))[
        "experimentTemplate"
    ]["id"]
    exp_id = fis.start_experiment(clientToken=str(uuid.uuid4()), experimentTemplateId=tid)[
        "experiment"
    ]["id"]
    wait_until(lambda: _status(fis, exp_id) == "running", timeout=3)
    codes = set()
    while _status(fis, exp_id) == "running":  # bounded by the action's 2 s duration
        codes.add(httpx.get(sandbox.api_url + "/fis-f").status_code)
    assert codes == {200}
    events = [e.detail["event"] for e in sandbox.truth.events("fault", "ft-fis-f")]
    assert "fis-config-written" in events and "fis-applied" not in events
