"""Bad input to `gameday run` / `gameday history`: one clear line, the documented exit
code, nothing started, and no earlier run's data lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("phases:\n  - phase: synthetics\n    probes: [\n", ("not valid YAML at line",)),
        ("phases:\n  - phase: chaoss\n", ("'chaoss' is not a phase", "allowed: conformance")),
        ("phases:\n  - phase: load\n    users: -3\n", ("users = -3 is invalid",)),
    ],
)
def test_bad_plans(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text(text)
    assert_one_line(gameday("run", "--plan", str(plan)), 2, str(plan), *needles)


def test_report_dir_that_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = gameday(
        "run", "--report-dir", str(blocker / "reports"), "--db", str(tmp_path / "h.sqlite3")
    )
    assert_one_line(result, 2, "report directory", "is not writable", "--report-dir")


def seeded_db(path: Path) -> None:
    """A history database holding one earlier run (written by the real store)."""
    sys.path.insert(0, str(ROOT / "tests" / "unit"))
    from gameday_samples import run

    from lambda_gameday.history import HistoryStore

    HistoryStore(path).record_run(run(run_id="earlier"))


def test_locked_database_is_refused_before_anything_runs(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    seeded_db(db)
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        result = gameday("run", "--db", str(db), "--report-dir", str(tmp_path / "r"))
        assert_one_line(result, 2, str(db), "locked by another process")
        assert_one_line(gameday("history", "--db", str(db)), 2, "locked")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    listed = gameday("history", "--db", str(db))
    assert listed.returncode == 0 and "earlier" in listed.stdout


def test_corrupt_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    db.write_bytes(b"\x00garbage that used to be a database\n" * 50)
    before = db.read_bytes()
    result = gameday("run", "--db", str(db), "--report-dir", str(tmp_path / "r"))
    assert_one_line(result, 2, str(db), "not a valid SQLite database")
    assert_one_line(gameday("history", "--db", str(db)), 2, "not a valid SQLite database")
    assert db.read_bytes() == before


TARGET = """\
name = "unreachable"
kind = "aws"
environment = "dev"
region = "ap-south-1"
allow_loopback = true
endpoint_url = "http://127.0.0.1:9"
api_url = "http://127.0.0.1:9/dev"
[[functions]]
name = "hasivu-dev-health-liveness"
path = "/health/live"
"""


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        # issue 16: these failed only when their phase ran (exit 4), after the others ran
        ("phases:\n  - lint\n  - {phase: chaos, experiments: [gone]}\n", ("no experiment 'gone'",)),
        ("phases:\n  - phase: load\n    thresholds: ['p95<<100']\n", ("bad threshold",)),
        ("phases:\n  - phase: load\n    duration_s: .inf\n", ("duration_s = inf is invalid",)),
        # issue 13: a plan cannot grant itself production
        ("phases:\n  - {phase: chaos, allow_production: true}\n", ("only the command line",)),
    ],
)
def test_plan_problems_are_refused_before_any_phase(
    tmp_path: Path, text: str, needles: tuple[str, ...]
) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text(text)
    target = tmp_path / "t.toml"
    target.write_text(TARGET)
    reports = tmp_path / "reports"
    result = gameday(
        "run", "--plan", str(plan), "--target", str(target), "--no-history",
        "--report-dir", str(reports),
    )  # fmt: skip
    assert_one_line(result, 2, str(plan), *needles)
    assert not reports.exists()  # nothing ran, so no report directory either
