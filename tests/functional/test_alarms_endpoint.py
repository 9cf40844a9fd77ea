"""Alarms on the sandbox endpoint evaluate for real: state, reason, history, notifications."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import assert_started_insufficient, wait_until

from lambda_gameday.chaos.sns.actions import queue_policy
from lambda_gameday.sandbox import Sandbox, SandboxConfig

NS = "Test/Gameday"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=3)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def aws(sb: Sandbox) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sb.config.region
    )
    return lambda name: session.client(name, endpoint_url=sb.endpoint_url)


def _queue_on_topic(aws: Any, topic_name: str) -> str:
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    url = sqs.create_queue(QueueName=f"{topic_name}-q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # SNS delivers to a queue only if its policy lets the topic send (as on AWS)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy(arn, topic)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return url


def _put_alarm(aws: Any, name: str, topic_arn: str, **kw: Any) -> None:
    params = {
        "AlarmName": name,
        "AlarmDescription": "test alarm",
        "MetricName": "Failures",
        "Namespace": NS,
        "Statistic": "Sum",
        "Period": 1,
        "EvaluationPeriods": 2,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
        "AlarmActions": [topic_arn],
        **kw,
    }
    aws("cloudwatch").put_metric_alarm(**{k: v for k, v in params.items() if v is not None})


def test_alarm_goes_insufficient_data_to_alarm_with_history_and_notification(
    sb: Sandbox, aws: Any
) -> None:
    cw = aws("cloudwatch")
    queue = _queue_on_topic(aws, "alerts-a")
    topic = aws("sns").create_topic(Name="alerts-a")["TopicArn"]
    # GIVEN a new alarm (2 of 2 periods, missing data not breaching, like the seed's)
    _put_alarm(aws, "failures-high", topic, TreatMissingData="notBreaching")
    (alarm,) = cw.describe_alarms(AlarmNames=["failures-high"])["MetricAlarms"]
    assert_started_insufficient(sb, alarm)
    created = alarm["StateTransitionedTimestamp"]

    # WHEN breaching values arrive every ~100 ms (bounded: 8 s at most)
    start = time.time()
    event = None
    while time.time() - start < 8 and event is None:
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "Failures", "Value": 10}])
        event = sb.truth.wait_for("alarm", "failures-high", timeout=0.1, new="ALARM")
    # THEN the alarm fires, and the endpoint shows the transition at the recorded instant
    assert event is not None, "the alarm never reached ALARM"
    # no data at first counts as not breaching: INSUFFICIENT_DATA -> OK -> ALARM
    assert event.detail["old"] == "OK"
    first = sb.truth.events("alarm", "failures-high")[0]
    assert (first.detail["old"], first.detail["new"]) == ("INSUFFICIENT_DATA", "OK")
    (alarm,) = cw.describe_alarms(AlarmNames=["failures-high"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 datapoints [")
    assert alarm["StateReason"].endswith("were greater than the threshold (5.0).")
    data = json.loads(alarm["StateReasonData"])
    assert data["period"] == 1 and data["statistic"] == "Sum" and data["threshold"] == 5.0
    assert all(p["value"] > 5 for p in data["evaluatedDatapoints"])
    assert alarm["StateTransitionedTimestamp"].timestamp() == pytest.approx(event.at, abs=0.002)
    assert alarm["StateTransitionedTimestamp"] > created

    # the action runs after the state change is recorded (asynchronously on AWS): wait for it
    def history_with_action() -> list[dict[str, Any]]:
        items = cw.describe_alarm_history(AlarmName="failures-high")["AlarmHistoryItems"]
        return items if any(h["HistoryItemType"] == "Action" for h in items) else []

    history = wait_until(history_with_action, timeout=5, interval=0.05)
    kinds = {h["HistoryItemType"] for h in history}
    assert {"ConfigurationUpdate", "StateUpdate", "Action"} <= kinds
    update = next(h for h in history if h["HistoryItemType"] == "StateUpdate")  # newest first
    assert update["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert json.loads(update["HistoryData"])["newState"]["stateValue"] == "ALARM"
    only = cw.describe_alarm_history(AlarmName="failures-high", HistoryItemType="StateUpdate")
    assert {h["HistoryItemType"] for h in only["AlarmHistoryItems"]} == {"StateUpdate"}

    messages = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1  # one change into ALARM -> one notification (no OKActions)
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == 'ALARM: "failures-high" in Asia Pacific (Mumbai)'
    body = json.loads(envelope["Message"])
    assert body["AlarmName"] == "failures-high"
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "OK"
    assert body["AWSAccountId"] == sb.config.account_id
    assert body["Region"] == "Asia Pacific (Mumbai)"
    assert body["Trigger"]["Statistic"] == "SUM"
    assert body["Trigger"]["Namespace"] == NS
    assert body["NewStateReason"] == alarm["StateReason"]

    # WHEN the alarm is re-put (an update) THEN it keeps its state (moto would reset it)
    _put_alarm(aws, "failures-high", topic, Threshold=6.0, TreatMissingData="notBreaching")
    (again,) = cw.describe_alarms(AlarmNames=["failures-high"])["MetricAlarms"]
    read_at = time.time()
    assert again["Threshold"] == 6.0
    if again["StateValue"] != "ALARM":
        # a stall past two 1 s periods since the last breaching value (before the re-put or
        # after it) lets the missing data evaluate to OK: then ground truth shows that one
        # evaluation out of ALARM (the state is set just before it is recorded), not a reset
        assert again["StateValue"] == "OK"
        sb.truth.wait_for("alarm", "failures-high", timeout=5, after=event.at, old="ALARM")
        later = [e for e in sb.truth.events("alarm", "failures-high") if e.at > event.at]
        assert [(e.detail["old"], e.detail["new"]) for e in later] == [("ALARM", "OK")]
        assert str(later[0].detail["reason"]).startswith("Threshold Crossed")
        assert later[0].at <= read_at  # the OK that was read, not one made while waiting

    # WHEN set_alarm_state moves it to OK THEN no ALARM notification is sent again
    cw.set_alarm_state(AlarmName="failures-high", StateValue="OK", StateReason="manual")
    (ok,) = cw.describe_alarms(AlarmNames=["failures-high"])["MetricAlarms"]
    assert ok["StateValue"] == "OK" and ok["StateReason"] == "manual"
    assert aws("sqs").receive_message(QueueUrl=queue).get("Messages") is None


def test_percentile_alarm_from_raw_values(sb: Sandbox, aws: Any) -> None:
    cw = aws("cloudwatch")
    topic = aws("sns").create_topic(Name="alerts-p")["TopicArn"]
    # GIVEN a p90 latency alarm (moto alone answers percentiles with a server error)
    _put_alarm(
        aws,
        "latency-p90",
        topic,
        MetricName="Latency",
        Statistic=None,
        ExtendedStatistic="p90",
        Threshold=100.0,
        EvaluationPeriods=1,
        EvaluateLowSampleCountPercentile="evaluate",
    )
    # WHEN 80 % of requests are fast and 20 % slow: the average stays under 100 ms, p90 not
    start = time.time()
    event = None
    while time.time() - start < 6 and event is None:
        cw.put_metric_data(
            Namespace=NS,
            MetricData=[{"MetricName": "Latency", "Values": [10.0, 500.0], "Counts": [8, 2]}],
        )
        event = sb.truth.wait_for("alarm", "latency-p90", timeout=0.2, new="ALARM")
    assert event is not None
    (alarm,) = cw.describe_alarms(AlarmNames=["latency-p90"])["MetricAlarms"]
    assert json.loads(alarm["StateReasonData"])["extendedStatistic"] == "p90"
    assert "500.0" in alarm["StateReason"]


def test_put_metric_alarm_rejects_invalid_operator_and_treat_missing(aws: Any) -> None:
    cw = aws("cloudwatch")
    topic = aws("sns").create_topic(Name="alerts-x")["TopicArn"]
    with pytest.raises(ClientError) as err:
        _put_alarm(aws, "bad-op", topic, ComparisonOperator="MoreThan")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "comparisonOperator" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        _put_alarm(aws, "bad-tmd", topic, TreatMissingData="zero")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as err:
        _put_alarm(aws, "bad-stat", topic, ExtendedStatistic="p99")
    assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert not cw.describe_alarms(AlarmNamePrefix="bad-")["MetricAlarms"]


def test_fast_timing_accepts_short_periods_but_says_so(aws: Any) -> None:
    cw = aws("cloudwatch")
    topic = aws("sns").create_topic(Name="alerts-s")["TopicArn"]
    _put_alarm(aws, "short-period", topic, Period=3)
    cw.describe_alarms(AlarmNames=["short-period"])
    items = cw.describe_alarm_history(
        AlarmName="short-period", HistoryItemType="ConfigurationUpdate"
    )["AlarmHistoryItems"]
    assert any("AWS rejects" in h["HistorySummary"] for h in items)


def test_faithful_timing_rejects_periods_aws_rejects() -> None:
    # A second sandbox: the module's one must be stopped first (moto is process-global),
    # so this test builds its own API shell with only the alarm engine installed.
    from lambda_gameday.sandbox.alarms import AlarmEngine, AlarmSettings
    from lambda_gameday.sandbox.awsapi import AwsApi
    from lambda_gameday.sandbox.truth import GroundTruth

    api = AwsApi()
    engine = AlarmEngine(
        GroundTruth(), "123456789012", "eu-west-1", AlarmSettings(allow_short_periods=False)
    )
    engine.install(api)
    api.start()
    try:
        cw = boto3.client(
            "cloudwatch",
            endpoint_url=api.url,
            region_name="eu-west-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        with pytest.raises(ClientError) as err:
            cw.put_metric_alarm(
                AlarmName="p45",
                MetricName="m",
                Namespace="n",
                Statistic="Sum",
                Period=45,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
            )
        assert err.value.response["Error"]["Code"] == "ValidationError"
        assert err.value.response["Error"]["Message"] == (
            "Period must be 10, 20, 30 or a multiple of 60."
        )
    finally:
        api.stop()
