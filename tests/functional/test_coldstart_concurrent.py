"""REPORT lines of concurrent invocations, matched on the real sandbox (moto's CloudWatch
Logs, filled by the twin's telemetry flusher).

The condition behind the provisioned probe's "no REPORT line for 1 of 5 invocations":
without a request id in the Invoke response, an invocation that starts later but returns
sooner logs its REPORT line inside the window of one still in flight. The handler below
makes that happen every time: the first invocation blocks until the test has seen the
second one come back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sandbox_helpers import make_function

from lambda_gameday.sandbox import Sandbox
from lambda_gameday.synthetics.coldstart import _attach_reports, _invoke

NAME = "gameday-test-nested-windows"


def test_a_later_invocation_that_returns_first_gets_its_own_report_line(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam, logs = sandbox_client("lambda"), sandbox_client("logs")
    first_running, release = threading.Event(), threading.Event()
    ids: list[str] = []  # request ids in the order the handler saw them: ground truth

    def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
        ids.append(context.aws_request_id)
        if len(ids) == 1:
            first_running.set()
            assert release.wait(10), "the test never released the first invocation"
        return {"statusCode": 200}

    make_function(sandbox, lam, NAME, handler)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # GIVEN invocation A in flight, and B started after A and back before A returns
        a_future = pool.submit(_invoke, lam, NAME, "live")
        assert first_running.wait(10)
        b = _invoke(lam, NAME, "live")
        b_end = b[0].started_at + b[0].client_ms / 1000.0
        # A's REPORT line must fall outside B's window (5 ms of timestamp slack)
        while time.time() < b_end + 0.02:
            time.sleep(0.005)
        release.set()
        a = a_future.result(timeout=10)
    # (the time-window path: as if the Invoke response carried no request id)
    a_sample, b_sample = replace(a[0], request_id=None), replace(b[0], request_id=None)
    assert a_sample.started_at < b_sample.started_at
    assert b_end < a_sample.started_at + a_sample.client_ms / 1000.0  # B's window is nested

    # WHEN their REPORT lines are matched by time window
    pairs = [(a_sample, None), (b_sample, None)]
    a_out, b_out = _attach_reports(logs, NAME, pairs, deadline_s=10.0, poll_s=0.02)

    # THEN each invocation has a REPORT line, and it is its own
    assert a_out.report_found and b_out.report_found
    assert (a_out.request_id, b_out.request_id) == (ids[0], ids[1])
