"""HTTP probes against the target's API, for steady-state hypotheses and recovery."""

from __future__ import annotations

import time
from typing import TypedDict

import httpx

from ...exceptions import GamedayError
from ..context import api_url
from ..run import RunContext, run_of
from ..timeline import ProbeRecord

__all__ = [
    "EndpointCheck",
    "endpoint_available",
    "endpoint_healthy",
    "wait_for_failure",
    "wait_for_health_check",
    "wait_for_sustained_success",
    "wait_for_user_impact",
    "wait_for_user_recovery",
]


class EndpointCheck(TypedDict):
    path: str
    requests: int
    ok: int
    availability: float
    statuses: dict[str, int]


def endpoint_available(
    path: str = "/health",
    requests: int = 10,
    timeout_s: float = 2.0,
    configuration: dict[str, object] | None = None,
) -> EndpointCheck:
    """Send `requests` GETs; the share answered 2xx/3xx is `availability` (use it in a
    tolerance, e.g. a jsonpath on availability or a range)."""
    url = api_url(configuration).rstrip("/") + path
    ok = 0
    statuses: dict[str, int] = {}
    with httpx.Client(timeout=timeout_s, headers={"Cache-Control": "no-cache"}) as client:
        for _ in range(max(1, requests)):
            try:
                status = client.get(url).status_code
            except httpx.HTTPError as exc:
                status = 0
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            else:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            ok += 200 <= status < 400
    n = max(1, requests)
    return EndpointCheck(path=path, requests=n, ok=ok, availability=ok / n, statuses=statuses)


def endpoint_healthy(
    path: str = "/health",
    requests: int = 5,
    min_availability: float = 1.0,
    configuration: dict[str, object] | None = None,
) -> bool:
    """True when at least `min_availability` of `requests` GETs answer 2xx/3xx
    (a steady-state probe: use tolerance `true`)."""
    check = endpoint_available(path, requests, configuration=configuration)
    return check["availability"] >= min_availability


def wait_for_sustained_success(
    path: str = "/health",
    consecutive: int = 5,
    timeout_s: float = 60.0,
    interval_s: float = 0.1,
    configuration: dict[str, object] | None = None,
) -> float:
    """Wait for `consecutive` good answers in a row; returns when the run began."""
    url = api_url(configuration).rstrip("/") + path
    run = run_of(configuration)
    deadline = time.monotonic() + timeout_s
    run_start: float | None = None
    streak = 0
    with httpx.Client(timeout=2.0, headers={"Cache-Control": "no-cache"}) as client:
        while time.monotonic() < deadline:
            run.check_abort()
            sent = time.time()
            try:
                good = 200 <= client.get(url).status_code < 400
            except httpx.HTTPError:
                good = False
            if good:
                run_start = sent if streak == 0 else run_start
                streak += 1
                if streak >= consecutive and run_start is not None:
                    return run_start
            else:
                streak = 0
            time.sleep(interval_s)
    raise GamedayError(f"{path}: no {consecutive} consecutive successes within {timeout_s:g}s")


def wait_for_failure(
    path: str = "/health",
    timeout_s: float = 30.0,
    interval_s: float = 0.1,
    configuration: dict[str, object] | None = None,
) -> float:
    """Wait until a user request fails (non-2xx/3xx or no answer); returns when it was
    sent. How a fault no alarm watches is 'caught': from the user's side."""
    url = api_url(configuration).rstrip("/") + path
    run = run_of(configuration)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0, headers={"Cache-Control": "no-cache"}) as client:
        while time.monotonic() < deadline:
            run.check_abort()
            sent = time.time()
            try:
                if not 200 <= client.get(url).status_code < 400:
                    return sent
            except httpx.HTTPError:
                return sent
            time.sleep(interval_s)
    raise GamedayError(f"{path}: no failed request within {timeout_s:g}s")


def _traffic_since(run: RunContext, started: float, path: str | None) -> list[ProbeRecord]:
    """The background traffic a probe judges: sent since it started, on `path` if given."""
    return [r for r in run.recorded() if r.sent_at >= started and (path is None or r.path == path)]


def wait_for_user_impact(
    path: str | None = None,
    failures: int = 3,
    timeout_s: float = 30.0,
    configuration: dict[str, object] | None = None,
) -> float:
    """Wait until the experiment's background traffic (the `gameday-traffic` control) has
    recorded `failures` failed requests (on `path`, when given) sent since this probe
    started; returns when the first of them was sent. Holding a fault until the users'
    traffic saw it keeps a fast restore from ending the fault before the timeline could
    measure its impact."""
    run = run_of(configuration)
    started = time.time()
    deadline = time.monotonic() + timeout_s
    seen: list[float] = []
    while time.monotonic() < deadline:
        run.check_abort()
        seen = [r.sent_at for r in _traffic_since(run, started, path) if not r.ok]
        if len(seen) >= failures:
            return min(seen)
        time.sleep(0.05)
    where = f" on {path}" if path else ""
    raise GamedayError(
        f"background traffic saw {len(seen)} failed request(s){where} within {timeout_s:g}s,"
        f" wanted {failures} (is the gameday-traffic control running?)"
    )


def wait_for_user_recovery(
    path: str | None = None,
    consecutive: int = 5,
    timeout_s: float = 60.0,
    configuration: dict[str, object] | None = None,
) -> float:
    """Wait until the experiment's background traffic (the `gameday-traffic` control) has
    recorded `consecutive` successful requests in a row (on `path`, when given) sent since
    this probe started; returns when the first of them was sent. The timeline judges
    recovery on that traffic, so the experiment must not end before the traffic saw it."""
    run = run_of(configuration)
    started = time.time()
    deadline = time.monotonic() + timeout_s
    streak: list[float] = []
    while time.monotonic() < deadline:
        run.check_abort()
        streak = []
        for r in _traffic_since(run, started, path):
            streak = [*streak, r.sent_at] if r.ok else []
        if len(streak) >= consecutive:
            return streak[0]
        time.sleep(0.05)
    where = f" on {path}" if path else ""
    raise GamedayError(
        f"background traffic saw no {consecutive} consecutive successes{where} within"
        f" {timeout_s:g}s (last streak {len(streak)}; is the gameday-traffic control running?)"
    )


def wait_for_health_check(
    path: str = "/health",
    component: str = "database",
    status: str = "fail",
    timeout_s: float = 30.0,
    configuration: dict[str, object] | None = None,
) -> str:
    """Wait until the application/health+json body at `path` reports `component`
    (a `checks` key `component:measurement`) with `status`; returns the check's output."""
    url = api_url(configuration).rstrip("/") + path
    run = run_of(configuration)
    deadline = time.monotonic() + timeout_s
    seen = "no answer"
    with httpx.Client(timeout=5.0, headers={"Cache-Control": "no-cache"}) as client:
        while time.monotonic() < deadline:
            run.check_abort()
            try:
                body = client.get(url).json()
            except (httpx.HTTPError, ValueError):
                body = {}
            checks = body.get("checks", {}) if isinstance(body, dict) else {}
            for key, entries in checks.items() if isinstance(checks, dict) else []:
                if key.split(":", 1)[0] != component or not isinstance(entries, list):
                    continue
                for entry in entries:
                    if isinstance(entry, dict):
                        seen = str(entry.get("status"))
                        if entry.get("status") == status:
                            return str(entry.get("output", status))
            time.sleep(0.2)
    raise GamedayError(
        f"{path}: check {component!r} did not report {status!r} within {timeout_s:g}s"
        f" (last: {seen})"
    )
