"""The history store: every game day in one embedded SQLite file.

Tables: runs, phases, slo_results, timeline_events, experiments, deployments (plus
`meta` holding the schema version). Each run is written in one transaction, so a crash,
a locked database or a full disk leaves the earlier runs exactly as they were; nothing is
ever deleted or truncated. The path is `--db`, else `GAMEDAY_DB`, else
`.gameday/history.sqlite3`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .deployments import DeploymentRecord
from .exceptions import ConfigError
from .gameday.model import RunResult, run_from_dict

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "HistoryError",
    "HistoryStore",
    "RunSummary",
    "db_path",
]

DEFAULT_DB = ".gameday/history.sqlite3"
SCHEMA_VERSION = 2  # 2: slo_results.mark (PASS, FAIL, NO DATA, INCONCLUSIVE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, plan TEXT NOT NULL, target TEXT NOT NULL,
    target_kind TEXT NOT NULL, environment TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL NOT NULL, verdict TEXT NOT NULL,
    report_dir TEXT, document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS phases (
    run_id TEXT NOT NULL REFERENCES runs(run_id), seq INTEGER NOT NULL, name TEXT NOT NULL,
    kind TEXT NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL,
    finished_at REAL NOT NULL, message TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS slo_results (
    run_id TEXT NOT NULL REFERENCES runs(run_id), phase TEXT NOT NULL, metric TEXT NOT NULL,
    subject TEXT NOT NULL, measured REAL, budget REAL NOT NULL, comparison TEXT NOT NULL,
    unit TEXT NOT NULL, samples INTEGER NOT NULL, passed INTEGER NOT NULL,
    lower_bound REAL, detail TEXT NOT NULL, mark TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS experiments (
    run_id TEXT NOT NULL REFERENCES runs(run_id), phase TEXT NOT NULL,
    experiment TEXT NOT NULL, mttr_s REAL, time_to_detect_s REAL, time_to_rollback_s REAL,
    time_to_recover_s REAL, budget_s REAL NOT NULL, failed_requests INTEGER NOT NULL,
    total_requests INTEGER NOT NULL, passed INTEGER NOT NULL, broken_phase TEXT
);
CREATE TABLE IF NOT EXISTS timeline_events (
    run_id TEXT NOT NULL REFERENCES runs(run_id), experiment TEXT NOT NULL,
    seq INTEGER NOT NULL, label TEXT NOT NULL, at REAL, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
    deployment_id TEXT PRIMARY KEY, target TEXT NOT NULL, application TEXT NOT NULL,
    deployment_group TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL,
    completed_at REAL, creator TEXT NOT NULL, rollback_of TEXT, error_code TEXT,
    run_id TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs(target, started_at);
CREATE INDEX IF NOT EXISTS slo_by_run ON slo_results(run_id);
"""


class HistoryError(ConfigError):
    """The history database can't be used (locked, corrupt, newer schema, unwritable)."""


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db` > GAMEDAY_DB > .gameday/history.sqlite3."""
    return Path(explicit or os.environ.get("GAMEDAY_DB") or DEFAULT_DB)


@dataclass(frozen=True)
class RunSummary:
    """One row of `gameday history`: the verdict and the headline numbers of a run."""

    run_id: str
    plan: str
    target: str
    started_at: float
    duration_s: float
    verdict: str
    worst_p95_ms: float | None
    min_availability: float | None
    worst_mttr_s: float | None
    slos_failed: int
    slos_total: int
    report_dir: str | None


def _explain(path: Path, exc: sqlite3.Error, doing: str) -> HistoryError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        why = "it is locked by another process; try again when that run has finished"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = (
            "the file is not a valid SQLite database (corrupt?); it was left untouched — "
            "move it aside or point --db / GAMEDAY_DB elsewhere"
        )
    elif "readonly" in text or "unable to open" in text:
        why = "the file or its folder is not writable"
    else:
        why = text
    return HistoryError(f"history database {path}: {doing}: {why}")


class HistoryStore:
    """Read and append game-day runs. Opens lazily; every write is one transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout_s: float = 1.0):
        self.path = db_path(path)
        self.timeout_s = timeout_s

    @contextmanager
    def _connect(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(
                f"history database {self.path}: cannot create its folder ({exc.strerror})"
            ) from None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
            yield conn
        except sqlite3.Error as exc:
            raise _explain(self.path, exc, doing) from None
        finally:
            if conn is not None:
                conn.close()

    def _migrate(self, conn: sqlite3.Connection) -> None:
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if has_meta:
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {self.path}: schema version {version} is newer than "
                    f"this gameday understands ({SCHEMA_VERSION}); upgrade lambda-gameday"
                )
            if version == SCHEMA_VERSION:
                return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(slo_results)")}
            if "mark" not in columns:  # version 1: an inconclusive SLO read as a failure
                conn.execute("ALTER TABLE slo_results ADD COLUMN mark TEXT NOT NULL DEFAULT ''")
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def check(self) -> None:
        """Open the database (creating it if needed) and read it, so a locked or corrupt
        file is reported before a game day starts rather than after it ran."""
        with self._connect("opening") as conn:
            conn.execute("SELECT count(*) FROM runs").fetchone()
            conn.execute("BEGIN IMMEDIATE")  # proves we can take the write lock
            conn.execute("ROLLBACK")

    def record_run(
        self,
        run: RunResult,
        *,
        report_dir: str | None = None,
        deployments: Sequence[DeploymentRecord] = (),
    ) -> None:
        """Append one run (and the deployments seen during it) in a single transaction."""
        with self._connect(f"storing run {run.run_id}") as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._insert_run(conn, run, report_dir)
                for d in deployments:
                    self._upsert_deployment(conn, d, run.run_id)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _insert_run(self, conn: sqlite3.Connection, run: RunResult, report_dir: str | None) -> None:
        conn.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                run.run_id,
                run.plan,
                run.target,
                run.target_kind,
                run.environment,
                run.started_at,
                run.finished_at,
                run.verdict,
                report_dir,
                json.dumps(run.to_dict(), allow_nan=True),
            ),
        )
        for seq, p in enumerate(run.phases):
            conn.execute(
                "INSERT INTO phases VALUES (?,?,?,?,?,?,?,?)",
                (run.run_id, seq, p.name, p.kind, p.status, p.started_at, p.finished_at, p.message),
            )
            for s in p.slos:
                conn.execute(
                    "INSERT INTO slo_results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run.run_id,
                        p.name,
                        s.metric,
                        s.subject,
                        s.measured,
                        s.budget,
                        s.comparison,
                        s.unit,
                        s.samples,
                        int(s.passed),
                        s.lower_bound,
                        s.detail,
                        s.mark,
                    ),
                )
            for t in p.timelines:
                conn.execute(
                    "INSERT INTO experiments VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run.run_id,
                        p.name,
                        t.experiment,
                        t.mttr_s,
                        t.time_to_detect_s,
                        t.time_to_rollback_s,
                        t.time_to_recover_s,
                        t.budget_s,
                        t.failed_requests,
                        t.total_requests,
                        int(t.passed),
                        t.broken_phase,
                    ),
                )
                for i, e in enumerate(t.events):
                    conn.execute(
                        "INSERT INTO timeline_events VALUES (?,?,?,?,?,?)",
                        (run.run_id, t.experiment, i, e.label, e.at, e.source),
                    )

    @staticmethod
    def _upsert_deployment(
        conn: sqlite3.Connection, d: DeploymentRecord, run_id: str | None
    ) -> None:
        # A deployment seen again later has moved on (InProgress -> Succeeded): keep the
        # newest status, and the run that first saw it.
        conn.execute(
            "INSERT INTO deployments VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(deployment_id) DO UPDATE SET status=excluded.status, "
            "completed_at=excluded.completed_at, error_code=excluded.error_code",
            (
                d.deployment_id,
                d.target,
                d.application,
                d.group,
                d.status,
                d.created_at,
                d.completed_at,
                d.creator,
                d.rollback_of,
                d.error_code,
                run_id,
            ),
        )

    def record_deployments(self, deployments: Sequence[DeploymentRecord]) -> None:
        with self._connect("storing deployments") as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for d in deployments:
                    self._upsert_deployment(conn, d, None)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- reading -------------------------------------------------------------------------

    def runs(
        self, *, target: str | None = None, plan: str | None = None, limit: int = 20
    ) -> list[RunSummary]:
        """The newest `limit` runs (of one target, one plan), oldest first (the order a
        trend is read in)."""
        if not self.path.exists():
            return []
        conditions, args = [], []
        if target:
            conditions.append("r.target = ?")
            args.append(target)
        if plan:
            conditions.append("r.plan = ?")
            args.append(plan)
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        # Each column is named for the RunSummary field it fills.
        sql = f"""
            SELECT r.run_id, r.plan, r.target, r.started_at,
                   r.finished_at - r.started_at AS duration_s, r.verdict, r.report_dir,
                   (SELECT max(measured) FROM slo_results s
                     WHERE s.run_id = r.run_id AND s.metric = 'latency_p95') AS worst_p95_ms,
                   (SELECT min(measured) FROM slo_results s
                     WHERE s.run_id = r.run_id AND s.metric = 'availability')
                     AS min_availability,
                   (SELECT max(mttr_s) FROM experiments e WHERE e.run_id = r.run_id)
                     AS worst_mttr_s,
                   (SELECT count(*) FROM slo_results s
                     WHERE s.run_id = r.run_id AND s.passed = 0 AND s.mark != 'INCONCLUSIVE')
                     AS slos_failed,
                   (SELECT count(*) FROM slo_results s WHERE s.run_id = r.run_id) AS slos_total
            FROM runs r {where} ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?
        """
        with self._connect("reading runs") as conn:
            cursor = conn.cursor()
            cursor.row_factory = sqlite3.Row
            rows = cursor.execute(sql, [*args, limit]).fetchall()
        return [RunSummary(**dict(row)) for row in reversed(rows)]

    def get_run(self, run_id: str) -> RunResult:
        """The full stored run (as written), for re-rendering a report."""
        with self._connect(f"reading run {run_id}") as conn:
            row = conn.execute("SELECT document FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ConfigError(f"history database {self.path}: no run {run_id!r}")
        return run_from_dict(json.loads(row[0]))

    def deployments(self, *, target: str | None = None) -> list[DeploymentRecord]:
        if not self.path.exists():
            return []
        where, args = ("WHERE target = ?", [target]) if target else ("", [])
        with self._connect("reading deployments") as conn:
            rows = conn.execute(
                "SELECT deployment_id, target, application, deployment_group, status, "
                f"created_at, completed_at, creator, rollback_of, error_code FROM deployments "
                f"{where} ORDER BY created_at",
                args,
            ).fetchall()
        return [DeploymentRecord(*row) for row in rows]
