"""One chaos run as an object: everything a run keeps between its activities and controls.

A `RunContext` is made for each experiment. It holds the abort and in-run flags with the
reason a stop condition gave, the safety control's state, the background traffic, the
drill subscriptions and the alarm transitions already reported. No module keeps any of
these, so experiments run one after another in a process share nothing.

How each part of a run reaches it:

* activities: through the Chaos Toolkit configuration, under `RUN_KEY`. The first gameday
  control's `configure_control` puts the context into the run's configuration mapping;
  chaoslib hands every python activity a shallow copy of that mapping, in whatever thread
  it runs (background activities run in a ThreadPoolExecutor, which does not carry
  contextvars over, so a ContextVar alone would not reach them). The configuration of
  the experiment file is a different mapping, so the context never reaches the journal.
* control hooks: the same configuration mapping, except `cleanup_control`, which chaoslib
  calls without arguments. All control hooks run in the thread that runs the experiment,
  so the run is also held in a ContextVar of that thread until its controls have left.
* `run_experiment`: it prepares the context in that ContextVar before chaoslib starts
  (`open_run`), and reads the outcome (stop reason, probes) from it afterwards.

Outside any run (an activity called directly from Python) an activity gets a fresh
context: nothing is shared with a previous run and nothing interrupts.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .context import Configuration, run_id_from
from .timeline import ProbeRecord

if TYPE_CHECKING:
    from .controls.traffic import TrafficRecorder
    from .sns.actions import Subscription

__all__ = [
    "RUN_KEY",
    "RunContext",
    "SafetyState",
    "current_run",
    "join_run",
    "leave_run",
    "open_run",
    "run_of",
]

RUN_KEY = "gameday_run"


@dataclass
class SafetyState:
    """What the safety control remembers between its hooks."""

    configured: bool = False
    configuration: dict[str, object] | None = None
    secrets: dict[str, Any] | None = None
    fail_fast: bool = True
    cleaned: bool = False
    in_rollbacks: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    watcher: threading.Thread | None = None
    # the target's run lock, held from before the first fault until cleanup (lock.py)
    lock: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


class RunContext:
    """The state of one experiment run."""

    def __init__(self, run_id: str | None = None) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._in_run = threading.Event()
        self._aborted_by: str | None = None
        self._bound = False  # placed in a run's configuration by a control
        self._by_controls = False  # made by a control (stock `chaos run`), not open_run
        self._holders: set[str] = set()
        # production granted on the command line (run_experiment); never by a file
        self.allow_production = False
        self.safety = SafetyState()
        self.traffic: TrafficRecorder | None = None
        self.traffic_log: Path | None = None
        self.traffic_written = False
        self.subscriptions: dict[str, Subscription] = {}  # topic ARN -> drill queue
        # The last transition reported per alarm: waiting for OK after ALARM must find
        # the OK that follows it, not an earlier one.
        self.seen_alarms: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"RunContext({self.run_id!r})"

    # --- stop conditions -------------------------------------------------------------

    def request_abort(self, reason: str) -> None:
        """Trip the run's stop condition; the first reason is the one kept."""
        with self._lock:
            if self._aborted_by is None:
                self._aborted_by = reason
                self._abort.set()

    @property
    def aborted_by(self) -> str | None:
        """The stop condition that tripped in this run, if any."""
        return self._aborted_by

    @property
    def in_run(self) -> bool:
        return self._in_run.is_set()

    def begin(self) -> None:
        self._in_run.set()

    def end(self) -> None:
        """The run is over: a tripped stop condition stays readable but interrupts no more,
        so an activity called from Python after a stopped run is not refused."""
        self._in_run.clear()

    def check_abort(self) -> None:
        """Raise chaoslib's InterruptExecution if a stop condition tripped in this run
        while it is in progress."""
        if self._abort.is_set() and self._in_run.is_set():
            from chaoslib.exceptions import InterruptExecution

            raise InterruptExecution(f"stop condition: {self._aborted_by}")

    # --- traffic -----------------------------------------------------------------------

    def recorded(self) -> list[ProbeRecord]:
        """The probes this run's background traffic sent so far, by send time."""
        return self.traffic.records() if self.traffic is not None else []


_active: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "lambda_gameday_chaos_run", default=None
)


def current_run() -> RunContext | None:
    """The run this thread is running, if any."""
    return _active.get()


def run_of(configuration: Configuration) -> RunContext:
    """The run an activity belongs to: the one in its configuration, else the one this
    thread is running, else (outside any run) a fresh context of its own."""
    found = (configuration or {}).get(RUN_KEY)
    if isinstance(found, RunContext):
        return found
    active = _active.get()
    return active if active is not None else RunContext(run_id_from(configuration))


def join_run(configuration: MutableMapping[str, object] | None, holder: str) -> RunContext:
    """For a control's `configure_control`: the run's context. The first gameday control of
    a run takes the one `open_run` prepared, or makes one (stock `chaos run`), and puts it
    into the run's configuration; later controls find it there."""
    found = configuration.get(RUN_KEY) if configuration is not None else None
    if isinstance(found, RunContext):
        ctx = found
    else:
        active = _active.get()
        if active is not None and not active._bound:
            ctx = active
        else:  # a stock run, or a context left by an earlier run of this thread
            ctx = RunContext(run_id_from(configuration))
            ctx._by_controls = True
            _active.set(ctx)
        ctx._bound = True
        if configuration is not None:
            configuration[RUN_KEY] = ctx
            # every activity's ledger then carries this run's id, not one per process
            configuration.setdefault("gameday_run_id", ctx.run_id)
    ctx._holders.add(holder)
    return ctx


def leave_run(holder: str) -> RunContext | None:
    """For a control's `cleanup_control` (which gets no arguments): this thread's run.
    Once every control that joined a run it made has left, the thread forgets it."""
    ctx = _active.get()
    if ctx is None:
        return None
    ctx._holders.discard(holder)
    if ctx._by_controls and not ctx._holders:
        _active.set(None)
    return ctx


@contextmanager
def open_run(run_id: str) -> Iterator[RunContext]:
    """A fresh context for one experiment run in this thread (used by `run_experiment`)."""
    ctx = RunContext(run_id)
    token = _active.set(ctx)
    try:
        yield ctx
    finally:
        ctx.end()
        _active.reset(token)
