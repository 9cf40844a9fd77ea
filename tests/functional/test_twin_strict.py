"""The strict twin: what AWS refuses, the sandbox refuses, with AWS's error codes and message
shapes — each shown with the raw boto3 call (issue 12 part 1)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import make_function, wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.public_layers import chaos_extension_layer

STRICT = SandboxConfig(init_duration_ms=50.0, seed=3, legacy=frozenset())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(STRICT) as sb:
        yield sb


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "ok"}


# -- layers -------------------------------------------------------------------------------


def test_a_layer_of_another_region_is_access_denied(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "st-layers", _ok)
    us_east = chaos_extension_layer("us-east-1")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", Layers=[us_east])
    code, message, status = _error(err)
    assert (code, status) == ("AccessDeniedException", 403)
    assert f"lambda:GetLayerVersion on resource: {us_east}" in message
    # the same extension in the function's own Region is fine
    here = chaos_extension_layer(sandbox.config.region)
    got = lam.update_function_configuration(FunctionName="st-layers", Layers=[here])
    assert [layer["Arn"] for layer in got["Layers"]] == [here]


def test_an_unknown_layer_of_another_account_is_access_denied(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    foreign = f"arn:aws:lambda:{sandbox.config.region}:210987654321:layer:someones-layer:1"
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", Layers=[foreign])
    assert _error(err)[0] == "AccessDeniedException"


def test_an_unpublished_layer_of_this_account_does_not_exist(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    region, account = sandbox.config.region, sandbox.config.account_id
    missing = f"arn:aws:lambda:{region}:{account}:layer:powertools:3"
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", Layers=[missing])
    code, message, _ = _error(err)
    assert code == "InvalidParameterValueException"
    assert message == f"Layer version {missing} does not exist."
    # once published, the function may use it alongside a public extension
    from sandbox_helpers import code_zip

    own = lam.publish_layer_version(LayerName="powertools", Content={"ZipFile": code_zip()})
    layers = [own["LayerVersionArn"], chaos_extension_layer(region)]
    got = lam.update_function_configuration(FunctionName="st-layers", Layers=layers)
    assert [layer["Arn"] for layer in got["Layers"]] == layers


def test_at_most_five_layers(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> None:
    lam = sandbox_client("lambda")
    region = sandbox.config.region
    six = [chaos_extension_layer(region).rsplit(":", 1)[0] + f":{v}" for v in range(1, 7)]
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", Layers=six)
    assert _error(err)[:2] == (
        "InvalidParameterValueException",
        "Cannot reference more than 5 layers.",
    )
    lam.update_function_configuration(FunctionName="st-layers", Layers=six[:5])


def test_the_fis_extension_layer_is_found_through_its_public_parameter(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    ssm, lam = sandbox_client("ssm"), sandbox_client("lambda")
    arns = {}
    for arch in ("x86_64", "arm64"):
        name = f"/aws/service/fis/lambda-extension/AWS-FIS-extension-{arch}/1.x.x"
        arns[arch] = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        assert arns[arch].startswith(f"arn:aws:lambda:{sandbox.config.region}:")
        assert arns[arch].split(":")[6] == f"aws-fis-extension-{arch}"
    got = lam.update_function_configuration(FunctionName="st-layers", Layers=[arns["x86_64"]])
    assert [layer["Arn"] for layer in got["Layers"]] == [arns["x86_64"]]
    # another Region's FIS layer is refused like any foreign layer
    other = arns["x86_64"].replace(sandbox.config.region, "us-west-2")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", Layers=[other])
    assert _error(err)[0] == "AccessDeniedException"


# -- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        ({"Timeout": 901}, "ValidationException", "Value '901' at 'timeout'"),
        ({"MemorySize": 10241}, "ValidationException", "Value '10241' at 'memorySize'"),
        (
            {"Environment": {"Variables": {"BIG": "x" * 4096}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
    ],
)
def test_configuration_limits(
    sandbox: Sandbox,
    sandbox_client: Callable[[str], Any],
    change: dict[str, Any],
    code: str,
    fragment: str,
) -> None:
    lam = sandbox_client("lambda")
    before = lam.get_function_configuration(FunctionName="st-layers")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="st-layers", **change)
    got_code, message, status = _error(err)
    assert (got_code, status) == (code, 400) and fragment in message
    after = lam.get_function_configuration(FunctionName="st-layers")
    assert after["Timeout"] == before["Timeout"] and after["MemorySize"] == before["MemorySize"]
    # the edges themselves are allowed
    lam.update_function_configuration(FunctionName="st-layers", Timeout=900, MemorySize=10240)
    lam.update_function_configuration(FunctionName="st-layers", Timeout=3, MemorySize=128)


def test_create_function_is_held_to_the_same_limits(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    from sandbox_helpers import code_zip

    lam = sandbox_client("lambda")
    assert sandbox.dataplane is not None and sandbox.dataplane.stack is not None
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName="st-too-long",
            Runtime="python3.12",
            Role=sandbox.dataplane.stack.role_arn,
            Handler="index.handler",
            Code={"ZipFile": code_zip()},
            Timeout=1000,
        )
    assert _error(err)[0] == "ValidationException"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="st-too-long")


def _client(sandbox: Sandbox, service: str, config: Any) -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=sandbox.config.region,
    ).client(
        service,  # type: ignore[call-overload]
        endpoint_url=sandbox.endpoint_url,
        config=config,
    )


def _unvalidated_client(sandbox: Sandbox, service: str) -> Any:
    """boto3 with its own parameter checks off: it sends what a raw request could."""
    from botocore.config import Config

    return _client(sandbox, service, Config(parameter_validation=False))


@pytest.fixture(scope="module")
def counts_function(sandbox: Sandbox, sandbox_client: Callable[[str], Any]) -> str:
    make_function(sandbox, sandbox_client("lambda"), "st-counts", _ok)
    return "st-counts"


@pytest.mark.parametrize(
    ("call", "member", "value", "minimum"),
    [
        ("put_function_concurrency", "ReservedConcurrentExecutions", -1, 0),
        ("put_function_concurrency", "ReservedConcurrentExecutions", True, 0),
        ("put_provisioned_concurrency_config", "ProvisionedConcurrentExecutions", 0, 1),
        ("put_provisioned_concurrency_config", "ProvisionedConcurrentExecutions", 1.5, 1),
    ],
)
def test_concurrency_is_a_whole_number_of_at_least_its_minimum(
    sandbox: Sandbox,
    counts_function: str,
    call: str,
    member: str,
    value: object,
    minimum: int,
) -> None:
    qualifier = {"Qualifier": "live"} if "provisioned" in call else {}
    with pytest.raises(ClientError) as err:
        getattr(_unvalidated_client(sandbox, "lambda"), call)(
            FunctionName=counts_function, **qualifier, **{member: value}
        )
    assert _error(err) == (
        "ValidationException",
        f"1 validation error detected: Value '{value}' at"
        f" '{member[0].lower() + member[1:]}' failed to satisfy constraint: Member must have"
        f" value greater than or equal to {minimum}",
        400,
    )


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("put_function_concurrency", {"ReservedConcurrentExecutions": 1}),
        ("delete_function_concurrency", {}),
    ],
)
def test_reserved_concurrency_is_set_on_the_function_not_a_version_or_alias(
    sandbox_client: Callable[[str], Any], counts_function: str, call: str, kwargs: dict[str, Any]
) -> None:
    lam = sandbox_client("lambda")
    with pytest.raises(ClientError) as err:
        getattr(lam, call)(FunctionName=f"{counts_function}:live", **kwargs)
    code, message, status = _error(err)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "published versions are immutable" in message
    with pytest.raises(ClientError) as err:
        getattr(lam, call)(FunctionName="st-no-such-function", **kwargs)
    assert _error(err)[::2] == ("ResourceNotFoundException", 404)


# -- CodeDeploy deployment configurations -------------------------------------------------


def test_a_deployment_config_reads_back_as_created_and_an_unknown_routing_type_is_refused(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cd = sandbox_client("codedeploy")
    routings: dict[str, dict[str, Any]] = {
        "st-linear": {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2},
        },
        "st-canary": {
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 15, "canaryInterval": 3},
        },
        "st-all": {"type": "AllAtOnce"},
    }
    for name, routing in routings.items():
        cd.create_deployment_config(
            deploymentConfigName=name, computePlatform="Lambda", trafficRoutingConfig=routing
        )
        info = cd.get_deployment_config(deploymentConfigName=name)["deploymentConfigInfo"]
        assert info["trafficRoutingConfig"] == routing
    with pytest.raises(ClientError) as err:
        _unvalidated_client(sandbox, "codedeploy").create_deployment_config(
            deploymentConfigName="st-sometimes",
            computePlatform="Lambda",
            trafficRoutingConfig={"type": "TimeBasedSometimes"},
        )
    code, message, _ = _error(err)
    assert (code, message) == (
        "InvalidTrafficRoutingConfigurationException",
        "Unknown traffic routing type 'TimeBasedSometimes'.",
    )
    assert "st-sometimes" not in cd.list_deployment_configs()["deploymentConfigsList"]


# -- SNS -> SQS ---------------------------------------------------------------------------


def _failed(cw: Any, topic: str, since: datetime) -> float:
    points = cw.get_metric_statistics(
        Namespace="AWS/SNS",
        MetricName="NumberOfNotificationsFailed",
        Dimensions=[{"Name": "TopicName", "Value": topic}],
        StartTime=since - timedelta(minutes=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_sns_delivers_to_sqs_only_with_a_queue_policy_for_the_topic(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    sns, sqs, cw = sandbox_client("sns"), sandbox_client("sqs"), sandbox_client("cloudwatch")
    since = datetime.now(UTC)
    topic = sns.create_topic(Name="st-alerts")["TopicArn"]
    other_topic = sns.create_topic(Name="st-other")["TopicArn"]
    url = sqs.create_queue(QueueName="st-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[str]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"])["Message"] for m in got.get("Messages", [])]

    # WHEN SNS publishes with no queue policy: dropped, and counted as failed
    sns.publish(TopicArn=topic, Message="no-policy")
    assert received() == []
    assert _failed(cw, "st-alerts", since) == 1.0

    def policy(source: str) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": queue_arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": source}},
                    }
                ],
            }
        )

    # a policy for another topic does not let this one in
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(other_topic)})
    sns.publish(TopicArn=topic, Message="wrong-topic")
    assert received() == []
    assert _failed(cw, "st-alerts", since) == 2.0
    # the topic's own policy does
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(topic)})
    sns.publish(TopicArn=topic, Message="allowed")
    assert wait_until(received) == ["allowed"]
    assert _failed(cw, "st-alerts", since) == 2.0


# -- API Gateway headers and the served version -------------------------------------------


def test_api_gateway_returns_no_executed_version_header_but_invoke_does(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    r = httpx.get(sandbox.api_url + "/health/live")
    assert r.status_code == 200
    assert "x-amz-executed-version" not in r.headers
    # the function says which version served it, as a platform's health+json does
    fn = sandbox.function_name("health-liveness")
    served = lam.get_alias(FunctionName=fn, Name="production")["FunctionVersion"]
    assert r.json()["releaseId"] == served
    got = lam.invoke(FunctionName=fn, Qualifier="production", Payload=b"{}")
    assert got["ExecutedVersion"] == served
    assert json.loads(json.loads(got["Payload"].read())["body"])["releaseId"] == served


# -- API request-rate quotas --------------------------------------------------------------


def _no_retry_client(sandbox: Sandbox, service: str) -> Any:
    from botocore.config import Config

    return _client(sandbox, service, Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.fixture
def frozen_quota_clock(sandbox: Sandbox) -> Iterator[list[float]]:
    """Stops the quota clock: a bucket refills only when the test moves it."""
    limiter = sandbox.rate_limiter
    original = limiter.clock
    now = [original() + 10]  # every bucket full again
    limiter.clock = lambda: now[0]
    try:
        yield now
    finally:
        limiter.clock = original


def test_lambda_control_plane_is_15_per_second_and_invoke_is_not_counted(
    sandbox: Sandbox, frozen_quota_clock: list[float]
) -> None:
    lam = _no_retry_client(sandbox, "lambda")
    fn = sandbox.function_name("health-liveness")
    before = sandbox.rate_limiter.throttled.get("control-plane", 0)
    for _ in range(15):
        lam.get_function_configuration(FunctionName=fn)
    with pytest.raises(ClientError) as err:
        lam.get_alias(FunctionName=fn, Name="production")
    assert _error(err)[::2] == ("TooManyRequestsException", 429)
    assert err.value.response["Reason"] == "CallerRateLimitExceeded"
    # invocation and GetFunction (100/s) have their own quotas
    assert lam.invoke(FunctionName=fn, Qualifier="production")["StatusCode"] == 200
    for _ in range(100):
        lam.get_function(FunctionName=fn)
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=fn)
    # a fifteenth of a second later, exactly one more control-plane call fits
    frozen_quota_clock[0] += 1 / 15 + 1e-9
    lam.get_function_configuration(FunctionName=fn)
    with pytest.raises(ClientError):
        lam.get_function_configuration(FunctionName=fn)
    assert sandbox.rate_limiter.throttled["control-plane"] - before == 2


def test_cloudwatch_and_ssm_throttle_at_their_documented_tps(
    sandbox: Sandbox, frozen_quota_clock: list[float]
) -> None:
    cw, ssm = _no_retry_client(sandbox, "cloudwatch"), _no_retry_client(sandbox, "ssm")
    for _ in range(9):
        cw.describe_alarms(MaxRecords=1)
    with pytest.raises(ClientError) as err:
        cw.describe_alarms(MaxRecords=1)
    assert _error(err)[:2] == ("Throttling", "Rate exceeded")
    name = "/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x"
    for _ in range(40):
        ssm.get_parameter(Name=name)
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=name)
    assert _error(err)[:2] == ("ThrottlingException", "Rate exceeded")
