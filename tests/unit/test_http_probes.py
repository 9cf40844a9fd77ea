"""The HTTP probes' waits (chaos/http/probes.py) against a real loopback server: each returns
when its condition holds (the instant it reports) and fails with its own one line when it
does not within its timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lambda_gameday.chaos.controls.traffic import TrafficRecorder
from lambda_gameday.chaos.http import probes
from lambda_gameday.chaos.run import RUN_KEY, RunContext
from lambda_gameday.exceptions import GamedayError


class _Answers:
    """What the server answers now: a status and a body."""

    def __init__(self) -> None:
        self.status = 200
        self.body: object = {"status": "pass"}


class _Server(ThreadingHTTPServer):
    answers: _Answers


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        answers = self.server.answers
        data = json.dumps(answers.body).encode()
        self.send_response(answers.status)
        self.send_header("Content-Type", "application/health+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[tuple[str, _Answers]]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.answers = _Answers()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.answers
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _conf(url: str, run: RunContext | None = None) -> dict[str, object]:
    conf: dict[str, object] = {"gameday_api_url": url}
    if run is not None:
        conf[RUN_KEY] = run
    return conf


def test_wait_for_failure_reports_when_the_failed_request_was_sent(
    server: tuple[str, _Answers],
) -> None:
    url, answers = server
    answers.status = 503
    before = time.time()
    sent = probes.wait_for_failure("/p", timeout_s=10, interval_s=0.01, configuration=_conf(url))
    assert before <= sent <= time.time()
    answers.status = 200
    with pytest.raises(GamedayError) as err:
        probes.wait_for_failure("/p", timeout_s=0.2, interval_s=0.01, configuration=_conf(url))
    assert str(err.value) == "/p: no failed request within 0.2s"


def test_wait_for_sustained_success_returns_when_the_run_began(
    server: tuple[str, _Answers],
) -> None:
    url, answers = server
    before = time.time()
    began = probes.wait_for_sustained_success(
        "/p", consecutive=3, timeout_s=10, interval_s=0.01, configuration=_conf(url)
    )
    assert before <= began <= time.time()
    answers.status = 500
    with pytest.raises(GamedayError) as err:
        probes.wait_for_sustained_success(
            "/p", consecutive=3, timeout_s=0.2, interval_s=0.01, configuration=_conf(url)
        )
    assert str(err.value) == "/p: no 3 consecutive successes within 0.2s"


def test_wait_for_health_check_returns_the_component_output(
    server: tuple[str, _Answers],
) -> None:
    url, answers = server
    answers.body = {
        "status": "fail",
        "checks": {"database:responseTime": [{"status": "fail", "output": "timed out"}]},
    }
    assert probes.wait_for_health_check("/h", timeout_s=10, configuration=_conf(url)) == (
        "timed out"
    )
    answers.body = {"checks": {"database:responseTime": [{"status": "pass"}]}}
    with pytest.raises(GamedayError) as err:
        probes.wait_for_health_check("/h", timeout_s=0.3, configuration=_conf(url))
    assert str(err.value) == "/h: check 'database' did not report 'fail' within 0.3s (last: pass)"


@pytest.fixture
def traffic(server: tuple[str, _Answers]) -> Iterator[tuple[RunContext, _Answers]]:
    url, answers = server
    run = RunContext()
    recorder = TrafficRecorder(url, ["/p"], interval_s=0.01, max_duration_s=30, max_probes=3000)
    run.traffic = recorder
    recorder.start()
    try:
        yield run, answers
    finally:
        recorder.stop()


def test_user_impact_and_recovery_are_judged_on_the_background_traffic(
    server: tuple[str, _Answers], traffic: tuple[RunContext, _Answers]
) -> None:
    url, _ = server
    run, answers = traffic
    answers.status = 500
    first = probes.wait_for_user_impact(
        "/p", failures=3, timeout_s=10, configuration=_conf(url, run)
    )
    failed = [r for r in run.recorded() if not r.ok and r.sent_at >= first]
    assert len(failed) >= 3 and min(r.sent_at for r in failed) == first
    answers.status = 200
    began = probes.wait_for_user_recovery(
        "/p", consecutive=4, timeout_s=10, configuration=_conf(url, run)
    )
    after = [r for r in run.recorded() if r.sent_at >= began]
    assert len(after) >= 4 and all(r.ok for r in after[:4]) and after[0].sent_at == began
    assert began > first


def test_traffic_waits_say_what_the_traffic_saw_when_they_time_out(
    server: tuple[str, _Answers], traffic: tuple[RunContext, _Answers]
) -> None:
    url, _ = server
    run, _ = traffic
    with pytest.raises(GamedayError) as err:
        probes.wait_for_user_impact("/p", failures=2, timeout_s=0.2, configuration=_conf(url, run))
    assert str(err.value) == (
        "background traffic saw 0 failed request(s) on /p within 0.2s, wanted 2"
        " (is the gameday-traffic control running?)"
    )
    idle = RunContext()  # no gameday-traffic control: nothing recorded
    with pytest.raises(GamedayError) as err:
        probes.wait_for_user_recovery(consecutive=2, timeout_s=0.2, configuration=_conf(url, idle))
    assert str(err.value) == (
        "background traffic saw no 2 consecutive successes within 0.2s"
        " (last streak 0; is the gameday-traffic control running?)"
    )
