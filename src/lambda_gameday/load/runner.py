"""Run Locust as its own process(es), collect the raw results, judge the thresholds.

Locust is never imported here: it monkey-patches the process with gevent. `run_load`
starts `python -m locust` headless (plus `--workers N` worker processes on this machine
in Locust's master/worker mode), each in its own process group, bounded by `--run-time`
and by an outer deadline after which every group is killed. The locustfile's capture
writes one results file (see `results`), which is read back and judged with the
thresholds (see `thresholds`) - never with Locust's own bucketed percentiles.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit

import httpx

from ..config import Target
from ..exceptions import ConfigError, GamedayError, TargetError, VerdictFailed
from ..version_source import ENV_VAR as VERSION_SOURCE_ENV
from .results import LoadResults, read_results
from .thresholds import (
    Threshold,
    ThresholdResult,
    evaluate_all,
    parse_thresholds,
    slo_thresholds,
)

__all__ = [
    "DEFAULT_LOCUSTFILE",
    "SHAPES",
    "BackgroundLoad",
    "LoadOptions",
    "LoadReport",
    "check_report",
    "default_locustfile",
    "run_load",
]

SHAPES = ("steady", "ramp", "step", "spike", "canary")
DEFAULT_LOCUSTFILE = "loadtests/health.py"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
Verdict = Literal["pass", "fail", "error"]


def default_warmup_s(run_time_s: float) -> float:
    """Requests in the first seconds of a run (cold starts, connection set-up) are counted
    but not gated: 2 s, or a quarter of a run shorter than 8 s."""
    return min(2.0, run_time_s / 4)


def default_locustfile() -> Path:
    """`loadtests/health.py` in the working directory, else in this source checkout."""
    here = Path(DEFAULT_LOCUSTFILE)
    if here.is_file():
        return here
    checkout = Path(__file__).resolve().parents[3] / DEFAULT_LOCUSTFILE
    return checkout if checkout.is_file() else here


@dataclass(frozen=True)
class LoadOptions:
    """One load run. `thresholds` empty means the target's SLO defaults.

    `pace_ms` switches to the open-model PacedHealthUser (one request per user every
    `pace_ms`, timed from the intended send time). Requests sent in the first `warmup_s`
    seconds (cold starts, connection set-up) are counted but not gated. `abort_after_s`
    enables abort-on-fail:
    after that grace period the master checks the thresholds every second and stops
    the run on the first breach."""

    locustfile: Path | None = None
    user_class: str | None = None
    users: int = 5
    spawn_rate: float = 5.0
    run_time_s: int = 10
    workers: int = 0
    thresholds: tuple[str, ...] = ()
    shape: str | None = None
    out: Path = Path("gameday-load.json")
    host: str | None = None
    mix: str | None = None
    think: str | None = None
    pace_ms: float | None = None
    warmup_s: float = 0.0
    seed: int = 0
    abort_after_s: float | None = None
    raw_samples: Path | None = None
    deadline_slack_s: float = 30.0
    stop_timeout_s: float = 10.0  # local runs: requests in flight at the end may finish
    extra_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadReport:
    """What a run measured and how its thresholds came out."""

    results: LoadResults
    thresholds: tuple[ThresholdResult, ...]
    command: tuple[str, ...]
    log: Path

    @property
    def verdict(self) -> Verdict:
        outcomes = {r.outcome for r in self.thresholds}
        if "error" in outcomes:
            return "error"
        if "fail" in outcomes or self.results.aborted is not None:
            return "fail"
        return "pass"


def _validate(target: Target, options: LoadOptions) -> tuple[Path, str, tuple[Threshold, ...]]:
    locustfile = options.locustfile or default_locustfile()
    if not locustfile.is_file():
        raise ConfigError(f"{locustfile}: locustfile not found")
    if options.users < 1 or options.spawn_rate <= 0:
        raise ConfigError(
            f"--users must be >= 1 and --spawn-rate > 0 (got {options.users}, {options.spawn_rate})"
        )
    if options.run_time_s < 1:
        raise ConfigError(f"--run-time must be at least 1 second (got {options.run_time_s})")
    if options.workers < 0:
        raise ConfigError(f"--workers must be >= 0 (got {options.workers})")
    if options.shape is not None and options.shape not in SHAPES:
        raise ConfigError(f"unknown shape {options.shape!r}; allowed: {', '.join(SHAPES)}")
    if not 0 <= options.warmup_s < options.run_time_s:
        raise ConfigError(
            f"--warmup must be >= 0 and shorter than --run-time (got {options.warmup_s:g} s "
            f"of {options.run_time_s} s)"
        )
    if options.pace_ms is not None and options.pace_ms <= 0:
        raise ConfigError(f"--pace-ms must be > 0 (got {options.pace_ms})")
    if options.mix is not None:
        _check_mix(options.mix)
    if options.think is not None:
        _check_think(options.think)
    host = _allowed_host(target, options.host)
    if options.thresholds:
        thresholds = parse_thresholds(options.thresholds)
    else:
        thresholds = slo_thresholds(target.slos.health_latency_ms, target.slos.availability)
    return locustfile, host, thresholds


def _check_mix(mix: str) -> None:
    """The same rules loadtests/health.py applies, checked before Locust starts."""
    positive = 0
    for part in mix.split(","):
        path, sep, weight = part.strip().partition("=")
        try:
            w = float(weight) if sep else 1.0
        except ValueError:
            w = -1.0
        if not path.strip().startswith("/") or w < 0:
            raise ConfigError(
                f"--mix {mix!r}: bad entry {part.strip()!r}; expected '/path=weight,...' "
                "with weights >= 0"
            )
        positive += w > 0
    if not positive:
        raise ConfigError(f"--mix {mix!r}: no endpoint has a positive weight")


def _check_think(think: str) -> None:
    low, _, high = think.partition(",")
    try:
        lo = float(low)
        hi = float(high) if high else lo
    except ValueError:
        lo, hi = -1.0, -1.0
    if lo < 0 or hi < lo:
        raise ConfigError(f"--think {think!r}: expected 'min,max' seconds with 0 <= min <= max")


def _allowed_host(target: Target, override: str | None) -> str:
    """The base URL to load: the target's api_url, or an override on the same host."""
    own = urlsplit(target.api_url)
    if own.scheme not in ("http", "https") or not own.hostname:
        raise ConfigError(f"{target.source}: api_url {target.api_url!r} is not an http(s) URL")
    if override is None:
        return target.api_url.rstrip("/")
    other = urlsplit(override)
    if other.scheme not in ("http", "https") or not other.hostname:
        raise ConfigError(f"--host {override!r} is not an http(s) URL")
    same = other.hostname == own.hostname
    both_loopback = other.hostname in LOOPBACK and own.hostname in LOOPBACK
    if not (same or both_loopback):
        raise ConfigError(
            f"--host {other.hostname} is not the target's host ({own.hostname}); "
            "load is only ever sent to the target's own API host or loopback"
        )
    return override.rstrip("/")


def _probe_path(options: LoadOptions) -> str:
    mix = options.mix or "/health"
    first = mix.split(",")[0].partition("=")[0].strip()
    return first if first.startswith("/") else "/health"


def check_reachable(host: str, path: str, timeout_s: float = 5.0) -> None:
    """Any HTTP answer will do; no answer at all is a TargetError."""
    url = host + path
    try:
        httpx.get(url, timeout=timeout_s, headers={"Cache-Control": "no-cache"})
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise TargetError(f"{url}: target unreachable ({reason})") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(options: LoadOptions, thresholds: Sequence[Threshold], out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GAMEDAY_RESULTS": str(out),
            "GAMEDAY_THRESHOLDS": json.dumps([t.expression for t in thresholds]),
            "GAMEDAY_ABORT_AFTER": str(
                options.abort_after_s if options.abort_after_s is not None else -1
            ),
            "GAMEDAY_SEED": str(options.seed),
            "GAMEDAY_WARMUP_S": f"{options.warmup_s:g}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("GAMEDAY_SHAPE", None)
    if options.shape:
        env["GAMEDAY_SHAPE"] = options.shape
    for key, value in (
        ("GAMEDAY_MIX", options.mix),
        ("GAMEDAY_THINK", options.think),
        ("GAMEDAY_PACE_MS", None if options.pace_ms is None else str(options.pace_ms)),
        ("GAMEDAY_RAW_SAMPLES", None if options.raw_samples is None else str(options.raw_samples)),
    ):
        if value is not None:
            env[key] = value
        else:
            env.pop(key, None)
    env.update(options.extra_env)
    return env


def _user_class(options: LoadOptions, locustfile: Path) -> list[str]:
    if options.user_class:
        return [options.user_class]
    if locustfile.name == "health.py":
        return ["PacedHealthUser" if options.pace_ms is not None else "HealthUser"]
    return []


def build_commands(
    options: LoadOptions, locustfile: Path, host: str, port: int | None = None
) -> list[list[str]]:
    """The master (or single) command first, then one command per worker."""
    base = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    classes = _user_class(options, locustfile)
    main = [
        *base,
        "--headless",
        "--host",
        host,
        "--users",
        str(options.users),
        "--spawn-rate",
        f"{options.spawn_rate:g}",
        "--run-time",
        f"{options.run_time_s}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if options.workers == 0:
        # At the run time's end a user stops after its request in flight (which is then
        # recorded) instead of being killed mid-request: otherwise the slowest requests of
        # every run, and all of a run shorter than one answer, are silently dropped. Not
        # with workers: the master quits 0.5 s after telling them to, and a worker still
        # finishing its requests would send its last samples too late.
        return [[*main, "--stop-timeout", f"{options.stop_timeout_s:g}", *classes]]
    assert port is not None
    main += [
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(options.workers),
        "--expect-workers-max-wait",
        "30",
    ]
    worker = [
        *base,
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(port),
        "--loglevel",
        "WARNING",
    ]
    return [main + classes] + [worker + classes for _ in range(options.workers)]


class _Processes:
    """Locust processes, each in its own process group; `kill()` leaves none behind."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], env: Mapping[str, str], log: IO[bytes]) -> None:
        self.procs.append(
            subprocess.Popen(
                argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def running(self) -> bool:
        return any(p.poll() is None for p in self.procs)

    def signal(self, sig: int) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, sig)

    def kill(self, grace_s: float = 5.0) -> None:
        """SIGTERM (Locust then writes what it has), then SIGKILL after a grace period."""
        self.signal(signal.SIGTERM)
        end = time.monotonic() + grace_s
        while self.running() and time.monotonic() < end:
            time.sleep(0.05)
        self.signal(signal.SIGKILL)
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)


def _requests_so_far(path: Path) -> int:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return sum(int(s["count"]) for s in doc["series"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def run_load(
    target: Target,
    options: LoadOptions,
    *,
    progress: Callable[[float, int], None] | None = None,
    stop: threading.Event | None = None,
) -> LoadReport:
    """Run one load test against `target` and evaluate its thresholds.

    Raises ConfigError (bad options or thresholds, a host that isn't the target's),
    TargetError (the host does not answer), GamedayError (Locust failed or wrote no
    complete results). Does not raise on breached thresholds: see `check_report`.
    `progress(elapsed_s, requests_so_far)` is called a few times a second. Setting
    `stop` ends the run early but cleanly: the master is sent SIGTERM, stops its
    workers, and still writes complete results."""
    locustfile, host, thresholds = _validate(target, options)
    check_reachable(host, _probe_path(options))
    out = options.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        out.unlink()  # never judge a previous run's file
    log_path = out.with_name(out.name + ".log")
    port = _free_port() if options.workers else None
    commands = build_commands(options, locustfile.resolve(), host, port)
    env = _env(options, thresholds, out)
    if target.version_source:  # where answers name their version (never a header guess)
        env[VERSION_SOURCE_ENV] = target.version_source
    else:
        env.pop(VERSION_SOURCE_ENV, None)
    deadline_s = options.run_time_s + options.deadline_slack_s + (30 if options.workers else 0)
    procs = _Processes()
    started = time.monotonic()
    timed_out = False
    with log_path.open("wb") as log:
        try:
            for argv in commands:
                procs.start(argv, env, log)
            master = procs.procs[0]
            last_count = -1.0
            stopping = False
            while master.poll() is None or procs.running():
                elapsed = time.monotonic() - started
                if elapsed > deadline_s:
                    timed_out = True
                    break
                if stop is not None and stop.is_set() and not stopping:
                    stopping = True
                    with contextlib.suppress(ProcessLookupError):
                        master.send_signal(signal.SIGTERM)
                    deadline_s = min(deadline_s, elapsed + options.deadline_slack_s)
                if progress is not None and elapsed - last_count >= 0.5:
                    progress(elapsed, _requests_so_far(out))
                    last_count = elapsed
                time.sleep(0.1)
        finally:
            procs.kill()
    if timed_out:
        raise GamedayError(
            f"Locust did not finish within {deadline_s:.0f} s; stopped it "
            f"(partial results, if any: {out}; log: {log_path})"
        )
    if not out.exists():
        raise GamedayError(f"Locust wrote no results (exit {master.returncode}): {_tail(log_path)}")
    results = read_results(out)
    if results.status != "complete":
        raise GamedayError(
            f"Locust stopped before completing the run (exit {master.returncode}); "
            f"partial results in {out}: {_tail(log_path)}"
        )
    if results.count == 0:
        raise GamedayError(f"the run recorded no requests (log: {log_path}): {_tail(log_path)}")
    judged = tuple(evaluate_all(thresholds, results.series, results.duration_s))
    return LoadReport(results, judged, tuple(commands[0]), log_path)


class BackgroundLoad:
    """Load running in a thread while something else happens (a chaos experiment):

        with BackgroundLoad(target, LoadOptions(run_time_s=300, ...)) as load:
            ...                       # inject, observe, roll back
            report = load.stop()      # ends Locust cleanly, returns the LoadReport

    `stop()` re-raises whatever `run_load` raised. Leaving the block stops the run."""

    def __init__(self, target: Target, options: LoadOptions) -> None:
        self.target, self.options = target, options
        self._stop = threading.Event()
        self._report: LoadReport | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gameday-load", daemon=True)
        self.requests = 0  # requests recorded so far (updated a few times a second)

    def _run(self) -> None:
        def progress(elapsed: float, requests: int) -> None:
            self.requests = requests

        try:
            self._report = run_load(self.target, self.options, progress=progress, stop=self._stop)
        except BaseException as exc:  # handed to the caller of stop()
            self._error = exc

    def start(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def stop(self, timeout_s: float | None = None) -> LoadReport:
        self._stop.set()
        limit = timeout_s if timeout_s is not None else self.options.deadline_slack_s + 35
        self._thread.join(limit)
        if self._thread.is_alive():
            raise GamedayError(f"background load did not stop within {limit:.0f} s")
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report

    def __enter__(self) -> BackgroundLoad:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(GamedayError):  # the block's own exception matters more
                self.stop()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"


def check_report(report: LoadReport) -> None:
    """Raise for a run that did not pass: ConfigError for threshold errors (a tag that
    matches nothing, no samples), VerdictFailed for breaches or an aborted run."""
    errors = [r for r in report.thresholds if r.outcome == "error"]
    if errors:
        raise ConfigError(
            "; ".join(f"threshold {r.threshold.expression!r}: {r.detail}" for r in errors)
        )
    failed = [r for r in report.thresholds if r.outcome == "fail"]
    if report.results.aborted is not None:
        raise VerdictFailed(f"load run aborted: {report.results.aborted.reason}")
    if failed:
        raise VerdictFailed(
            "thresholds breached: "
            + "; ".join(f"{r.threshold.expression} ({r.detail})" for r in failed)
        )
