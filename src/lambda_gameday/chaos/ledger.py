"""The fault ledger: every fault is written here BEFORE it is injected.

An entry says what is about to change, where (the target's endpoint and region), and how
to undo it with the values seen before the change. Rollback activities undo entries and
mark them undone; `gameday cleanup` replays the undo of every entry a killed run left
open. Undo steps restore previous values, so replaying one twice is harmless.

The file is JSON Lines, append-only, flushed and fsynced per line so a SIGKILL loses at
most the line being written:

    {"op": "fault", "id": "...", "at": 1700000000.1, "kind": "canary", ...}
    {"op": "injected", "id": "...", "at": 1700000000.4}
    {"op": "undone", "id": "...", "at": 1700000030.0}
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast

from ..exceptions import ConfigError

__all__ = [
    "DEFAULT_LEDGER",
    "FaultKind",
    "Ledger",
    "LedgerEntry",
    "TargetRef",
    "UndoStep",
]

DEFAULT_LEDGER = ".gameday/ledger.jsonl"

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
    "fis_experiment",
]


class TargetRef(TypedDict):
    """Enough of the target to rebuild clients in another process."""

    name: str
    kind: str
    region: str
    endpoint_url: str | None
    profile: str | None
    source: str


class UndoStep(TypedDict):
    """One reversible change. `op` says which fields are used:

    restore_config: function, environment (dict or None), layers, timeout
    restore_alias: function, alias, version, weights
    restore_concurrency: function, reserved (None = no reservation)
    restore_parameter: parameter, value (None = delete), parameter_type
    stop_deployment: deployment_id
    unsubscribe: subscription_arn, or topic_arn + queue_name (every subscription of the queue)
    delete_queue: queue_url or queue_name
    cleanup_fis: fis_token (the template's ledger tag), fis_location (S3 configuration ARN)
    """

    op: Literal[
        "restore_config",
        "restore_alias",
        "restore_concurrency",
        "restore_parameter",
        "stop_deployment",
        "unsubscribe",
        "delete_queue",
        "cleanup_fis",
    ]
    function: NotRequired[str]
    environment: NotRequired[dict[str, str] | None]
    layers: NotRequired[list[str]]
    timeout: NotRequired[int]
    alias: NotRequired[str]
    version: NotRequired[str]
    weights: NotRequired[dict[str, float]]
    reserved: NotRequired[int | None]
    parameter: NotRequired[str]
    value: NotRequired[str | None]
    parameter_type: NotRequired[str]
    deployment_id: NotRequired[str]
    subscription_arn: NotRequired[str]
    topic_arn: NotRequired[str]
    queue_url: NotRequired[str]
    queue_name: NotRequired[str]
    fis_token: NotRequired[str]
    fis_location: NotRequired[str | None]


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


class Ledger:
    """A ledger file. Thread-safe within a process; other processes only append too."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_LEDGER, run_id: str | None = None):
        self.path = Path(path)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._lock = threading.Lock()

    def _append(self, record: dict[str, object]) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
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
        """Every entry, in the order written, with its injected/undone state."""
        by_id: dict[str, LedgerEntry] = {}
        for record in self._records():
            op, eid = record.get("op"), str(record.get("id", ""))
            if op == "fault":
                by_id[eid] = LedgerEntry(
                    id=eid,
                    at=float(cast(float, record["at"])),
                    kind=cast(FaultKind, record["kind"]),
                    resource=str(record["resource"]),
                    description=str(record.get("description", "")),
                    target=cast(TargetRef, record["target"]),
                    undo=cast(list[UndoStep], record["undo"]),
                    run_id=str(record.get("run_id", "")),
                    extra=cast(dict[str, str], record.get("extra", {})),
                )
            elif eid in by_id and op == "injected":
                by_id[eid].injected_at = float(cast(float, record["at"]))
            elif eid in by_id and op == "undone":
                by_id[eid].undone_at = float(cast(float, record["at"]))
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

    def _records(self) -> Iterator[dict[str, object]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot read the fault ledger ({exc.strerror})"
            ) from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                # A SIGKILL can cut the last line short; anything else is corruption.
                if number == len(text.splitlines()):
                    continue
                raise ConfigError(f"{self.path}:{number}: not a ledger record") from None
            if isinstance(record, dict):
                yield record
