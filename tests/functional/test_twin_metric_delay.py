"""Metrics published with AWS's delay: with a publish delay (60 s in faithful timing, 0 in
fast), an AWS/Lambda value is invisible to GetMetricStatistics until it is that old, and then
carries the instant it happened, not the instant it arrived."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox_helpers import wait_until

from lambda_gameday.sandbox import Sandbox, SandboxConfig

DELAY = 1.5


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(init_duration_ms=20.0, extra={"metric_publish_delay_s": DELAY})
    with Sandbox(config) as sb:
        yield sb


def test_a_value_reaches_cloudwatch_only_after_the_publish_delay(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cw = sandbox_client("cloudwatch")
    fn = sandbox.function_name("health-startup")
    since = datetime.now(UTC) - timedelta(minutes=1)

    def invocations() -> list[dict[str, Any]]:
        points: list[dict[str, Any]] = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=[{"Name": "FunctionName", "Value": fn}],
            StartTime=since,
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=1,
            Statistics=["Sum"],
        )["Datapoints"]
        return points

    sent = time.time()
    assert httpx.get(sandbox.api_url + "/health/startup").status_code == 200
    answered = time.time()
    assert sandbox.dataplane is not None
    sandbox.dataplane.telemetry.flush()  # a flush moves only what is old enough
    assert invocations() == []
    points = wait_until(invocations, timeout=DELAY + 5)
    arrived = time.time()
    assert arrived - sent >= DELAY
    (point,) = points
    assert point["Sum"] == 1.0
    # stamped when it happened (while the request was in flight, to the 1 s bucket), not
    # when it arrived: on a starved CPU the request itself can cross a second boundary
    assert int(sent) - 1 <= point["Timestamp"].timestamp() <= answered + 1
    assert point["Timestamp"].timestamp() < arrived - DELAY + 1


@pytest.mark.parametrize(("timing", "delay"), [("fast", 0.0), ("faithful", 60.0)])
def test_the_delay_is_per_timing(timing: str, delay: float) -> None:
    config = SandboxConfig(init_duration_ms=20.0, account_id="210987654321", timing=timing)  # type: ignore[arg-type]
    with Sandbox(config) as sb:
        assert sb.dataplane is not None and sb.dataplane.telemetry.publish_delay_s == delay
