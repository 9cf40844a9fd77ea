"""The one path every fault takes: check for abort, write the ledger entry, then inject.

Also the typed results activities return (they end up in the Chaos Toolkit journal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypedDict, TypeVar

from ..aws import Clients
from ..config import Target
from .context import Configuration, clients_for, ledger_for, target_from, target_ref
from .ledger import FaultKind, Ledger, LedgerEntry, UndoStep
from .undo import undo_entry

__all__ = [
    "ABORT",
    "FaultResult",
    "Scope",
    "check_abort",
    "fault_result",
    "inject",
    "scope",
    "undo_faults",
]

T = TypeVar("T")

# Set by the safety control when a stop condition trips; long waits check it. It stays set
# after the run (the game day reads it) but only interrupts while a run is in progress, so
# an activity called directly from Python after a stopped run is not refused.
ABORT = threading.Event()
IN_RUN = threading.Event()
_abort_reason: list[str] = []


def request_abort(reason: str) -> None:
    if not ABORT.is_set():
        _abort_reason.append(reason)
        ABORT.set()


def abort_reason() -> str:
    return _abort_reason[0] if _abort_reason else ""


def reset_abort() -> None:
    ABORT.clear()
    _abort_reason.clear()


def check_abort() -> None:
    """Raise chaoslib's InterruptExecution if a stop condition tripped in the current run."""
    if ABORT.is_set() and IN_RUN.is_set():
        from chaoslib.exceptions import InterruptExecution

        raise InterruptExecution(f"stop condition: {abort_reason()}")


class FaultResult(TypedDict):
    ledger_id: str
    kind: str
    resource: str
    description: str
    injected_at: float


def fault_result(entry: LedgerEntry, injected_at: float) -> FaultResult:
    """What an activity returns for the journal: the ledger entry it injected."""
    return FaultResult(
        ledger_id=entry.id,
        kind=entry.kind,
        resource=entry.resource,
        description=entry.description,
        injected_at=injected_at,
    )


class Scope:
    """Target, clients and ledger for one activity call."""

    def __init__(self, configuration: Configuration):
        self.configuration = configuration
        self.target: Target = target_from(configuration)
        self.clients: Clients = clients_for(self.target)
        self.ledger: Ledger = ledger_for(configuration)


def scope(configuration: Configuration) -> Scope:
    return Scope(configuration)


def inject(
    sc: Scope,
    kind: FaultKind,
    resource: str,
    description: str,
    undo: list[UndoStep],
    action: Callable[[], T],
    **extra: str,
) -> tuple[LedgerEntry, T, float]:
    """Ledger first, then the change; returns the entry, the action's result and the
    instant the change completed on the target."""
    check_abort()
    entry = sc.ledger.record(kind, resource, description, target_ref(sc.target), undo, **extra)
    result = action()
    at = sc.ledger.mark_injected(entry.id)
    return entry, result, at


def undo_faults(
    sc: Scope, *, kind: FaultKind | None = None, resource: str | None = None
) -> list[str]:
    """Undo this run's open ledger entries matching kind/resource, newest first."""
    done = []
    for entry in sc.ledger.open_entries(run_id=sc.ledger.run_id, kind=kind, resource=resource):
        undo_entry(sc.ledger, entry, sc.clients)
        done.append(entry.description)
    return done
