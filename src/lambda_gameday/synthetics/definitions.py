"""Synthetic check definitions: one TOML file per endpoint, validated on load.

A check names its endpoint by path (`/health`) or by function (`health-comprehensive`), so
the same file runs against the sandbox and AWS (URL = target API URL + path):

    name = "health"
    endpoint = "/health"            # or "health-comprehensive"
    method = "GET"                  # GET | HEAD | POST | PUT | DELETE | OPTIONS
    timeout_s = 1.0                 # whole request, default 1 s (Kubernetes' probe default)
    cache_bust = true               # add a unique `_gd` query parameter (default true)
    headers = { Accept = "application/health+json" }

    [latency]                       # total time of the final attempt
    degraded_ms = 80                # above: degraded (optional; must be below failed_ms)
    failed_ms = 100                 # above: failed (default: the target's health SLO)

    [retry]
    attempts = 2                    # total attempts, 1..10; only the last one counts
    backoff_ms = 50

    [expect]
    status = [200, "3xx"]           # codes or classes; default 2xx
    health = true                   # the application/health+json contract
    headers = { "content-type" = "json", "x-amz-executed-version" = true }
                                    # text: must contain it; true: present; false: absent
    [[expect.json]]
    path = "checks.database:responseTime[0].status"    # see jsonpath.py
    equals = "pass"                 # or one_of = [...], min / max, exists, matches (regex)

    [[expect.observed]]             # limits on every observedValue of one health check
    check = "database:responseTime"
    max = 50

The latency budget is a *warm* request's, like the p95 SLO it defaults to. A p95 SLO
accepts a single slow request (a cold start pays Init Duration; a stall happens), so a
budget on one probe must not fail it: an attempt that breaks `failed_ms` and nothing else
is confirmed by one more request at once. When the confirming request is within budget the
check is `degraded` ("one slow attempt ..."), which counts as passed; when it is slow too,
the check fails. Cold starts have their own SLO (`gameday coldstart`, and the game day's
cold-start rows); availability and tail latency over many probes are `gameday synth
--watch` and the game day's synthetics phase.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import Target
from ..exceptions import ConfigError
from ..validate.documents import read_document
from ..validate.limits import MAX_NAME_CHARS, MAX_TEXT_CHARS
from ..validate.text import shown
from .jsonpath import JsonPath, PathSyntaxError, parse_path

__all__ = [
    "CheckDefinition",
    "DefinitionError",
    "Expectations",
    "HeaderExpectation",
    "JsonAssertion",
    "LatencyBudget",
    "ObservedLimit",
    "RetryPolicy",
    "load_check",
    "load_checks",
    "parse_check",
    "resolve_url",
]

Method = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
METHODS: tuple[Method, ...] = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")
_STATUS_CLASS = re.compile(r"^[1-5]xx$")


@dataclass(frozen=True)
class LatencyBudget:
    """Latency levels in ms; `failed_ms` None means "the target's health latency SLO"."""

    degraded_ms: float | None = None
    failed_ms: float | None = None

    def resolved_failed_ms(self, target: Target | None) -> float | None:
        if self.failed_ms is not None:
            return self.failed_ms
        return target.slos.health_latency_ms if target is not None else None


@dataclass(frozen=True)
class RetryPolicy:
    """Total attempts (1 = no retry) and the pause between them; only the last attempt counts."""

    attempts: int = 1
    backoff_ms: float = 0.0


@dataclass(frozen=True)
class HeaderExpectation:
    """`contains` text (case-insensitive), or `present` True/False."""

    name: str
    contains: str | None = None
    present: bool = True


@dataclass(frozen=True)
class JsonAssertion:
    """One assertion on the value at `path`; all given conditions must hold."""

    path: JsonPath
    equals: object = None
    has_equals: bool = False
    one_of: tuple[object, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exists: bool | None = None
    matches: str | None = None


@dataclass(frozen=True)
class ObservedLimit:
    """Bounds on every `observedValue` of the health check `check` (a `component:measurement`)."""

    check: str
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True


@dataclass(frozen=True)
class Expectations:
    status: tuple[int | str, ...] = ("2xx",)
    health: bool = False
    headers: tuple[HeaderExpectation, ...] = ()
    json: tuple[JsonAssertion, ...] = ()
    observed: tuple[ObservedLimit, ...] = ()

    def status_ok(self, code: int) -> bool:
        for spec in self.status:
            if isinstance(spec, int) and spec == code:
                return True
            if isinstance(spec, str) and str(code)[0] == spec[0]:
                return True
        return False

    @property
    def needs_json(self) -> bool:
        return self.health or bool(self.json) or bool(self.observed)


@dataclass(frozen=True)
class CheckDefinition:
    """One synthetic check, as loaded from a file (or built in code)."""

    name: str
    endpoint: str
    method: Method = "GET"
    timeout_s: float = 1.0
    cache_bust: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    latency: LatencyBudget = field(default_factory=LatencyBudget)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    expect: Expectations = field(default_factory=Expectations)
    source: str = "<code>"


@dataclass(frozen=True)
class DefinitionError:
    """A definition file that could not be loaded; a run records it as a failed check."""

    source: str
    name: str
    reason: str


# --- parsing -----------------------------------------------------------------------------

_TOP = {
    "name": "a non-empty string",
    "endpoint": "a path starting with '/' or a function name such as 'health-comprehensive'",
    "method": "one of " + ", ".join(METHODS),
    "timeout_s": "a number of seconds > 0 and <= 60",
    "cache_bust": "true or false",
    "headers": "a table of header name = string",
    "body": "a string",
    "description": "a string",
    "latency": "a table with degraded_ms and failed_ms",
    "retry": "a table with attempts and backoff_ms",
    "expect": "a table with status, health, headers, json, observed",
}
_LATENCY = {"degraded_ms": "a number of ms > 0", "failed_ms": "a number of ms > 0"}
_RETRY = {"attempts": "a whole number 1..10", "backoff_ms": "a number of ms >= 0 and <= 60000"}
_EXPECT = {
    "status": "a list of status codes (200) or classes ('2xx')",
    "health": "true or false",
    "headers": "a table of header name = text to contain, true (present) or false (absent)",
    "json": "an array of [[expect.json]] tables",
    "observed": "an array of [[expect.observed]] tables",
}
_JSON = {
    "path": "a JSON path such as 'checks.database:responseTime[0].status'",
    "equals": "any value",
    "one_of": "a non-empty list of values",
    "min": "a number",
    "max": "a number",
    "exists": "true or false",
    "matches": "a regular expression",
}
_OBSERVED = {
    "check": "a health check key 'component:measurement'",
    "min": "a number",
    "max": "a number",
    "required": "true or false (default true: the check must be present)",
}


class _Table:
    """Typed access to one TOML table; errors read `file: key: problem; expected ...`."""

    def __init__(self, source: str, data: object, prefix: str, allowed: Mapping[str, str]):
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: {prefix.rstrip('.') or 'file'} must be a table")
        self.source, self.data, self.prefix, self.allowed = source, data, prefix, allowed
        for key in data:
            if key not in allowed:
                raise ConfigError(
                    f"{source}: unknown key {prefix}{shown(key)}; allowed: "
                    + ", ".join(sorted(allowed))
                )

    def fail(self, key: str, value: object) -> ConfigError:
        expected = self.allowed[key]
        return ConfigError(
            f"{self.source}: {self.prefix}{key} = {shown(value)} is invalid; expected {expected}"
        )

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def string(
        self, key: str, default: str | None = None, *, limit: int = MAX_TEXT_CHARS
    ) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value or len(value) > limit:
            raise self.fail(key, value)
        return value

    def required_string(self, key: str) -> str:
        if key not in self.data:
            raise ConfigError(
                f"{self.source}: missing key {self.prefix}{key} ({self.allowed[key]})"
            )
        value = self.string(key)
        if value is None:
            raise self.fail(key, value)
        return value

    def number(
        self, key: str, *, low: float, high: float, low_inclusive: bool = False
    ) -> float | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(key, value)
        ok = (low <= value if low_inclusive else low < value) and value <= high
        if not ok:
            raise self.fail(key, value)
        return float(value)

    def any_number(self, key: str) -> float | None:
        return self.number(key, low=-math.inf, high=math.inf, low_inclusive=True)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, value)
        return value

    def tables(self, key: str) -> list[object]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, value)
        return value


def _parse_latency(t: _Table) -> LatencyBudget:
    lt = _Table(t.source, t.raw("latency") or {}, "latency.", _LATENCY)
    degraded = lt.number("degraded_ms", low=0, high=3_600_000)
    failed = lt.number("failed_ms", low=0, high=3_600_000)
    if degraded is not None and failed is not None and degraded >= failed:
        raise ConfigError(
            f"{t.source}: latency.degraded_ms ({degraded:g}) must be below latency.failed_ms "
            f"({failed:g})"
        )
    return LatencyBudget(degraded_ms=degraded, failed_ms=failed)


def _parse_retry(t: _Table) -> RetryPolicy:
    rt = _Table(t.source, t.raw("retry") or {}, "retry.", _RETRY)
    attempts_raw = rt.raw("attempts")
    attempts = 1
    if attempts_raw is not None:
        if isinstance(attempts_raw, bool) or not isinstance(attempts_raw, int):
            raise rt.fail("attempts", attempts_raw)
        if not 1 <= attempts_raw <= 10:
            raise rt.fail("attempts", attempts_raw)
        attempts = attempts_raw
    backoff = rt.number("backoff_ms", low=0, high=60_000, low_inclusive=True) or 0.0
    return RetryPolicy(attempts=attempts, backoff_ms=backoff)


def _parse_status(et: _Table) -> tuple[int | str, ...]:
    if not et.has("status"):
        return ("2xx",)
    value = et.raw("status")
    items = value if isinstance(value, list) else [value]
    out: list[int | str] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            out.append(item)
        elif isinstance(item, str) and _STATUS_CLASS.match(item.lower()):
            out.append(item.lower())
        else:
            raise et.fail("status", value)
    if not out:
        raise et.fail("status", value)
    return tuple(out)


def _parse_headers(source: str, value: object, key: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(
            f"{source}: {key} = {value!r} is invalid; expected a table of name = string"
        )
    return tuple((k, v) for k, v in value.items())


def _parse_header_expectations(et: _Table) -> tuple[HeaderExpectation, ...]:
    value = et.raw("headers")
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise et.fail("headers", value)
    out = []
    for name, want in value.items():
        if isinstance(want, bool):
            out.append(HeaderExpectation(name=name.lower(), present=want))
        elif isinstance(want, str) and want:
            out.append(HeaderExpectation(name=name.lower(), contains=want))
        else:
            raise ConfigError(
                f"{et.source}: expect.headers.{name} = {want!r} is invalid; expected "
                f"{_EXPECT['headers']}"
            )
    return tuple(out)


def _parse_json_assertion(source: str, index: int, data: object) -> JsonAssertion:
    jt = _Table(source, data, f"expect.json[{index}].", _JSON)
    path_text = jt.required_string("path")
    try:
        path = parse_path(path_text)
    except PathSyntaxError as exc:
        raise ConfigError(f"{source}: expect.json[{index}].path: {exc}") from None
    one_of_raw = jt.raw("one_of")
    one_of: tuple[object, ...] | None = None
    if one_of_raw is not None:
        if not isinstance(one_of_raw, list) or not one_of_raw:
            raise jt.fail("one_of", one_of_raw)
        one_of = tuple(one_of_raw)
    matches = jt.string("matches")
    if matches is not None:
        try:
            re.compile(matches)
        except re.error as exc:
            raise ConfigError(
                f"{source}: expect.json[{index}].matches: bad regex ({exc})"
            ) from None
    exists = jt.boolean("exists", True) if jt.has("exists") else None
    conditions = ("equals", "one_of", "min", "max", "exists", "matches")
    if not any(jt.has(c) for c in conditions):
        raise ConfigError(
            f"{source}: expect.json[{index}] ({path_text}) asserts nothing; give one of "
            + ", ".join(conditions)
        )
    return JsonAssertion(
        path=path,
        equals=jt.raw("equals"),
        has_equals=jt.has("equals"),
        one_of=one_of,
        minimum=jt.any_number("min"),
        maximum=jt.any_number("max"),
        exists=exists,
        matches=matches,
    )


def _parse_observed(source: str, index: int, data: object) -> ObservedLimit:
    ot = _Table(source, data, f"expect.observed[{index}].", _OBSERVED)
    check = ot.required_string("check")
    low, high = ot.any_number("min"), ot.any_number("max")
    if low is None and high is None:
        raise ConfigError(f"{source}: expect.observed[{index}] ({check}) needs min or max")
    if low is not None and high is not None and low > high:
        raise ConfigError(f"{source}: expect.observed[{index}] ({check}): min is above max")
    return ObservedLimit(
        check=check, minimum=low, maximum=high, required=ot.boolean("required", True)
    )


def _parse_expect(t: _Table) -> Expectations:
    et = _Table(t.source, t.raw("expect") or {}, "expect.", _EXPECT)
    return Expectations(
        status=_parse_status(et),
        health=et.boolean("health", False),
        headers=_parse_header_expectations(et),
        json=tuple(_parse_json_assertion(t.source, i, d) for i, d in enumerate(et.tables("json"))),
        observed=tuple(
            _parse_observed(t.source, i, d) for i, d in enumerate(et.tables("observed"))
        ),
    )


def parse_check(data: Mapping[str, object], source: str) -> CheckDefinition:
    """Build a check from parsed TOML; every problem names `source` and the key."""
    t = _Table(source, data, "", _TOP)
    endpoint = t.required_string("endpoint")
    if len(endpoint) > MAX_NAME_CHARS:
        raise t.fail("endpoint", endpoint)
    if endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"{source}: endpoint = {endpoint!r}: give a path or function name, not a URL "
            "(the target supplies the base URL)"
        )
    method = (t.string("method", "GET") or "GET").upper()
    if method not in METHODS:
        raise t.fail("method", t.raw("method"))
    return CheckDefinition(
        name=t.string("name", limit=MAX_NAME_CHARS) or Path(source).stem,
        endpoint=endpoint,
        method=method,
        timeout_s=t.number("timeout_s", low=0, high=60) or 1.0,
        cache_bust=t.boolean("cache_bust", True),
        headers=_parse_headers(source, t.raw("headers"), "headers"),
        body=t.string("body"),
        latency=_parse_latency(t),
        retry=_parse_retry(t),
        expect=_parse_expect(t),
        source=source,
    )


def load_check(path: str | Path) -> CheckDefinition:
    """Read and validate one check file; raises ConfigError with a one-line reason."""
    p = Path(path)
    data = read_document(p, "check file", "toml")
    assert isinstance(data, dict)  # tomllib returns a table
    return parse_check(data, str(p))


def _check_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(p.glob("*.toml")))
        elif p.exists():
            files.append(p)
        else:
            raise ConfigError(f"{p}: no such check file or directory")
    return files


def load_checks(
    paths: Iterable[str | Path],
) -> tuple[list[CheckDefinition], list[DefinitionError]]:
    """Load every `*.toml` in the given files/directories.

    A malformed file does not stop the others: it comes back as a DefinitionError, which a
    run records as a failed check. A path that does not exist at all raises ConfigError.
    """
    checks: list[CheckDefinition] = []
    errors: list[DefinitionError] = []
    names: dict[str, str] = {}
    for file in _check_files(paths):
        try:
            check = load_check(file)
        except ConfigError as exc:
            errors.append(DefinitionError(source=str(file), name=file.stem, reason=exc.one_line()))
            continue
        if check.name in names:
            reason = f"{file}: check name {check.name!r} is already used by {names[check.name]}"
            errors.append(DefinitionError(source=str(file), name=check.name, reason=reason))
            continue
        names[check.name] = str(file)
        checks.append(check)
    return checks, errors


def resolve_url(check: CheckDefinition, target: Target) -> str:
    """The URL a check probes on `target`: its API URL plus the endpoint's path."""
    path = (
        check.endpoint if check.endpoint.startswith("/") else target.function(check.endpoint).path
    )
    return target.url(path)
