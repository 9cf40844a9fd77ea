"""The one background loop of the twin's control loops (alarms, FIS, state watcher,
telemetry): a daemon thread that calls a tick function until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Ticker"]


class Ticker:
    """Calls `tick()` on a daemon thread named `name`, waiting `wait_s()` seconds between
    calls (cut short by `wake()`), until `stop()`. The first call comes after the first
    wait, or at once with `tick_at_start`. `tick` handles its own errors: one it raises
    ends the loop."""

    def __init__(
        self,
        name: str,
        tick: Callable[[], object],
        wait_s: Callable[[], float],
        *,
        tick_at_start: bool = False,
    ) -> None:
        self.name = name
        self._tick = tick
        self._wait_s = wait_s
        self._tick_at_start = tick_at_start
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """End the current wait now (work is due sooner than the wait planned for)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the loop and wait (up to 5 s) for a tick in progress to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        if self._tick_at_start:
            self._tick()
        while not self._stop.is_set():
            self._wake.wait(self._wait_s())
            self._wake.clear()
            if self._stop.is_set():
                return
            self._tick()
