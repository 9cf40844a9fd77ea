"""The fault ledger: every change the harness makes to a target is written here BEFORE it
is made.

An entry says what is about to change, on which target (its identity: account id from STS
GetCallerIdentity, Region, endpoint URL and target name), and how to undo it: for each key
the fault changes, the value before and the value the fault sets — nothing else (a
function's other environment variables often hold secrets, and a stale snapshot of them
would overwrite later changes). Rollback activities undo entries and mark them undone;
`gameday cleanup` replays the undo of entries a killed run left open, for the current
target only. An undo restores a key only while it still holds the fault's value, so
replaying one twice is harmless.

The file is JSON Lines, append-only, flushed and fsynced per line so a SIGKILL loses at
most the line being written; appends and compaction take an flock on `<ledger>.lock`:

    {"op": "fault", "id": "...", "at": 1700000000.1, "kind": "canary", ...}
    {"op": "injected", "id": "...", "at": 1700000000.4}
    {"op": "undone", "id": "...", "at": 1700000030.0}

A line that cannot be read (cut short, corrupted) is reported with its line number and
skipped; every other entry is still read. `compact()` drops entries undone long ago.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast, get_args
from urllib.parse import urlsplit

from ..exceptions import ConfigError

__all__ = [
    "DEFAULT_LEDGER",
    "FaultKind",
    "LayersChange",
    "Ledger",
    "LedgerEntry",
    "TargetRef",
    "TimeoutChange",
    "UndoStep",
    "ValueChange",
    "describe_target",
    "same_target",
]

DEFAULT_LEDGER = ".gameday/ledger.jsonl"
COMPACT_AFTER_S = 3600.0  # undone entries older than this are compacted away

FaultKind = Literal[
    "canary",
    "env",
    "alias",
    "concurrency",
    "timeout",
    "ssm",
    "deployment",
    "dependency",
    "subscription",
    "alarm_state",
    "coldstart",
    "fis_experiment",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
UndoOp = Literal[
    "restore_config",
    "restore_alias",
    "restore_concurrency",
    "restore_parameter",
    "stop_deployment",
    "unsubscribe",
    "delete_queue",
    "restore_queue_policy",
    "cleanup_fis",
]
# Derived from the Literal so a new op is readable back from the ledger the moment it exists.
UNDO_OPS: frozenset[str] = frozenset(get_args(UndoOp))


class TargetRef(TypedDict):
    """The target's identity, and enough of it to rebuild clients in another process.

    `account_id` (from STS GetCallerIdentity), `region`, `endpoint_url` and `name` are the
    identity: cleanup touches an entry only on the target with the same four."""

    name: str
    kind: str
    region: str
    endpoint_url: str | None
    profile: str | None
    source: str
    account_id: NotRequired[str]


class ValueChange(TypedDict):
    """One key a fault changes: its value before (None: absent) and the fault's value."""

    before: str | None
    after: str | None


class LayersChange(TypedDict):
    before: list[str]
    after: list[str]


class TimeoutChange(TypedDict):
    before: int
    after: int


class UndoStep(TypedDict):
    """One reversible change. `op` says which fields are used:

    restore_config: function, env (key -> before/after), layers, timeout (each optional)
    restore_alias: function, alias, version + weights (before); after_version +
        after_weights (the fault's routing) or published_above (the fault routes to a
        version published after this number)
    restore_concurrency: function, reserved (before; None = no reservation), after_reserved
    restore_parameter: parameter, value (before; None = delete), after_value, parameter_type
    stop_deployment: deployment_id, or application + deployment_group + marker + listed_from
        (every deployment of the group created since `listed_from`, epoch s, whose description
        carries the marker: written before CreateDeployment, it finds a deployment whose id
        never reached the ledger)
    unsubscribe: subscription_arn, or topic_arn + queue_name (every subscription of the queue)
    delete_queue: queue_url or queue_name
    restore_queue_policy: queue_name, policy (None = no policy)
    cleanup_fis: fis_token (the template's ledger tag), fis_location (S3 configuration ARN)
    """

    op: UndoOp
    function: NotRequired[str]
    env: NotRequired[dict[str, ValueChange]]
    layers: NotRequired[LayersChange]
    timeout: NotRequired[TimeoutChange]
    alias: NotRequired[str]
    version: NotRequired[str]
    weights: NotRequired[dict[str, float]]
    after_version: NotRequired[str]
    after_weights: NotRequired[dict[str, float]]
    published_above: NotRequired[str]
    reserved: NotRequired[int | None]
    after_reserved: NotRequired[int | None]
    parameter: NotRequired[str]
    value: NotRequired[str | None]
    after_value: NotRequired[str | None]
    parameter_type: NotRequired[str]
    deployment_id: NotRequired[str]
    application: NotRequired[str]
    deployment_group: NotRequired[str]
    marker: NotRequired[str]
    listed_from: NotRequired[float]
    subscription_arn: NotRequired[str]
    topic_arn: NotRequired[str]
    queue_url: NotRequired[str]
    queue_name: NotRequired[str]
    fis_token: NotRequired[str]
    fis_location: NotRequired[str | None]
    policy: NotRequired[str | None]


def _endpoint_key(url: str | None) -> str:
    """An endpoint URL compared by scheme, host and port (no trailing slash, no case)."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def same_target(a: TargetRef, b: TargetRef) -> bool:
    """Whether two refs are the same target: account id, Region, endpoint URL and name.
    An entry without an account id (written before identities were recorded) matches no
    target: nothing proves where it was made."""
    acct_a, acct_b = a.get("account_id"), b.get("account_id")
    return (
        bool(acct_a)
        and acct_a == acct_b
        and a.get("region") == b.get("region")
        and _endpoint_key(a.get("endpoint_url")) == _endpoint_key(b.get("endpoint_url"))
        and a.get("name") == b.get("name")
    )


def describe_target(ref: TargetRef) -> str:
    """`name (account 123456789012, ap-south-1, http://127.0.0.1:4566)` for messages."""
    where = ref.get("endpoint_url") or "AWS endpoints"
    acct = ref.get("account_id")
    account = f"account {acct}" if acct else "no account id recorded"
    return f"{ref.get('name', '?')} ({account}, {ref.get('region', '?')}, {where})"


@dataclass
class LedgerEntry:
    id: str
    at: float
    kind: FaultKind
    resource: str  # function, fn:alias, parameter name, topic ...
    description: str
    target: TargetRef
    undo: list[UndoStep]  # applied in order
    run_id: str = ""
    injected_at: float | None = None
    undone_at: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.undone_at is None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _fault_from(record: Mapping[str, object]) -> LedgerEntry | str:
    """The entry a `fault` record describes, or why it cannot be read."""
    eid, at, kind = record.get("id"), _number(record.get("at")), record.get("kind")
    target, undo = record.get("target"), record.get("undo")
    if not isinstance(eid, str) or not eid:
        return "no entry id"
    if at is None:
        return "no time ('at')"
    if not isinstance(kind, str) or kind not in FAULT_KINDS:
        return f"unknown fault kind {kind!r}"
    if not isinstance(record.get("resource"), str):
        return "no resource"
    if not isinstance(target, dict) or not all(
        isinstance(target.get(k), str) for k in ("name", "region")
    ):
        return "no target"
    if not isinstance(undo, list) or not all(
        isinstance(s, dict) and s.get("op") in UNDO_OPS for s in undo
    ):
        return "unreadable undo steps"
    extra = record.get("extra", {})
    return LedgerEntry(
        id=eid,
        at=at,
        kind=cast(FaultKind, kind),
        resource=cast(str, record["resource"]),
        description=str(record.get("description", "")),
        target=cast(TargetRef, target),
        undo=cast(list[UndoStep], undo),
        run_id=str(record.get("run_id", "")),
        extra={str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {},
    )


class Ledger:
    """A ledger file. Thread-safe within a process; processes share it through an flock."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_LEDGER, run_id: str | None = None):
        self.path = Path(path)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self.problems: list[str] = []  # lines skipped by the last read, with line numbers

    @contextlib.contextmanager
    def _locked(self, what: str) -> Iterator[None]:
        """This thread and process alone on the file. The lock is a sidecar file, so a
        compaction that replaces the ledger never leaves an appender on the old inode."""
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(
                    self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
                )
            except OSError as exc:
                raise ConfigError(f"{self.path}: cannot {what} ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _append(self, record: dict[str, object]) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        with self._locked("write the fault ledger"):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise ConfigError(
                    f"{self.path}: cannot write the fault ledger ({exc.strerror})"
                ) from None
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)

    def record(
        self,
        kind: FaultKind,
        resource: str,
        description: str,
        target: TargetRef,
        undo: list[UndoStep],
        **extra: str,
    ) -> LedgerEntry:
        """Write a fault entry; call this before touching the target."""
        entry = LedgerEntry(
            id=uuid.uuid4().hex[:16],
            at=time.time(),
            kind=kind,
            resource=resource,
            description=description,
            target=target,
            undo=undo,
            run_id=self.run_id,
            extra=dict(extra),
        )
        self._append(
            {
                "op": "fault",
                "id": entry.id,
                "at": entry.at,
                "kind": kind,
                "resource": resource,
                "description": description,
                "target": dict(target),
                "undo": [dict(s) for s in undo],
                "run_id": self.run_id,
                "extra": entry.extra,
            }
        )
        return entry

    def mark_injected(self, entry_id: str, at: float | None = None) -> float:
        """The instant the fault reached the target (after the call that made it returned)."""
        when = time.time() if at is None else at
        self._append({"op": "injected", "id": entry_id, "at": when})
        return when

    def mark_undone(self, entry_id: str) -> None:
        self._append({"op": "undone", "id": entry_id, "at": time.time()})

    def entries(self) -> list[LedgerEntry]:
        """Every readable entry, in the order written, with its injected/undone state.
        Unreadable lines are skipped and listed in `self.problems`."""
        by_id: dict[str, LedgerEntry] = {}
        problems: list[str] = []
        for number, record in self._records(problems):
            op, eid = record.get("op"), record.get("id")
            if op == "fault":
                got = _fault_from(record)
                if isinstance(got, str):
                    problems.append(f"{self.path}:{number}: skipped a fault record ({got})")
                else:
                    by_id[got.id] = got
            elif op in ("injected", "undone"):
                at = _number(record.get("at"))
                if not isinstance(eid, str) or at is None:
                    problems.append(f"{self.path}:{number}: skipped an unreadable {op} record")
                elif eid not in by_id:
                    problems.append(f"{self.path}:{number}: {op} record of unknown entry {eid}")
                elif op == "injected":
                    by_id[eid].injected_at = at
                else:
                    by_id[eid].undone_at = at
            else:
                problems.append(f"{self.path}:{number}: skipped a record with unknown op {op!r}")
        self.problems = problems
        return list(by_id.values())

    def open_entries(
        self,
        *,
        run_id: str | None = None,
        kind: FaultKind | None = None,
        resource: str | None = None,
    ) -> list[LedgerEntry]:
        """Entries not undone yet, newest first (the order to undo them in)."""
        return [
            e
            for e in reversed(self.entries())
            if e.open
            and (run_id is None or e.run_id == run_id)
            and (kind is None or e.kind == kind)
            and (resource is None or e.resource == resource)
        ]

    def _read_lines(self) -> list[str]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot read the fault ledger ({exc.strerror})"
            ) from None
        return data.decode("utf-8", "replace").split("\n")

    def _records(self, problems: list[str]) -> Iterator[tuple[int, dict[str, object]]]:
        lines = self._read_lines()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                cut = number == len(lines)  # no newline after it: a write cut short
                what = "a line cut short" if cut else "not a ledger record"
                problems.append(f"{self.path}:{number}: skipped {what}")
                continue
            if not isinstance(record, dict):
                problems.append(f"{self.path}:{number}: skipped: not a ledger record")
                continue
            yield number, record

    def compact(self, older_than_s: float = COMPACT_AFTER_S, now: float | None = None) -> int:
        """Drop the lines of entries undone more than `older_than_s` ago; returns how many
        entries went. Open entries, recent ones and unreadable lines stay as they are."""
        cutoff = (time.time() if now is None else now) - older_than_s
        with self._locked("compact the fault ledger"):
            lines = self._read_lines()
            undone_at: dict[str, float] = {}
            parsed: list[tuple[str, str | None]] = []  # (line, entry id)
            for line in lines:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    record = None
                eid = record.get("id") if isinstance(record, dict) else None
                eid = eid if isinstance(eid, str) else None
                if isinstance(record, dict) and record.get("op") == "undone" and eid:
                    at = _number(record.get("at"))
                    if at is not None:
                        undone_at[eid] = at
                parsed.append((line, eid))
            old = {eid for eid, at in undone_at.items() if at < cutoff}
            if not old:
                return 0
            kept = [line for line, eid in parsed if eid not in old]
            tmp = self.path.with_name(self.path.name + ".compact")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.write(fd, "".join(line + "\n" for line in kept).encode())
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, self.path)
            except OSError as exc:
                raise ConfigError(
                    f"{self.path}: cannot compact the fault ledger ({exc.strerror})"
                ) from None
            return len(old)
