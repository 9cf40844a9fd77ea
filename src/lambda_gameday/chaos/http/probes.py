"""HTTP probes against the target's API, for steady-state hypotheses and recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
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


def _polls(timeout_s: float, interval_s: float, run: RunContext) -> Iterator[None]:
    """The rounds of one bounded wait: each starts by honouring the run's stop condition;
    `interval_s` apart, until `timeout_s` has passed. The caller returns from its loop when
    its condition holds, and raises its own timeout error after the loop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run.check_abort()
        yield
        time.sleep(interval_s)


def _client(timeout_s: float) -> httpx.Client:
    return httpx.Client(timeout=timeout_s, headers={"Cache-Control": "no-cache"})


def _url(configuration: dict[str, object] | None, path: str) -> str:
    return api_url(configuration).rstrip("/") + path


def _answered_ok(client: httpx.Client, url: str) -> bool:
    """A 2xx/3xx answer; an error status or no answer at all is a failed request."""
    try:
        return 200 <= client.get(url).status_code < 400
    except httpx.HTTPError:
        return False


def endpoint_available(
    path: str = "/health",
    requests: int = 10,
    timeout_s: float = 2.0,
    configuration: dict[str, object] | None = None,
) -> EndpointCheck:
    """Send `requests` GETs; the share answered 2xx/3xx is `availability` (use it in a
    tolerance, e.g. a jsonpath on availability or a range)."""
    url = _url(configuration, path)
    ok = 0
    statuses: dict[str, int] = {}
    with _client(timeout_s) as client:
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
    url = _url(configuration, path)
    run_start = 0.0
    streak = 0
    with _client(2.0) as client:
        for _ in _polls(timeout_s, interval_s, run_of(configuration)):
            sent = time.time()
            if _answered_ok(client, url):
                run_start = sent if streak == 0 else run_start
                streak += 1
                if streak >= consecutive:
                    return run_start
            else:
                streak = 0
    raise GamedayError(f"{path}: no {consecutive} consecutive successes within {timeout_s:g}s")


def wait_for_failure(
    path: str = "/health",
    timeout_s: float = 30.0,
    interval_s: float = 0.1,
    configuration: dict[str, object] | None = None,
) -> float:
    """Wait until a user request fails (non-2xx/3xx or no answer); returns when it was
    sent. How a fault no alarm watches is 'caught': from the user's side."""
    url = _url(configuration, path)
    with _client(2.0) as client:
        for _ in _polls(timeout_s, interval_s, run_of(configuration)):
            sent = time.time()
            if not _answered_ok(client, url):
                return sent
    raise GamedayError(f"{path}: no failed request within {timeout_s:g}s")


def _traffic_polls(
    path: str | None, timeout_s: float, configuration: dict[str, object] | None
) -> Iterator[list[ProbeRecord]]:
    """Each round of a wait on the background traffic: what it recorded since the wait
    started, on `path` if given, oldest first."""
    run = run_of(configuration)
    started = time.time()
    for _ in _polls(timeout_s, 0.05, run):
        yield [
            r for r in run.recorded() if r.sent_at >= started and (path is None or r.path == path)
        ]


def _traffic_timeout(
    saw: str, path: str | None, timeout_s: float, *, wanted: str = "", note: str = ""
) -> GamedayError:
    """A traffic wait that timed out: what the traffic saw, and the usual cause."""
    where = f" on {path}" if path else ""
    return GamedayError(
        f"background traffic saw {saw}{where} within {timeout_s:g}s{wanted}"
        f" ({note}is the gameday-traffic control running?)"
    )


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
    seen: list[float] = []
    for traffic in _traffic_polls(path, timeout_s, configuration):
        seen = [r.sent_at for r in traffic if not r.ok]
        if len(seen) >= failures:
            return min(seen)
    saw = f"{len(seen)} failed request(s)"
    raise _traffic_timeout(saw, path, timeout_s, wanted=f", wanted {failures}")


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
    streak: list[float] = []
    for traffic in _traffic_polls(path, timeout_s, configuration):
        streak = []
        for r in traffic:
            streak = [*streak, r.sent_at] if r.ok else []
        if len(streak) >= consecutive:
            return streak[0]
    saw = f"no {consecutive} consecutive successes"
    raise _traffic_timeout(saw, path, timeout_s, note=f"last streak {len(streak)}; ")


def wait_for_health_check(
    path: str = "/health",
    component: str = "database",
    status: str = "fail",
    timeout_s: float = 30.0,
    configuration: dict[str, object] | None = None,
) -> str:
    """Wait until the application/health+json body at `path` reports `component`
    (a `checks` key `component:measurement`) with `status`; returns the check's output."""
    url = _url(configuration, path)
    seen = "no answer"
    with _client(5.0) as client:
        for _ in _polls(timeout_s, 0.2, run_of(configuration)):
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
    raise GamedayError(
        f"{path}: check {component!r} did not report {status!r} within {timeout_s:g}s"
        f" (last: {seen})"
    )
