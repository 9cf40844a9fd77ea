"""One Finding type: the checklist's pass/fail/could-not-check, lint's rules, and the
game-day reports all read the same fields."""

from __future__ import annotations

import json

from lambda_gameday.findings import Finding
from lambda_gameday.gameday.model import PhaseResult, RunResult, run_from_dict
from lambda_gameday.gameday.orchestrator import PHASES
from lambda_gameday.gameday.plan import PHASE_KINDS
from lambda_gameday.report.markdown import render_markdown

T0 = 1_767_000_000.0


def test_checklist_status_follows_severity_and_whether_it_was_checked() -> None:
    ok = Finding("info", "fn", "alias 'production' serves version 3", rule="aliases")
    bad = Finding("error", "fn", "no Duration alarm", "add one", rule="alarms")
    unchecked = Finding("error", "fn", "could not check: throttled", rule="alarms", checked=False)
    assert [f.status for f in (ok, bad, unchecked)] == ["pass", "fail", "error"]


def test_reports_show_the_rule_with_the_message() -> None:
    f = Finding("error", "alarm x", "Period 45 is not valid.", "use 60", rule="period-invalid")
    assert f.text == "period-invalid: Period 45 is not valid."
    assert f.line() == "ERROR period-invalid alarm x: Period 45 is not valid. Fix: use 60"
    assert Finding("error", "/health", "3 probe(s) failed: timeout").text == (
        "3 probe(s) failed: timeout"
    )
    phase = PhaseResult("lint", "lint", "failed", T0, T0 + 1, findings=(f,))
    run = RunResult("r", "p", "t", "sandbox", "dev", T0, T0 + 1, (phase,))
    assert "lint: alarm x: period-invalid: Period 45 is not valid." in run.failures()
    assert "period-invalid: Period 45 is not valid." in render_markdown(run)


def test_findings_round_trip_through_the_report_json() -> None:
    f = Finding("warning", "group g", "no rollback on alarm", "enable it", rule="unguarded")
    phase = PhaseResult("lint", "lint", "passed", T0, T0 + 1, findings=(f,))
    run = RunResult("r", "p", "t", "sandbox", "dev", T0, T0 + 1, (phase,))
    again = run_from_dict(json.loads(json.dumps(run.to_dict())))
    assert again.phases[0].findings == (f,)
    assert f.to_record() == {
        "kind": "finding",
        "severity": "warning",
        "resource": "group g",
        "message": "no rollback on alarm",
        "fix": "enable it",
        "rule": "unguarded",
        "checked": True,
        "status": "pass",
    }


def test_every_phase_kind_has_exactly_one_runner() -> None:
    assert set(PHASES) == set(PHASE_KINDS)
