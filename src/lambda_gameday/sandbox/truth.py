"""Ground truth: the exact instant of every change the sandbox makes or sees.

Tests read it to prove how far the harness's measurements are from what really
happened. Times are wall-clock epoch seconds (time.time()), the same clock the
harness reads from timestamps the target reports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["GroundTruth", "TruthEvent", "TruthKind"]

TruthKind = Literal[
    "fault",  # a fault variable, SSM parameter, concurrency or timeout change reached a function
    "alarm",  # an alarm changed state
    "alias",  # an alias's version or weights changed
    "deployment",  # a deployment changed status
    "dependency",  # a sandbox dependency went down, came up, or was slowed
    "environment",  # an execution environment started (cold) or expired
    "experiment",  # a FIS experiment changed status (sandbox/fis)
]


@dataclass(frozen=True)
class TruthEvent:
    at: float
    kind: TruthKind
    subject: str  # function, alias (fn:alias), alarm name, deployment id, dependency name
    detail: Mapping[str, object] = field(default_factory=dict)


class GroundTruth:
    """An append-only, thread-safe log of TruthEvents."""

    def __init__(self) -> None:
        self._events: list[TruthEvent] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def record(
        self, kind: TruthKind, subject: str, at: float | None = None, **detail: object
    ) -> TruthEvent:
        event = TruthEvent(time.time() if at is None else at, kind, subject, detail)
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()
        return event

    def events(self, kind: TruthKind | None = None, subject: str | None = None) -> list[TruthEvent]:
        with self._lock:
            return [
                e
                for e in self._events
                if (kind is None or e.kind == kind) and (subject is None or e.subject == subject)
            ]

    def wait_for(
        self,
        kind: TruthKind,
        subject: str | None = None,
        *,
        timeout: float,
        after: float = 0.0,
        **detail: object,
    ) -> TruthEvent | None:
        """The first event of `kind` (and subject, and detail values) at or after `after`,
        waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout

        def find() -> TruthEvent | None:
            for e in self._events:
                if (
                    e.kind == kind
                    and e.at >= after
                    and (subject is None or e.subject == subject)
                    and all(e.detail.get(k) == v for k, v in detail.items())
                ):
                    return e
            return None

        with self._changed:
            while (found := find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return found
