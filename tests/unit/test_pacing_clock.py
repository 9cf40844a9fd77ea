"""The pacer keeps the harness inside the account's API quotas; the clock offset from
responses' Date header is known to well under a second, whichever way AWS's clock runs."""

from __future__ import annotations

import random

import pytest

from lambda_gameday.aws import ClockOffset
from lambda_gameday.pacing import Pacer, quota_for


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


def sends(pacer: Pacer, t: FakeTime, n: int, service: str, op: str) -> list[float]:
    out = []
    for _ in range(n):
        pacer.acquire("acct", service, op)
        out.append(t.now)
    return out


@pytest.mark.parametrize(
    ("service", "op", "quota"),
    [
        ("lambda", "GetAlias", 15.0),
        ("lambda", "GetFunction", 100.0),
        ("cloudwatch", "DescribeAlarms", 9.0),
        ("codedeploy", "GetDeployment", 10.0),
    ],
)
def test_no_one_second_window_exceeds_the_share_of_the_quota(
    service: str, op: str, quota: float
) -> None:
    t = FakeTime()
    pacer = Pacer(0.5, clock=t.clock, sleep=t.sleep)
    at = sends(pacer, t, 200, service, op)
    busiest = max(sum(1 for x in at if s <= x < s + 1.0) for s in at)
    # the harness's share (half) of the quota, never the whole of it
    assert busiest <= quota * 0.5 + 1
    assert busiest < quota
    # and it keeps going: 200 calls take about 200 / rate seconds, not forever
    assert at[-1] - at[0] == pytest.approx(199 / (quota * 0.5), rel=0.05)


def test_the_lambda_control_plane_is_one_bucket_for_every_operation() -> None:
    t = FakeTime()
    pacer = Pacer(0.5, clock=t.clock, sleep=t.sleep)
    for op in ("GetAlias", "GetFunctionConfiguration", "UpdateAlias", "PublishVersion") * 10:
        pacer.acquire("acct", "lambda", op)
    assert pacer.calls == {"lambda:control-plane": 40}
    assert quota_for("lambda", "Invoke") != quota_for("lambda", "GetAlias")
    assert quota_for("sts", "GetCallerIdentity") is None  # not paced


@pytest.mark.parametrize("skew", [3.0, -3.0, 0.0, 0.4])
def test_offset_from_date_headers_converges_well_inside_a_second(skew: float) -> None:
    rng = random.Random(5)
    offset = ClockOffset()
    local = 1_700_000_000.0
    for _ in range(30):
        local += rng.uniform(0.05, 0.7)
        rtt = rng.uniform(0.001, 0.05)
        aws_at = local + rtt * rng.random() + skew  # stamped somewhere during the call
        offset.add(float(int(aws_at)), local, local + rtt)  # Date has whole seconds
    assert offset.seconds == pytest.approx(skew, abs=0.1)
    assert offset.uncertainty < 0.1
    assert offset.to_local(offset.to_aws(local)) == pytest.approx(local)


def test_a_stepped_local_clock_starts_the_estimate_over() -> None:
    offset = ClockOffset()
    for i in range(10):
        offset.add(1000.0 + i, 1000.0 + i + 0.2, 1000.0 + i + 0.25)
    offset.add(2000.0, 1990.0, 1990.01)  # the local clock jumped 10 s back
    assert offset.seconds == pytest.approx(10.0, abs=0.6)
