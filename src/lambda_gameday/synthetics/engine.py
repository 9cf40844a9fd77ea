"""The check runner: one HTTP request per attempt through httpx, judged against a definition.

Every attempt bypasses caches (`Cache-Control: no-cache` plus, by default, a unique `_gd`
query parameter), records its timing from httpx's `trace` extension, and is judged on
status, headers, JSON paths, the health contract, observedValue limits and latency. Only
the final attempt counts; earlier failed attempts are listed in `retry_reasons`.

Nothing a target does raises out of `run()`: an unreachable host, a TLS error, a timeout
or a non-JSON body becomes a failed result with a reason. The httpx client is injectable
(pass `client=` or `transport=`), which is the seam for tests.
"""

from __future__ import annotations

import itertools
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ..config import Target
from ..exceptions import ConfigError
from ..version_source import version_reader
from .closing import Closing
from .definitions import CheckDefinition, DefinitionError, JsonAssertion, resolve_url
from .health_contract import check_health, check_observed
from .jsonpath import MISSING
from .results import CheckResult, Outcome, ResultsWriter, Timing

__all__ = ["COLD_START_HEADER", "CheckRunner", "Verdict", "definition_failure", "judge"]

USER_AGENT = "lambda-gameday-synthetics/0.1"
# Set by the sandbox's gateway on the response of a request that started a new execution
# environment. AWS has no such header: there the flag stays None and cold starts come from
# REPORT lines (see coldstart.py).
COLD_START_HEADER = "x-gameday-cold-start"
_REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-amz-request-id", "apigw-requestid")


@dataclass(frozen=True)
class Verdict:
    """The judgement of one response."""

    outcome: Outcome
    reasons: tuple[str, ...]
    health_status: str | None = None
    slow_only: bool = False  # failed on the latency budget alone (everything else held)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_assertion_problems(a: JsonAssertion, document: object) -> list[str]:
    value = a.path.resolve(document)
    where = a.path.text
    if value is MISSING:
        return [] if a.exists is False else [f"{where} is missing"]
    problems = []
    if a.exists is False:
        problems.append(f"{where} exists but should not")
    if a.has_equals and value != a.equals:
        problems.append(f"{where} is {value!r}, expected {a.equals!r}")
    if a.one_of is not None and value not in a.one_of:
        problems.append(f"{where} is {value!r}, expected one of {list(a.one_of)!r}")
    if a.minimum is not None or a.maximum is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where} is {value!r}, not a number")
        else:
            if a.minimum is not None and value < a.minimum:
                problems.append(f"{where} is {value:g}, below min {a.minimum:g}")
            if a.maximum is not None and value > a.maximum:
                problems.append(f"{where} is {value:g}, above max {a.maximum:g}")
    if a.matches is not None and not (isinstance(value, str) and re.search(a.matches, value)):
        problems.append(f"{where} is {value!r}, does not match /{a.matches}/")
    return problems


def judge(
    check: CheckDefinition,
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    total_ms: float | None,
    target: Target | None = None,
) -> Verdict:
    """Judge one response against a check. Pure: no I/O.

    failed: wrong status, a header/JSON/contract/observedValue assertion broken, or latency
    above the failed level (body assertions are skipped when the status is already wrong);
    degraded: latency above the degraded level, or the service itself reports `warn`;
    ok otherwise.
    """
    failures: list[str] = []
    degraded: list[str] = []
    exp = check.expect
    status_ok = exp.status_ok(status_code)
    if not status_ok:
        wanted = ", ".join(str(s) for s in exp.status)
        failures.append(f"HTTP {status_code}, expected {wanted}")
    lower = {k.lower(): v for k, v in headers.items()}
    for h in exp.headers:
        value = lower.get(h.name)
        if not h.present and value is not None:
            failures.append(f"header {h.name} present but should not be")
        elif h.present and value is None:
            failures.append(f"header {h.name} missing")
        elif (
            h.contains is not None and value is not None and h.contains.lower() not in value.lower()
        ):
            failures.append(f"header {h.name} is {value!r}, expected to contain {h.contains!r}")
    health_status: str | None = None
    if exp.needs_json:
        try:
            document: object = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            if status_ok:  # with a wrong status the body is not what the check describes
                ctype = lower.get("content-type", "no content-type")
                text = _short(body.decode("utf-8", "replace"))
                failures.append(f"body is not JSON ({ctype}): {text!r}")
        else:
            report = check_health(status_code, document) if exp.health else None
            health_status = report.status if report is not None else None
            if status_ok:
                for assertion in exp.json:
                    failures.extend(_json_assertion_problems(assertion, document))
                if report is not None:
                    failures.extend(f"contract violation: {v}" for v in report.violations)
                    if report.status == "warn":
                        degraded.append("service reports status 'warn'")
                failures.extend(check_observed(document, exp.observed))
    slow = False
    if total_ms is not None:
        failed_ms = check.latency.resolved_failed_ms(target)
        if failed_ms is not None and total_ms > failed_ms:
            slow = not failures
            failures.append(f"took {total_ms:.1f} ms, budget {failed_ms:g} ms")
        elif check.latency.degraded_ms is not None and total_ms > check.latency.degraded_ms:
            degraded.append(
                f"took {total_ms:.1f} ms, above degraded level {check.latency.degraded_ms:g} ms"
            )
    if failures:
        return Verdict("failed", tuple(failures), health_status, slow_only=slow)
    if degraded:
        return Verdict("degraded", tuple(degraded), health_status)
    return Verdict("ok", (), health_status)


class _Trace:
    """Collects httpcore's trace events (name -> perf_counter time of first occurrence)."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: dict[str, float] = {}

    def __call__(self, name: str, info: Mapping[str, Any]) -> None:
        self.events.setdefault(name, time.perf_counter())

    def span(self, prefix: str) -> float | None:
        start, end = self.events.get(prefix + ".started"), self.events.get(prefix + ".complete")
        return (end - start) * 1000.0 if start is not None and end is not None else None

    def headers_done(self) -> float | None:
        for name, t in self.events.items():
            if name.endswith(".receive_response_headers.complete"):
                return t
        return None


def _is_tls_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ssl.SSLError | ssl.CertificateError):
            return True
        node = node.__cause__ or node.__context__
    text = str(exc)
    return "SSL" in text or "CERTIFICATE" in text.upper()


def _transport_failure(exc: httpx.HTTPError, timeout_s: float) -> str:
    detail = _short(str(exc) or type(exc).__name__, 120)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout after {timeout_s:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout: no response within {timeout_s:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        if _is_tls_error(exc):
            return f"TLS error: {detail}"
        return f"cannot connect: {detail}"
    if _is_tls_error(exc):
        return f"TLS error: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {detail}"
    return f"{type(exc).__name__}: {detail}"


class CheckRunner(Closing):
    """Runs checks against one target. Close it (or use `with`) to release connections.

    `fresh_connections=True` sends `Connection: close` so every attempt pays connect (and
    TLS) like a first-time user; by default connections are kept alive like a browser's.
    `stop` (a threading.Event) cuts retry back-offs short when set.
    """

    def __init__(
        self,
        target: Target,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        fresh_connections: bool = False,
        stop: threading.Event | None = None,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.target = target
        self._own_client = client is None
        self.client = client or httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # never route probes through a proxy from the environment
            verify=verify,
            headers={"User-Agent": USER_AGENT},
        )
        self.fresh_connections = fresh_connections
        self.stop = stop or threading.Event()
        self._bust_prefix = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)

    # -- one attempt ----------------------------------------------------------------------

    def _request(self, check: CheckDefinition, url: str) -> httpx.Request:
        headers = {"Cache-Control": "no-cache", "Pragma": "no-cache"}
        if self.fresh_connections:
            headers["Connection"] = "close"
        headers.update(dict(check.headers))
        full = httpx.URL(url)
        if check.cache_bust:
            full = full.copy_merge_params({"_gd": f"{self._bust_prefix}-{next(self._counter)}"})
        return self.client.build_request(
            check.method,
            full,
            headers=headers,
            content=check.body.encode() if check.body is not None else None,
            timeout=check.timeout_s,
        )

    def _attempt(self, check: CheckDefinition, url: str) -> CheckResult:
        started_at = time.time()
        trace = _Trace()
        try:
            request = self._request(check, url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            return CheckResult(
                check.name, check.endpoint, url, started_at, "failed", f"bad URL: {exc}"
            )
        request.extensions["trace"] = trace
        t0 = time.perf_counter()
        try:
            response = self.client.send(request)
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - t0) * 1000.0
            timing = Timing(
                trace.span("connection.connect_tcp"), trace.span("connection.start_tls")
            )
            return CheckResult(
                check.name,
                check.endpoint,
                url,
                started_at,
                "failed",
                _transport_failure(exc, check.timeout_s) + f" (after {elapsed:.1f} ms)",
                timing=timing,
            )
        t_end = time.perf_counter()
        headers_done = trace.headers_done()
        timing = Timing(
            connect_ms=trace.span("connection.connect_tcp"),
            tls_ms=trace.span("connection.start_tls"),
            ttfb_ms=(headers_done - t0) * 1000.0 if headers_done is not None else None,
            total_ms=(t_end - t0) * 1000.0,
        )
        verdict = judge(
            check,
            response.status_code,
            response.headers,
            response.content,
            timing.total_ms,
            self.target,
        )
        cold = response.headers.get(COLD_START_HEADER)
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
        )
        return CheckResult(
            name=check.name,
            endpoint=check.endpoint,
            url=url,
            started_at=started_at,
            outcome=verdict.outcome,
            reason="; ".join(verdict.reasons),
            status_code=response.status_code,
            timing=timing,
            # only as the answer names it itself (target's version_source); never a guess
            executed_version=version_reader(self.target.version_source)(
                response.headers, lambda: response.content
            ),
            cold_start=None if cold is None else cold.strip().lower() in ("1", "true", "yes"),
            request_id=request_id,
            health_status=verdict.health_status,
            slow=verdict.slow_only,
        )

    # -- public ---------------------------------------------------------------------------

    def url_for(self, check: CheckDefinition) -> str:
        return resolve_url(check, self.target)

    def run(self, check: CheckDefinition) -> CheckResult:
        """Run one check with its retry policy; never raises for target-side problems."""
        try:
            url = self.url_for(check)
        except ConfigError as exc:
            return CheckResult(
                check.name, check.endpoint, "", time.time(), "failed", exc.one_line()
            )
        first_started = time.time()
        earlier: list[str] = []
        attempts = max(1, check.retry.attempts)
        result = self._attempt(check, url)
        for _ in range(attempts - 1):
            if result.outcome != "failed" or self.stop.is_set():
                break
            earlier.append(result.reason)
            if check.retry.backoff_ms > 0 and self.stop.wait(check.retry.backoff_ms / 1000.0):
                break
            result = self._attempt(check, url)
        if result.outcome == "failed" and result.slow and not self.stop.is_set():
            # The latency budget is a warm request's: one slow attempt (a cold start, a
            # stall) is what a p95 SLO tolerates, so it is confirmed before it fails.
            earlier.append(result.reason)
            confirm = self._attempt(check, url)
            if confirm.outcome != "failed":
                result = replace(
                    confirm,
                    outcome="degraded",
                    reason="; ".join(
                        r
                        for r in (
                            f"one slow attempt ({result.reason}); the confirming request "
                            f"took {confirm.timing.total_ms or 0:.1f} ms",
                            confirm.reason,
                        )
                        if r
                    ),
                )
            else:
                result = replace(
                    confirm, reason=f"{confirm.reason} (confirmed on a second request)"
                )
        if not earlier:
            return result
        note = f"passed on attempt {len(earlier) + 1}" if result.outcome != "failed" else ""
        reason = "; ".join(r for r in (result.reason, note) if r)
        return replace(
            result,
            started_at=first_started,
            attempts=len(earlier) + 1,
            retry_reasons=tuple(earlier),
            reason=reason,
        )

    def run_all(
        self,
        checks: Iterable[CheckDefinition],
        errors: Iterable[DefinitionError] = (),
        writer: ResultsWriter | None = None,
    ) -> list[CheckResult]:
        """Run each check once, in order; definition errors become failed results first."""
        results = [definition_failure(e) for e in errors]
        for r in results:
            if writer is not None:
                writer.write(r)
        for check in checks:
            if self.stop.is_set():
                break
            result = self.run(check)
            results.append(result)
            if writer is not None:
                writer.write(result)
        return results

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def definition_failure(error: DefinitionError) -> CheckResult:
    """A malformed definition, recorded as a failed check so the run shows it."""
    return CheckResult(
        name=error.name,
        endpoint="",
        url="",
        started_at=time.time(),
        outcome="failed",
        reason=f"invalid definition: {error.reason}",
    )
