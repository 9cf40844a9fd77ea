"""The one path every fault takes: check for abort, write the ledger entry, then inject.

Also the typed results activities return (they end up in the Chaos Toolkit journal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict, TypeVar

from ..aws import Clients
from ..config import Target
from .context import Configuration, clients_for, identity_of, ledger_for, target_from
from .guard import refuse_unless_allowed
from .ledger import FaultKind, Ledger, LedgerEntry, TargetRef, UndoStep
from .run import RunContext, run_of
from .undo import undo_entry

__all__ = [
    "FaultResult",
    "Scope",
    "check_abort",
    "fault_result",
    "inject",
    "scope",
    "undo_faults",
]

T = TypeVar("T")


def check_abort(configuration: Configuration) -> None:
    """Raise chaoslib's InterruptExecution if a stop condition tripped in the activity's
    run while it is in progress (see RunContext.check_abort)."""
    run_of(configuration).check_abort()


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
    """Target, clients, ledger and run context for one activity call."""

    def __init__(self, configuration: Configuration):
        self.configuration = configuration
        self.run: RunContext = run_of(configuration)
        self.target: Target = target_from(configuration)
        self.clients: Clients = clients_for(self.target)
        self.ledger: Ledger = ledger_for(configuration)
        self._ref: TargetRef | None = None

    @property
    def ref(self) -> TargetRef:
        """The target's identity (account id from STS), as ledger entries record it."""
        if self._ref is None:
            self._ref = identity_of(self.target)
        return self._ref


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
    instant the change completed on the target. Refused (SafetyError) on a production
    target, or one with no declared class, unless the run was granted production."""
    sc.run.check_abort()
    refuse_unless_allowed(sc.target, sc.run, description)
    entry = sc.ledger.record(kind, resource, description, sc.ref, undo, **extra)
    result = action()
    at = sc.ledger.mark_injected(entry.id)
    return entry, result, at


def undo_faults(
    sc: Scope, *, kind: FaultKind | None = None, resource: str | None = None
) -> list[str]:
    """Undo this run's open ledger entries matching kind/resource, newest first. A key
    changed by someone else since the fault is left alone and named in the result."""
    done = []
    for entry in sc.ledger.open_entries(run_id=sc.ledger.run_id, kind=kind, resource=resource):
        conflicts = undo_entry(sc.ledger, entry, sc.clients)
        done.append(entry.description + "".join(f" (conflict: {c})" for c in conflicts))
    return done
