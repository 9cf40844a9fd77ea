"""The history store: runs survive, trends read back, locked and corrupt files are refused
with a clear error and without losing any earlier run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from gameday_samples import T0, run

from lambda_gameday.deployments import (
    DRILL_CREATOR,
    DeploymentRecord,
    deployment_metrics,
    mark_drills,
)
from lambda_gameday.history import SCHEMA_VERSION, HistoryError, HistoryStore, db_path


def test_two_runs_read_back_oldest_first_with_trend_numbers(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.record_run(run(run_id="a", p95=40.0, mttr=50.0, started=T0))
    store.record_run(run(run_id="b", p95=140.0, mttr=None, started=T0 + 3600))
    rows = store.runs()
    assert [r.run_id for r in rows] == ["a", "b"]
    assert rows[0].worst_p95_ms == 40.0 and rows[1].worst_p95_ms == 140.0
    assert rows[0].worst_mttr_s == 50.0 and rows[1].worst_mttr_s is None
    assert rows[0].verdict == "pass" and rows[1].verdict == "fail"
    assert rows[1].slos_failed == 2  # p95 and MTTR
    assert store.get_run("b").phases[1].endpoints[0].p95_ms == 140.0


def test_run_ids_are_never_overwritten(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.record_run(run(run_id="a"))
    with pytest.raises(HistoryError, match="UNIQUE"):
        store.record_run(run(run_id="a", p95=999.0))
    # the failed write left nothing half-written
    assert store.get_run("a").phases[1].endpoints[0].p95_ms == 42.0
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM phases").fetchone()[0] == 3


def test_locked_database_is_a_clear_error_and_keeps_earlier_runs(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", timeout_s=0.1)
    store.record_run(run(run_id="first"))
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="locked by another process"):
            store.record_run(run(run_id="second"))
        with pytest.raises(HistoryError, match="locked"):
            store.check()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert [r.run_id for r in store.runs()] == ["first"]
    store.record_run(run(run_id="second"))
    assert [r.run_id for r in store.runs()] == ["first", "second"]


def test_corrupt_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    junk = b"this is not sqlite, but it is someone's data\n" * 100
    path.write_bytes(junk)
    store = HistoryStore(path)
    with pytest.raises(HistoryError) as info:
        store.check()
    assert "not a valid SQLite database" in str(info.value)
    assert str(path) in str(info.value)
    with pytest.raises(HistoryError):
        store.record_run(run())
    assert path.read_bytes() == junk


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.check()
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(HistoryError, match="newer than this gameday understands"):
        store.runs()


def test_db_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GAMEDAY_DB", raising=False)
    assert db_path() == Path(".gameday/history.sqlite3")
    monkeypatch.setenv("GAMEDAY_DB", "/tmp/env.sqlite3")
    assert db_path() == Path("/tmp/env.sqlite3")
    assert db_path("x.db") == Path("x.db")


def test_deployments_upsert_and_metrics(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    d1 = DeploymentRecord("d-1", "sandbox-dev", "app", "g", "InProgress", T0)
    store.record_deployments([d1])
    store.record_deployments(
        [
            DeploymentRecord("d-1", "sandbox-dev", "app", "g", "Succeeded", T0, T0 + 60),
            DeploymentRecord(
                "d-2",
                "sandbox-dev",
                "app",
                "g",
                "Stopped",
                T0 + 100,
                T0 + 130,
                error_code="ALARM_ACTIVE",
            ),
            DeploymentRecord(
                "d-3",
                "sandbox-dev",
                "app",
                "g",
                "Succeeded",
                T0 + 131,
                T0 + 150,
                creator="codeDeployRollback",
                rollback_of="d-2",
            ),
        ]
    )
    records = store.deployments()
    assert [(r.deployment_id, r.status) for r in records] == [
        ("d-1", "Succeeded"),
        ("d-2", "Stopped"),
        ("d-3", "Succeeded"),
    ]
    m = deployment_metrics(records, window_s=86400, now=T0 + 200)
    # the rollback is not a deployment of its own: 1 of 2 succeeded
    assert (m.deployments, m.succeeded, m.success_rate) == (2, 1, 0.5)
    assert m.mean_duration_s == pytest.approx(45.0)
    assert m.per_day == 2.0
    # a chaos phase's deliberate canary is a drill, not a deployment
    drills = mark_drills(records, [(T0 + 90, T0 + 200)])
    assert [r.creator for r in drills] == ["user", DRILL_CREATOR, DRILL_CREATOR]
    assert deployment_metrics(drills, window_s=86400, now=T0 + 200).success_rate == 1.0
