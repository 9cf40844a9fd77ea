"""Raw timing capture for Locust: every request into HdrHistograms, one results file.

Importing this module from a locustfile installs Locust event listeners that:

* record each request (the `request` event) into a histogram keyed by
  (endpoint name, method, serving version as the target's `version_source` names it), with status
  and failure counts; a request sent with `context={"gameday_intended": t}` (a paced,
  open-model request) also records its latency from the *intended* send time t and
  its schedule lag, so a stall of the target cannot hide (coordinated omission);
* on a worker, ship the histograms recorded since the last report to the master in
  every `report_to_master` payload and once more when the worker stops;
* on the master (or a plain local run), merge everything and write ONE results JSON
  (`--gameday-results`, env GAMEDAY_RESULTS): every second while running
  (status "running": what was measured so far survives a crash), then the final
  document (status "complete") when the test stops and again when Locust quits;
* on SIGTERM (a harness stopping a background run early), stop the test properly first,
  so the file still ends "complete" with every worker's samples;
* optionally abort the run: with `--gameday-abort-after S` (>= 0), the master evaluates
  the `--gameday-thresholds` (a JSON list of expressions) every second once S seconds
  have passed and stops the test on the first breach, recording the reason.

The file format is documented in `lambda_gameday.load.results`.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import gevent
from hdrh.histogram import HdrHistogram
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from lambda_gameday.load.results import SCHEMA, UNKNOWN_VERSION, Series
from lambda_gameday.load.thresholds import evaluate_all, parse_thresholds
from lambda_gameday.stats import LatencyHistogram
from lambda_gameday.version_source import ENV_VAR as VERSION_SOURCE_ENV
from lambda_gameday.version_source import version_reader

# the serving version only as the answer names it (the target's version_source, passed by
# the runner); API Gateway passes no X-Amz-Executed-Version to HTTP clients
READ_VERSION = version_reader(os.environ.get(VERSION_SOURCE_ENV) or None)

__all__ = ["CAPTURE", "INTENDED", "Capture"]

INTENDED = "gameday_intended"  # context key: epoch seconds the request was meant to be sent
FINAL_MESSAGE = "gameday_final"
WRITE_EVERY_S = 1.0
_HIGHEST_US = 3_600_000_000  # as lambda_gameday.stats: one hour


class _Acc:
    """One series being recorded.

    The per-request path only appends the latency in whole microseconds to `pending`;
    `flush()` folds it into the HdrHistogram (same layout as lambda_gameday.stats:
    1 us .. 1 h, 3 digits) one distinct value at a time, which costs a fraction of one
    pure-Python `record_value` per request. Every read flushes first."""

    __slots__ = ("corrected", "count", "failures", "hist", "lag", "pending", "statuses")

    def __init__(self) -> None:
        self.hist = HdrHistogram(1, _HIGHEST_US, 3)
        self.pending: list[int] = []
        self.corrected: LatencyHistogram | None = None
        self.lag: LatencyHistogram | None = None
        self.count = 0
        self.failures = 0
        self.statuses: dict[str, int] = {}

    def flush(self) -> None:
        if self.pending:
            record = self.hist.record_value
            for us, n in Counter(self.pending).items():
                record(min(max(us, 1), _HIGHEST_US), n)
            self.pending = []

    @property
    def latency(self) -> LatencyHistogram:
        self.flush()
        return LatencyHistogram.decode(self.encoded())

    def encoded(self) -> str:
        self.flush()
        return bytes(self.hist.encode()).decode("ascii")

    def absorb(self, doc: dict[str, Any]) -> None:
        other = HdrHistogram.decode(doc["latency"].encode("ascii"))
        if other.get_total_count():
            self.hist.add(other)
        for part in ("corrected", "lag"):
            if doc.get(part):
                mine = getattr(self, part) or LatencyHistogram()
                mine.merge(LatencyHistogram.decode(doc[part]))
                setattr(self, part, mine)
        self.count += doc["count"]
        self.failures += doc["failures"]
        for code, n in doc["statuses"].items():
            self.statuses[code] = self.statuses.get(code, 0) + n

    def doc(self, key: tuple[str, str, str]) -> dict[str, Any]:
        return {
            "endpoint": key[0],
            "method": key[1],
            "version": key[2],
            "count": self.count,
            "failures": self.failures,
            "statuses": dict(self.statuses),
            "latency": self.encoded(),
            "corrected": self.corrected.encode() if self.corrected else None,
            "lag": self.lag.encode() if self.lag else None,
        }


class Capture:
    """The per-process recorder; `CAPTURE` is the one the listeners use."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str, str], _Acc] = {}
        self.recorded = 0  # requests this process recorded itself (after the warm-up)
        self.warmup_s = 0.0
        self.warmup_until = 0.0  # epoch s; requests sent before it are only counted
        self.warmup_count = 0  # this process's warm-up requests (master: everyone's)
        self.workers: dict[str, dict[str, int]] = {}
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.aborted: dict[str, Any] | None = None
        self.paced_interval_ms: float | None = None
        self.raw: list[tuple[str, str, float]] | None = None  # (endpoint, version, ms)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def in_warmup(self, start_time: float | None) -> bool:
        if start_time is not None and start_time < self.warmup_until:
            self.warmup_count += 1
            return True
        return False

    def record(
        self,
        endpoint: str,
        method: str,
        version: str,
        status: str,
        ms: float,
        failed: bool,
        intended_delay_ms: float | None,
    ) -> None:
        key = (endpoint, method, version)
        acc = self.series.get(key)
        if acc is None:
            acc = self.series[key] = _Acc()
        acc.pending.append(int(ms * 1000.0 + 0.5))
        if self.raw is not None:
            self.raw.append((endpoint, version, ms))
        acc.count += 1
        self.recorded += 1
        if failed:
            acc.failures += 1
        acc.statuses[status] = acc.statuses.get(status, 0) + 1
        if intended_delay_ms is not None:
            if acc.corrected is None:
                acc.corrected, acc.lag = LatencyHistogram(), LatencyHistogram()
            lag = max(0.0, intended_delay_ms)
            acc.corrected.record_ms(lag + ms)
            assert acc.lag is not None
            acc.lag.record_ms(lag)

    def drain(self) -> list[dict[str, Any]]:
        """Everything recorded since the last drain, encoded; the recorder starts empty."""
        docs = [acc.doc(key) for key, acc in self.series.items()]
        self.series = {}
        return docs

    def absorb(self, client_id: str, payload: dict[str, Any]) -> None:
        """Merge a worker's drained series (master side)."""
        received = 0
        for doc in payload.get("series", []):
            key = (doc["endpoint"], doc["method"], doc["version"])
            acc = self.series.get(key)
            if acc is None:
                acc = self.series[key] = _Acc()
            acc.absorb(doc)
            received += doc["count"]
        w = self.workers.setdefault(client_id, {"recorded": 0, "received": 0})
        w["received"] += received
        w["recorded"] = max(w["recorded"], int(payload.get("recorded", 0)))
        w["warmup"] = max(w.get("warmup", 0), int(payload.get("warmup", 0)))
        self.warmup_count = sum(v.get("warmup", 0) for v in self.workers.values())

    def typed_series(self) -> list[Series]:
        return [
            Series(k[0], k[1], k[2], a.count, a.failures, a.statuses, a.latency, a.corrected, a.lag)
            for k, a in self.series.items()
        ]

    def document(self, env: Environment, status: str) -> dict[str, Any]:
        now = time.time()
        started = min((self.started_at or now) + self.warmup_s, now)  # measured window only
        ended = self.ended_at if (status == "complete" and self.ended_at) else now
        total = env.stats.total
        locust = None
        if total.num_requests:
            locust = {
                "count": total.num_requests,
                "failures": total.num_failures,
                "p50": float(total.get_response_time_percentile(0.5)),
                "p95": float(total.get_response_time_percentile(0.95)),
                "p99": float(total.get_response_time_percentile(0.99)),
                "max": float(total.max_response_time),
            }
        return {
            "schema": SCHEMA,
            "status": status,
            "mode": "master" if isinstance(env.runner, MasterRunner) else "local",
            "host": env.host or "",
            "started_at": started,
            "ended_at": ended,
            "duration_s": max(0.0, ended - started),
            "series": [acc.doc(key) for key, acc in self.series.items()],
            "workers": self.workers,
            "paced_interval_ms": (
                self.paced_interval_ms if any(a.corrected for a in self.series.values()) else None
            ),
            "aborted": self.aborted,
            "locust": locust,
            "warmup": {"seconds": self.warmup_s, "count": self.warmup_count},
        }


CAPTURE = Capture()


def _write(env: Environment, status: str) -> None:
    path = _option(env, "gameday_results")
    if not path:
        return
    doc = CAPTURE.document(env, status)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    os.replace(tmp, path)


def _option(env: Environment, name: str) -> Any:
    return getattr(env.parsed_options, name, None) if env.parsed_options else None


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("lambda-gameday capture")
    group.add_argument(
        "--gameday-results",
        env_var="GAMEDAY_RESULTS",
        default="gameday-load.json",
        help="Where the master writes the merged raw results (JSON).",
    )
    group.add_argument(
        "--gameday-thresholds",
        env_var="GAMEDAY_THRESHOLDS",
        default="[]",
        help="JSON list of threshold expressions, checked by the master for abort-on-fail.",
    )
    group.add_argument(
        "--gameday-warmup-s",
        env_var="GAMEDAY_WARMUP_S",
        type=float,
        default=0.0,
        help="Requests sent in the first S seconds are counted but not recorded or gated.",
    )
    group.add_argument(
        "--gameday-raw-samples",
        env_var="GAMEDAY_RAW_SAMPLES",
        default="",
        help="Also write every raw sample (JSON lines) here, for checking the histograms.",
    )
    group.add_argument(
        "--gameday-abort-after",
        env_var="GAMEDAY_ABORT_AFTER",
        type=float,
        default=-1.0,
        help="Grace period (s) before a breached threshold aborts the run; < 0 disables.",
    )


@events.request.add_listener
def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    context: dict[str, Any] | None = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    if CAPTURE.in_warmup(start_time):
        return
    version = UNKNOWN_VERSION
    status = "0"
    if response is not None:
        code = getattr(response, "status_code", None)
        if code:
            status = str(code)
        headers = getattr(response, "headers", None)
        if headers is not None:  # not `if headers:` - len() of these headers costs a scan
            version = (
                READ_VERSION(headers, lambda r=response: bytes(getattr(r, "content", b"")))
                or UNKNOWN_VERSION
            )
    delay_ms = None
    if context and start_time is not None:
        intended = context.get(INTENDED)
        if intended is not None:
            delay_ms = (start_time - intended) * 1000.0
    CAPTURE.record(
        name, request_type, version, status, response_time or 0.0, exception is not None, delay_ms
    )


def _start_warmup(env: Environment) -> None:
    CAPTURE.warmup_s = float(_option(env, "gameday_warmup_s") or 0.0)
    CAPTURE.warmup_until = time.time() + CAPTURE.warmup_s
    if _option(env, "gameday_raw_samples"):
        CAPTURE.raw = []


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        _start_warmup(environment)
        return
    CAPTURE.reset()
    _start_warmup(environment)
    CAPTURE.started_at = time.time()
    pace = _option(environment, "gameday_pace_ms")
    CAPTURE.paced_interval_ms = float(pace) if pace else None
    gevent.spawn(_supervise, environment)


def _write_raw(env: Environment) -> None:
    path = _option(env, "gameday_raw_samples")
    if not path or CAPTURE.raw is None:
        return
    if isinstance(env.runner, WorkerRunner):
        path = f"{path}.{os.getpid()}"
    with open(path, "w", encoding="utf-8") as fh:
        for endpoint, version, ms in CAPTURE.raw:
            fh.write(json.dumps({"endpoint": endpoint, "version": version, "ms": ms}) + "\n")


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    _write_raw(environment)
    if isinstance(runner, WorkerRunner):
        final = {
            "series": CAPTURE.drain(),
            "recorded": CAPTURE.recorded,
            "warmup": CAPTURE.warmup_count,
        }
        runner.send_message(FINAL_MESSAGE, final)
        return
    if CAPTURE.started_at is None:
        return
    CAPTURE.ended_at = CAPTURE.ended_at or time.time()
    _write(environment, "complete")


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or CAPTURE.started_at is None:
        return
    if CAPTURE.ended_at is None and runner is not None:
        # Quitting before the test stopped (SIGTERM: the harness stopping a background
        # run): stop first, so workers send their last samples before the file is final.
        runner.stop()
    CAPTURE.ended_at = CAPTURE.ended_at or time.time()
    _write(environment, "complete")


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):

        def report(client_id: str, data: dict[str, Any]) -> None:
            data["gameday"] = {
                "series": CAPTURE.drain(),
                "recorded": CAPTURE.recorded,
                "warmup": CAPTURE.warmup_count,
            }

        environment.events.report_to_master.add_listener(report)
    elif isinstance(runner, MasterRunner):

        def worker_report(client_id: str, data: dict[str, Any]) -> None:
            if "gameday" in data:
                CAPTURE.absorb(client_id, data["gameday"])

        def final(environment: Environment, msg: Any, **_: Any) -> None:
            CAPTURE.absorb(msg.node_id, msg.data)

        environment.events.worker_report.add_listener(worker_report)
        runner.register_message(FINAL_MESSAGE, final)


def _supervise(env: Environment) -> None:
    """Master/local: write the partial results every second; abort on a breach if asked."""
    grace = _option(env, "gameday_abort_after")
    raw = _option(env, "gameday_thresholds") or "[]"
    thresholds = parse_thresholds(json.loads(raw)) if grace is not None and grace >= 0 else ()
    while CAPTURE.ended_at is None and env.runner is not None:
        gevent.sleep(WRITE_EVERY_S)
        if CAPTURE.ended_at is not None:
            return
        _write(env, "running")
        started = CAPTURE.started_at or time.time()
        elapsed = time.time() - started
        if thresholds and elapsed >= grace:
            measured = max(elapsed - CAPTURE.warmup_s, 1e-9)
            results = evaluate_all(thresholds, CAPTURE.typed_series(), measured)
            breached = [r for r in results if r.outcome == "fail"]
            if breached:
                first = breached[0]
                CAPTURE.aborted = {
                    "reason": f"{first.threshold.expression}: {first.detail}",
                    "at_s": round(elapsed, 3),
                }
                env.runner.quit()
                return
