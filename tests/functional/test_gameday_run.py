"""`gameday run` end to end, as a user runs it (a subprocess per command): a game day on
the sandbox writes its report directory and its history row; two in a row show a trend;
Ctrl-C / SIGTERM stop cleanly and still write the report."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from headless import render
from inherited_signals import sigint_ignored_in_children

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"

TINY = """
name: tiny
phases:
  - phase: conformance
    fail_on: never
  - phase: lint
    fail_on: never
  - phase: synthetics
    probes: 600
    endpoints: [/health/live]
  - phase: chaos
    experiments: [faulty-canary]
    load_users: 2
"""

PROBES_ONLY = """
name: probes-only
phases:
  - phase: synthetics
    probes: 25
"""

ENDLESS = """
name: long
phases:
  - phase: synthetics
    probes: 100000
    max_seconds: 60
"""


def gameday(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def run_dirs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if p.is_dir())


def test_two_game_days_write_reports_and_history_shows_the_trend(tmp_path: Path) -> None:
    plan, second = tmp_path / "tiny.yml", tmp_path / "probes.yml"
    plan.write_text(TINY)
    second.write_text(PROBES_ONLY)
    reports, db = tmp_path / "reports", tmp_path / "history.sqlite3"

    # WHEN a game day with a chaos experiment runs on the sandbox
    first = gameday("run", "--plan", str(plan), "--report-dir", str(reports), "--db", str(db))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "PASS: tiny on sandbox-dev" in first.stdout
    (out,) = run_dirs(reports)
    # THEN the report directory holds every format and the chaos journal
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "report.md", "report.json", "junit.xml", "journals"} <= names
    assert (out / "journals" / "faulty-canary.json").is_file()
    # AND Locust drove the endpoints through the experiment (load in the background)
    assert (out / "journals" / "faulty-canary-load.json").is_file()
    doc = json.loads((out / "report.json").read_text())
    assert doc["verdict"] == "pass"
    lint = next(p for p in doc["phases"] if p["kind"] == "lint")
    # the game day lints what it is about to run: only the faulty canary's fault
    assert not any(
        ".json" in f["message"] and "faulty-canary" not in f["message"] for f in lint["findings"]
    )
    (timeline,) = [t for p in doc["phases"] for t in p["timelines"]]
    assert timeline["mttr_s"] is not None and timeline["mttr_s"] < 120
    (mttr,) = [s for p in doc["phases"] for s in p["slos"] if s["label"] == "MTTR"]
    assert "under load:" in mttr["detail"], mttr
    # AND the HTML parses strictly and draws the timeline with its probes and events
    html = (out / "report.html").read_text()
    root = ET.fromstring(html.split("\n", 1)[1])
    charts = [s for s in root.iter(f"{SVG}svg") if "timeline" in (s.get("class") or "")]
    assert len(charts) == 1
    assert len(charts[0].findall(f"{SVG}circle")) > 10
    assert len(charts[0].findall(f"{SVG}line")) >= 5
    ET.fromstring((out / "junit.xml").read_text())
    # AND a real browser opens it without errors and renders the timeline chart
    shown_html = render(out / "report.html", tmp_path)
    assert shown_html.problems == []
    chart_at = shown_html.dom.index('class="chart timeline"')
    assert shown_html.dom.index("PASS") < chart_at
    assert shown_html.dom.count("<circle", chart_at) > 10
    assert (shown_html.width, shown_html.height) == (1280, 2400)

    # WHEN a second game day runs with too few probes to assert 99.5 % (25 clean probes)
    # (with --publish: its numbers go to CloudWatch on the target; a failure would exit 4)
    again = gameday(
        "run", "--plan", str(second), "--report-dir", str(reports), "--db", str(db), "--publish"
    )
    # THEN it is INCONCLUSIVE (exit 6), neither a pass nor a breach
    assert again.returncode == 6, again.stdout[-2000:] + again.stderr[-2000:]
    assert "INCONCLUSIVE: probes-only on sandbox-dev" in again.stderr
    assert "more good probes needed" in again.stderr
    second_doc = json.loads((run_dirs(reports)[1] / "report.json").read_text())
    assert second_doc["verdict"] == "inconclusive"
    marks = {s["metric"]: s for p in second_doc["phases"] for s in p["slos"]}
    assert marks["availability"]["inconclusive"] and not marks["availability"]["passed"]
    junit = ET.fromstring((run_dirs(reports)[1] / "junit.xml").read_text())
    assert int(junit.get("skipped", "0")) >= 1 and junit.get("failures") == "0"
    # AND history lists both, oldest first, with a trend per plan (unlike plans not compared)
    shown = gameday("history", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    first_id, second_id = (p.name for p in run_dirs(reports))
    assert shown.stdout.index(first_id) < shown.stdout.index(second_id)
    assert "p95 latency:" in shown.stdout and "MTTR:" in shown.stdout
    assert "trend of plan tiny on sandbox-dev (1 run(s))" in shown.stdout
    assert "trend of plan probes-only on sandbox-dev (1 run(s))" in shown.stdout
    assert shown.stdout.count("verdicts: 1 of 1 passed") == 1
    assert shown.stdout.count("verdicts: 0 of 1 passed") == 1
    listed = json.loads(gameday("history", "--db", str(db), "--json").stdout)
    assert [r["plan"] for r in listed] == ["tiny", "probes-only"]
    assert listed[0]["worst_mttr_s"] is not None and listed[1]["worst_mttr_s"] is None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_cleanly_and_still_writes_the_report(
    tmp_path: Path, sig: signal.Signals
) -> None:
    plan = tmp_path / "long.yml"
    plan.write_text(ENDLESS)
    reports, db = tmp_path / "reports", tmp_path / "h.sqlite3"
    # the game day inherits SIGINT as ignored (a script started it with `&`): an interrupt
    # sent to it is honoured all the same, whatever launched the suite
    with sigint_ignored_in_children():
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lambda_gameday.cli",
                "run",
                "--plan",
                str(plan),
                "--report-dir",
                str(reports),
                "--db",
                str(db),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        # wait until the probes are running (their results file has lines), then interrupt
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            files = list(reports.glob("*/synthetics.jsonl")) if reports.exists() else []
            if files and files[0].stat().st_size > 0:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        else:
            pytest.fail("the synthetics phase never started")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out[-2000:] + err[-2000:]
    assert "interrupted" in err
    (run_dir,) = run_dirs(reports)
    doc = json.loads((run_dir / "report.json").read_text())
    assert doc["verdict"] == "interrupted"
    assert doc["phases"][0]["status"] == "interrupted"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT verdict FROM runs").fetchall() == [("interrupted",)]
