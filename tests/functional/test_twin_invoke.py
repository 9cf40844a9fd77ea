"""The Invoke API's response as AWS's: x-amzn-RequestId is the invocation's request id (the
one its log lines carry) and LogType=Tail returns the last 4 KB of the execution log,
base64-encoded (docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). Raw boto3 calls."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import make_function, wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig

CONFIG = SandboxConfig(init_duration_ms=20.0, seed=5, legacy=frozenset())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(CONFIG) as sb:
        yield sb


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": context.aws_request_id}


def _loud_failure(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("x" * 10_000)


def test_request_id_header_is_the_invocations_and_tail_is_its_log(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "iv-ok", _ok)
    got = lam.invoke(FunctionName="iv-ok", Qualifier="live", Payload=b"{}", LogType="Tail")
    request_id = got["ResponseMetadata"]["RequestId"]
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id
    # the handler saw the same id (context.aws_request_id)
    assert json.loads(got["Payload"].read())["body"] == request_id
    tail = base64.b64decode(got["LogResult"]).decode().splitlines()
    assert tail[0] == f"START RequestId: {request_id} Version: 1"
    assert tail[1] == f"END RequestId: {request_id}"
    assert tail[2].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    # CloudWatch Logs holds the same lines under the same id
    logs = sandbox_client("logs")

    def logged() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/iv-ok")["events"]
        except ClientError:  # the group appears with the first flushed line
            return []
        return [e["message"] for e in events if request_id in e["message"]]

    assert wait_until(logged, timeout=10) and logged()[0] == tail[0]
    # without LogType=Tail there is no log in the answer, and each call has its own id
    plain = lam.invoke(FunctionName="iv-ok", Qualifier="live", Payload=b"{}")
    assert "LogResult" not in plain
    assert plain["ResponseMetadata"]["RequestId"] not in ("", request_id)


def test_the_tail_is_the_last_4_kb(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "iv-loud", _loud_failure)
    got = lam.invoke(FunctionName="iv-loud", Payload=b"{}", LogType="Tail")
    assert got["FunctionError"] == "Unhandled"
    tail = base64.b64decode(got["LogResult"])
    assert len(tail) == 4096
    lines = tail.decode().splitlines()
    request_id = got["ResponseMetadata"]["RequestId"]
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}")
    assert lines[0] == "x" * len(lines[0])  # the start of the log was cut, the end kept


def test_an_asynchronous_invoke_names_its_request_and_returns_no_log(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "iv-async", _ok)
    got = lam.invoke(FunctionName="iv-async", InvocationType="Event", Payload=b"{}")
    assert got["StatusCode"] == 202 and "LogResult" not in got
    request_id = got["ResponseMetadata"]["RequestId"]
    logs = sandbox_client("logs")

    def ran() -> bool:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/iv-async")["events"]
        except ClientError:  # the group appears with the first line
            return False
        return any(e["message"].startswith(f"REPORT RequestId: {request_id}") for e in events)

    assert wait_until(ran, timeout=10)


def test_a_dry_run_runs_nothing(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "iv-dry", _ok)
    assert sandbox.dataplane is not None
    envs_before = [e for e in sandbox.dataplane.service.envs if e.function == "iv-dry"]
    got = lam.invoke(FunctionName="iv-dry", InvocationType="DryRun", Payload=b"{}")
    assert got["StatusCode"] == 204
    # a following real call is the first one: it initialises the only environment
    lam.invoke(FunctionName="iv-dry", Payload=b"{}")
    envs = [e for e in sandbox.dataplane.service.envs if e.function == "iv-dry"]
    assert envs_before == [] and len(envs) == 1 and envs[0].info.invocations == 1


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [({"LogType": "Full"}, "logType"), ({"InvocationType": "Later"}, "invocationType")],
)
def test_unknown_log_and_invocation_types_are_refused(
    sandbox: Sandbox,
    sandbox_client: Callable[[str], Any],
    kwargs: dict[str, str],
    where: str,
) -> None:
    lam = sandbox_client("lambda")
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=sandbox.function_name("health-liveness"), Payload=b"{}", **kwargs)
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert (
        f"at '{where}' failed to satisfy constraint: Member must satisfy enum" in error["Message"]
    )
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
