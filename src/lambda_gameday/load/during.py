"""Locust load driven through something else (a chaos experiment), shared by
`gameday chaos --load-users` and the game day's chaos phase (`load_users`):

    with background_load(target, users=20, out=Path("x-load.json")) as seen:
        result = run_experiment(...)
    print(seen.note())   # "; under load: 12 of 3,400 requests failed (0.4%)"

Locust runs out of process (nothing here imports it); the run is bounded by the target's
MTTR budget (three times it, at least 60 s) and stopped when the block ends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from ..config import Target
from ..exceptions import GamedayError

__all__ = ["LoadDuring", "background_load"]


class LoadDuring:
    """What the background load saw during the block (nothing when disabled)."""

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.enabled = False

    @property
    def share_failed(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def note(self) -> str:
        if not self.enabled:
            return ""
        return (
            f"; under load: {self.failures:,} of {self.requests:,} requests failed"
            f" ({self.share_failed:.1%})"
        )


@contextlib.contextmanager
def background_load(
    target: Target, users: int, out: Path, *, ready_timeout_s: float = 30.0
) -> Iterator[LoadDuring]:
    """Locust users through the block, so a fault's blast radius is seen at scale too. The
    block starts once the load has recorded its first requests (the fault must meet load,
    not Locust's start-up); GamedayError when none came within `ready_timeout_s`. With
    `users <= 0` nothing runs. Counts are filled in when the block ends normally."""
    seen = LoadDuring()
    if users <= 0:
        yield seen
        return
    from .runner import BackgroundLoad
    from .runner import LoadOptions as RunnerOptions

    out.parent.mkdir(parents=True, exist_ok=True)
    bound_s = max(60, round(target.slos.mttr_s * 3))
    with BackgroundLoad(
        target,
        RunnerOptions(users=users, spawn_rate=float(users), run_time_s=bound_s, out=out),
    ) as load:
        deadline = time.monotonic() + ready_timeout_s
        while load.requests == 0:
            if time.monotonic() > deadline:
                load.stop()  # re-raises the load's own error, if it failed
                raise GamedayError(
                    f"background load sent no request within {ready_timeout_s:g}s"
                    f" (log: {out.with_name(out.name + '.log')})"
                )
            time.sleep(0.1)
        yield seen
        report = load.stop()
    seen.enabled = True
    seen.requests, seen.failures = report.results.count, report.results.failures
