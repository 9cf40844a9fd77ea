"""Reports: self-contained HTML that parses strictly and has the timeline chart, Markdown,
JSON that round-trips, JUnit XML that CI tools read, and secrets redacted everywhere."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from gameday_samples import run

from lambda_gameday.exceptions import TargetError
from lambda_gameday.gameday.model import SLOResult, run_from_dict
from lambda_gameday.report import redact, render_html, render_json, render_junit, write_reports
from lambda_gameday.report.markdown import render_markdown
from lambda_gameday.report.notify import notify_slack, slack_message

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_verdict_sentence_reads_like_a_verdict() -> None:
    slo = SLOResult.check(
        "latency_p95",
        "/health",
        143.0,
        100.0,
        "<",
        "ms",
        2000,
        label="p95",
        detail="worst minute 12:03",
    )
    assert not slo.passed
    assert slo.sentence() == (
        "p95 of /health was 143 ms, budget 100 ms, 2,000 samples, worst minute 12:03"
    )


def test_zero_samples_never_pass() -> None:
    assert not SLOResult.check("latency_p95", "/x", 1.0, 100.0, "<", "ms", 0).passed
    assert not SLOResult.check("latency_p95", "/x", None, 100.0, "<", "ms", 10).passed


def test_html_is_strict_xml_self_contained_and_has_the_timeline_chart() -> None:
    # GIVEN a run with a failed experiment WHEN rendered THEN a strict parser accepts it
    page = render_html(run(mttr=None, with_error=True))
    root = ET.fromstring(page.split("\n", 1)[1])  # after the doctype
    body = root.find(f"{XHTML}body")
    assert body is not None
    first = next(iter(body))
    assert first.get("id") == "verdict" and "ERROR" in (first.text or "")  # verdict first
    charts = root.findall(f".//{SVG}svg")
    timeline = [c for c in charts if "timeline" in (c.get("class") or "")]
    assert len(timeline) == 1
    assert len(timeline[0].findall(f"{SVG}circle")) == 100  # one dot per probe
    assert len(timeline[0].findall(f"{SVG}line")) == 4  # 4 events happened, 1 never
    assert any("histogram" in (c.get("class") or "") for c in charts)
    assert any("availability" in (c.get("class") or "") for c in charts)
    assert any("coldwarm" in (c.get("class") or "") for c in charts)
    # no network: nothing is loaded from anywhere
    assert not re.search(r"(src|href)=\"https?:", page)
    assert "<script" not in page
    assert "&lt;bad&gt; &amp; &#x27;quoted&#x27;" in page  # escaped, not injected


def test_json_round_trips_and_lists_failures() -> None:
    original = run(p95=143.0)
    doc = json.loads(render_json(original))
    assert doc["verdict"] == "fail"
    assert any("p95 of /health was 143 ms" in f for f in doc["failures"])
    assert run_from_dict(doc) == original


def test_junit_counts_failures_per_phase() -> None:
    root = ET.fromstring(render_junit(run(p95=143.0, with_error=True)))
    assert root.tag == "testsuites"
    assert root.get("failures") == "1" and root.get("errors") == "1"
    failure = root.find(".//failure")
    assert failure is not None and "143 ms" in (failure.get("message") or "")


def test_markdown_starts_with_the_verdict() -> None:
    md = render_markdown(run(mttr=200.0))
    assert md.startswith("# ❌ FAIL: default on sandbox-dev (chaos)")
    assert "| faulty-canary |" in md or "**faulty-canary**" in md


def test_write_reports_writes_four_files(tmp_path: Path) -> None:
    paths = write_reports(run(), tmp_path)
    assert sorted(p.name for p in paths) == ["junit.xml", "report.html", "report.json", "report.md"]


@pytest.mark.parametrize(
    "secret",
    [
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
        "AKIAABCDEFGHIJKLMNOP",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Authorization: Bearer abcdef0123456789",
        "https://user:hunter2@example.com/x",
    ],
)
def test_secrets_are_redacted_in_every_format(secret: str) -> None:
    leaky = run(with_error=True)
    phases = list(leaky.phases)
    phases[-1] = phases[-1].__class__(**{**phases[-1].__dict__, "message": f"boom {secret}"})
    leaky = leaky.__class__(**{**leaky.__dict__, "phases": tuple(phases)})
    sensitive = {
        "XXXXXXXXXXXXXXXX",
        "AKIAABCDEFGHIJKLMNOP",
        "wJalrXUtnFEMI",
        "abcdef0123456789",
        "hunter2",
    }
    for text in (
        render_html(leaky),
        render_json(leaky),
        render_junit(leaky),
        render_markdown(leaky),
        json.dumps(slack_message(leaky)),
    ):
        assert "[REDACTED]" in text
        assert not any(s in text for s in sensitive if s in secret)
    assert redact("p95 of /health was 143 ms") == "p95 of /health was 143 ms"


class _Hook(BaseHTTPRequestHandler):
    """A loopback stand-in for Slack's webhook: records bodies, answers with `status`."""

    bodies: ClassVar[list[bytes]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        reply = b"ok" if self.status == 200 else b"invalid_token"
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.bodies.clear()
    try:
        yield f"http://127.0.0.1:{server.server_port}/services/T1/B2/SECRETSECRET"
    finally:
        server.shutdown()
        server.server_close()


def test_slack_notification_goes_to_the_webhook_and_errors_hide_the_url(hook: str) -> None:
    _Hook.status = 200
    notify_slack(hook, run(p95=143.0))
    assert "FAIL" in json.loads(_Hook.bodies[0])["text"]
    _Hook.status = 403
    with pytest.raises(TargetError) as info:
        notify_slack(hook, run())
    assert "127.0.0.1" in str(info.value) and "SECRETSECRET" not in str(info.value)
    assert "403" in str(info.value)
