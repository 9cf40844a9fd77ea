"""`--clock-skew` reaches the timestamps moto stamps itself: a function's LastModified (create,
configuration change, publish), provisioned concurrency's LastModified, an alarm's
configuration-update time, SNS's message Timestamp (published through the API and by an
alarm action) and API Gateway's requestTime — each on AWS's clock, ahead or behind."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sandbox_helpers import make_function, wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="module", params=[3.0, -3.0], ids=["ahead", "behind"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    config = SandboxConfig(init_duration_ms=20.0, clock_skew_s=request.param, legacy=frozenset())
    with Sandbox(config) as sb:
        yield sb


class Window:
    """AWS's clock during a call: [local before, local after] + skew (1 ms of rounding)."""

    def __init__(self, skew: float):
        self.skew = skew

    def __enter__(self) -> Window:
        self.before = time.time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = time.time()

    def holds(self, stamp: float) -> bool:
        return self.before + self.skew - 0.001 <= stamp <= self.after + self.skew + 0.001


def _lambda_time(text: str) -> float:
    """2024-01-02T03:04:05.678+0000 or moto's ...05.678901000Z -> epoch seconds."""
    if text.endswith("Z"):
        text = text[:-1][:26] + "+00:00"
    return datetime.strptime(text.replace("+0000", "+00:00"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(event["requestContext"])}


def test_function_last_modified_is_aws_clock(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, skew = sandbox_client("lambda"), sandbox.config.clock_skew_s
    with Window(skew) as created:
        make_function(sandbox, lam, "ck-fn", _echo, path="/ck")
    config = lam.get_function_configuration(FunctionName="ck-fn:1")
    assert created.holds(_lambda_time(config["LastModified"]))  # the publish stamped it
    with Window(skew) as changed:
        got = lam.update_function_configuration(FunctionName="ck-fn", Timeout=5)
    assert changed.holds(_lambda_time(got["LastModified"]))
    with Window(skew) as provisioned:
        lam.put_provisioned_concurrency_config(
            FunctionName="ck-fn", Qualifier="live", ProvisionedConcurrentExecutions=1
        )
    pc = lam.get_provisioned_concurrency_config(FunctionName="ck-fn", Qualifier="live")
    assert provisioned.holds(_lambda_time(pc["LastModified"]))


def test_api_gateway_request_time_is_aws_clock(sandbox: Sandbox) -> None:
    with Window(sandbox.config.clock_skew_s) as sent:
        r = httpx.get(sandbox.api_url + "/ck")
    assert r.status_code == 200
    epoch_ms = r.json()["requestTimeEpoch"]
    # whole milliseconds, truncated
    assert sent.before + sent.skew - 0.002 <= epoch_ms / 1000 <= sent.after + sent.skew


def test_alarm_configuration_time_and_sns_timestamps_are_aws_clock(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    skew = sandbox.config.clock_skew_s
    sns, sqs, cw = sandbox_client("sns"), sandbox_client("sqs"), sandbox_client("cloudwatch")
    topic = sns.create_topic(Name="ck-alerts")["TopicArn"]
    url = sqs.create_queue(QueueName="ck-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def stamps() -> list[tuple[str, float]]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        out = []
        for m in got.get("Messages", []):
            body = json.loads(m["Body"])
            out.append((body["Message"], _lambda_time(body["Timestamp"])))
        return out

    with Window(skew) as published:
        sns.publish(TopicArn=topic, Message="by-hand")
    ((message, at),) = wait_until(stamps)
    assert message == "by-hand" and published.holds(at)

    with Window(skew) as put:
        cw.put_metric_alarm(
            AlarmName="ck-alarm",
            Namespace="Twin/Clock",
            MetricName="Nothing",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="ignore",
            AlarmActions=[topic],
        )
    (alarm,) = cw.describe_alarms(AlarmNames=["ck-alarm"])["MetricAlarms"]
    assert put.holds(alarm["AlarmConfigurationUpdatedTimestamp"].timestamp())
    # the alarm's action publishes from the alarm loop, not from an API call
    with Window(skew) as fired:
        cw.set_alarm_state(AlarmName="ck-alarm", StateValue="ALARM", StateReason="drill")
    ((message, at),) = wait_until(stamps)
    assert json.loads(message)["NewStateValue"] == "ALARM" and fired.holds(at)
