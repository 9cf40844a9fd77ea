"""Background traffic: synthetic requests through the whole experiment, every one recorded.

Declare it in an experiment's `controls` (provider module
`lambda_gameday.chaos.controls.traffic`). It starts when the experiment is configured,
probes the API paths round-robin every `interval_s`, and stops at cleanup — or by itself
after `max_duration_s` or `max_probes`. After the experiment it builds the MTTR timeline
from these probes and the milestones in the journal and adds it to the journal under
`gameday.timeline`. The recorder belongs to the run's context (run.py), so the next
experiment in the process starts with no probes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from ...version_source import VersionReader, version_reader
from ..context import Configuration, api_url, target_from
from ..run import RunContext, join_run, leave_run, run_of
from ..timeline import ProbeRecord

__all__ = [
    "TrafficRecorder",
    "after_experiment_control",
    "cleanup_control",
    "configure_control",
    "recorded",
    "stop_traffic",
]


class TrafficRecorder:
    """A bounded background loop of GET requests, recording each as a ProbeRecord."""

    def __init__(
        self,
        base_url: str,
        paths: Sequence[str],
        *,
        interval_s: float = 0.1,
        timeout_s: float = 2.0,
        max_duration_s: float = 600.0,
        max_probes: int = 20_000,
        concurrency: int = 1,
        version_source: str | None = None,
    ):
        self.concurrency = max(1, concurrency)
        # the serving version only as the answer itself says it (target's version_source)
        self.read_version: VersionReader = version_reader(version_source)
        self.base_url = base_url.rstrip("/")
        self.paths = list(paths) or ["/health"]
        self.interval_s, self.timeout_s = interval_s, timeout_s
        self.max_duration_s, self.max_probes = max_duration_s, max_probes
        self._records: list[ProbeRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        # `concurrency` users, each on its own fixed schedule, so one slow answer does not
        # silence all traffic (a single closed loop would hide a stall).
        for i in range(self.concurrency):
            t = threading.Thread(
                target=self._loop, args=(i,), name=f"gameday-traffic-{i}", daemon=True
            )
            self._threads.append(t)
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout_s + 1)

    def records(self) -> list[ProbeRecord]:
        with self._lock:
            return sorted(self._records, key=lambda r: r.sent_at)

    def _loop(self, worker: int) -> None:
        headers = {"Cache-Control": "no-cache", "User-Agent": "lambda-gameday-traffic"}
        end = time.monotonic() + self.max_duration_s
        next_at = time.monotonic() + worker * self.interval_s / self.concurrency
        self._stop.wait(max(0.0, next_at - time.monotonic()))
        with httpx.Client(timeout=self.timeout_s, headers=headers) as client:
            for n in range(worker, self.max_probes, self.concurrency):
                if self._stop.is_set() or time.monotonic() > end:
                    return
                path = self.paths[n % len(self.paths)]
                sent = time.time()
                try:
                    resp = client.get(self.base_url + path)
                    rec = ProbeRecord(
                        sent,
                        time.time(),
                        resp.status_code,
                        200 <= resp.status_code < 400,
                        self.read_version(resp.headers, partial(getattr, resp, "content")),
                        path,
                    )
                except httpx.HTTPError as exc:
                    rec = ProbeRecord(
                        sent, time.time(), 0, False, None, path, f"{type(exc).__name__}: {exc}"
                    )
                with self._lock:
                    self._records.append(rec)
                # Fixed schedule: a slow answer does not push every later probe back.
                next_at += self.interval_s
                self._stop.wait(max(0.0, next_at - time.monotonic()))


HOLDER = "gameday-traffic"


def recorded(configuration: Configuration = None) -> list[ProbeRecord]:
    """The probes of the run `configuration` belongs to (see run.run_of)."""
    return run_of(configuration).recorded()


def configure_control(
    configuration: dict[str, object] | None = None,
    paths: list[str] | None = None,
    interval_s: float = 0.1,
    timeout_s: float = 2.0,
    max_duration_s: float = 600.0,
    max_probes: int = 20_000,
    log_path: str | None = None,
    concurrency: int = 1,
) -> None:
    """Start background traffic against the target's API (paths default to /health):
    `concurrency` users each sending one request every `interval_s`."""
    run = join_run(configuration, HOLDER)
    recorder = TrafficRecorder(
        api_url(configuration),
        paths or ["/health"],
        interval_s=interval_s,
        timeout_s=timeout_s,
        max_duration_s=max_duration_s,
        max_probes=max_probes,
        concurrency=concurrency,
        version_source=target_from(configuration).version_source,
    )
    if run.traffic is not None:  # configured twice in one run: one traffic only
        run.traffic.stop()
    run.traffic = recorder
    run.traffic_log = Path(log_path) if log_path else None
    recorder.start()


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    configuration: dict[str, object] | None = None,
    **_: object,
) -> None:
    """Attach the MTTR timeline to the journal (`gameday.timeline`)."""
    run = run_of(configuration)
    if state is None or run.traffic is None:
        return
    from ..milestones import timeline_for_journal

    timeline = timeline_for_journal(state, run.recorded(), configuration)
    state.setdefault("gameday", {})["timeline"] = timeline.to_dict()
    state["gameday"]["timeline_text"] = timeline.render()


def stop_traffic(run: RunContext) -> None:
    """Stop the run's traffic; write its probes as JSON Lines once, when `log_path` was
    given. Safe to call more than once."""
    if run.traffic is None:
        return
    run.traffic.stop()
    if run.traffic_log is not None and not run.traffic_written:
        run.traffic_written = True
        path = run.traffic_log
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for rec in run.traffic.records():
                out.write(json.dumps(rec.__dict__) + "\n")


def cleanup_control() -> None:
    """Stop this thread's run's traffic (chaoslib passes no arguments here)."""
    run = leave_run(HOLDER)
    if run is not None:
        stop_traffic(run)
