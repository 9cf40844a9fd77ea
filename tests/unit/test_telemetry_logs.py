"""The sandbox's telemetry flusher writes log lines into moto's CloudWatch Logs."""

from __future__ import annotations

import time
import uuid

from lambda_gameday.sandbox.telemetry import Telemetry

ACCOUNT, REGION = "123456789012", "us-east-1"


def _events(group: str, stream: str) -> list[tuple[int, str]]:
    from moto.logs.models import logs_backends

    events = logs_backends[ACCOUNT][REGION].groups[group].streams[stream].events
    return [(e.timestamp, e.message) for e in events]


def test_lines_buffered_out_of_time_order_all_arrive_in_time_order() -> None:
    # GIVEN a stream whose buffer holds a line stamped earlier than the one before it
    # (the wall clock stepped back); PutLogEvents refuses such a batch as a whole
    group, stream = f"/aws/lambda/telemetry-test-{uuid.uuid4().hex[:8]}", "2026/01/01/[1]x"
    now = time.time()
    telemetry = Telemetry(ACCOUNT, REGION)
    telemetry.log(group, stream, now, "START RequestId: b")
    telemetry.log(group, stream, now - 0.5, "REPORT RequestId: a")
    telemetry.log(group, stream, now, "REPORT RequestId: b")

    # WHEN the buffer is flushed
    telemetry.flush()

    # THEN every line is in moto, oldest first, same-instant lines in buffer order
    got = _events(group, stream)
    assert [m for _, m in got] == [
        "REPORT RequestId: a",
        "START RequestId: b",
        "REPORT RequestId: b",
    ]
    assert [t for t, _ in got] == sorted(t for t, _ in got)

    # and the next flush still works (nothing was left in a bad state)
    telemetry.log(group, stream, now + 0.1, "END RequestId: b")
    telemetry.flush()
    assert _events(group, stream)[-1][1] == "END RequestId: b"
