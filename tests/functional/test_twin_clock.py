"""`--clock-skew`: AWS's clock runs offset from the local one, and every timestamp AWS stamps
uses it; the ground truth stays on the local clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from sandbox_helpers import report_lines, wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig

SKEW = 30.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(init_duration_ms=20.0, clock_skew_s=SKEW)) as sb:
        yield sb


def test_the_date_header_of_aws_api_responses_is_aws_clock(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    before = time.time()
    got = sandbox_client("lambda").list_functions()
    after = time.time()
    date = parsedate_to_datetime(got["ResponseMetadata"]["HTTPHeaders"]["date"]).timestamp()
    # Date has whole seconds: AWS's now lies within [before, after] + skew, floored
    assert before + SKEW - 1 <= date <= after + SKEW


def test_alarm_transitions_are_stamped_by_aws_clock_and_truth_stays_local(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cw = sandbox_client("cloudwatch")
    # an alarm of its own, on a metric nobody writes, that keeps its state without data
    name = "twin-clock-drill"
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="Twin/Clock",
        MetricName="Nothing",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )
    before = time.time()
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill")
    after = time.time()
    truth = sandbox.truth.wait_for("alarm", name, timeout=2, new="ALARM")
    assert truth is not None
    assert before <= truth.at <= after  # what really happened, on the local clock
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    stamped = alarm["StateTransitionedTimestamp"].timestamp()
    assert stamped == pytest.approx(truth.at + SKEW, abs=0.001)
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    to_alarm = [
        h["Timestamp"].timestamp()
        for h in history["AlarmHistoryItems"]
        if h["HistorySummary"].endswith("to ALARM")
    ]
    assert to_alarm == [pytest.approx(truth.at + SKEW, abs=0.001)]


def test_log_and_metric_timestamps_are_aws_clock(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    fn = sandbox.function_name("health-startup")
    before = time.time()
    assert httpx.get(sandbox.api_url + "/health/startup").status_code == 200
    after = time.time()
    logs = sandbox_client("logs")
    lines = wait_until(lambda: report_lines(logs, fn, int((before + SKEW - 1) * 1000)))
    assert lines
    events = logs.filter_log_events(
        logGroupName=f"/aws/lambda/{fn}", startTime=int((before + SKEW - 1) * 1000)
    )["events"]
    stamps = [e["timestamp"] / 1000 for e in events if e["message"].startswith("REPORT")]
    assert stamps and all(before + SKEW <= s <= after + SKEW for s in stamps)
    assert sandbox.dataplane is not None
    points = wait_until(
        lambda: sandbox.dataplane.raw_datapoints(  # type: ignore[union-attr]
            "Invocations", {"FunctionName": fn}, before + SKEW - 1, after + SKEW + 1
        )
    )
    assert all(before + SKEW <= at <= after + SKEW for at, _ in points)
