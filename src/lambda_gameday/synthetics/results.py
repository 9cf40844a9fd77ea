"""Check results, and their JSON Lines file: one object per line, flushed as it is written.

Every line has a `kind`: `check` (one check run or one monitor probe), `coldstart`,
`availability`, `finding` (conformance). A run killed half-way leaves a valid file up to
its last complete line; `load_results()` ignores a truncated final line and re-evaluates
a past run from the raw timings (latency percentiles are recomputed, never stored).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Literal, Protocol, cast

from ..exceptions import ConfigError
from ..stats import LatencyHistogram, LatencySummary, exact_lower_bound, wilson_lower_bound
from .closing import Closing

__all__ = [
    "CheckResult",
    "EndpointStats",
    "Outcome",
    "ResultsWriter",
    "Timing",
    "json_safe",
    "load_results",
    "read_records",
    "summarize",
]

Outcome = Literal["ok", "degraded", "failed"]


@dataclass(frozen=True)
class Timing:
    """Phases of the final attempt in ms, from httpx's trace events; None when not observed.

    connect and tls are None when a kept-alive connection was reused; ttfb is from the start
    of the request to the end of the response headers; total includes reading the body.
    """

    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check (its final attempt), with everything needed to re-judge it."""

    name: str
    endpoint: str
    url: str
    started_at: float  # epoch seconds, wall clock, of the first attempt
    outcome: Outcome
    reason: str = ""
    status_code: int | None = None
    timing: Timing = field(default_factory=Timing)
    executed_version: str | None = None
    cold_start: bool | None = None  # None: the target did not say
    request_id: str | None = None
    health_status: str | None = None
    attempts: int = 1
    retry_reasons: tuple[str, ...] = ()  # why each earlier attempt failed
    scheduled_at: float | None = None  # monitor probes: when it was meant to start
    lag_ms: float | None = None  # monitor probes: how late the harness started it
    slow: bool = False  # this attempt failed on the latency budget alone
    kind: Literal["check"] = "check"

    @property
    def retried(self) -> bool:
        return self.attempts > 1

    @property
    def latency_ms(self) -> float | None:
        return self.timing.total_ms

    def to_record(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> CheckResult:
        data = dict(record)
        timing = data.pop("timing", None) or {}
        data["timing"] = Timing(**cast(dict[str, float | None], timing))
        data["retry_reasons"] = tuple(cast(list[str], data.get("retry_reasons") or ()))
        return cls(**data)  # type: ignore[arg-type]


class Record(Protocol):
    def to_record(self) -> dict[str, object]: ...


def json_safe(value: object) -> object:
    """`value` with every NaN and infinity (at any depth) made null: JSON has no spelling for
    them, and every results line and report stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


class ResultsWriter(Closing):
    """Append records to a JSON Lines file, one flushed line each. Usable as a context manager.

    `path=None` keeps records in memory only (`records` holds them either way).
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, append: bool = False):
        self.path = Path(path) if path is not None else None
        self.records: list[dict[str, object]] = []
        self._fh: IO[str] | None = None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("a" if append else "w", encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{self.path}: cannot write results ({exc.strerror})") from None

    def write(self, item: Record) -> None:
        record = cast(dict[str, object], json_safe(item.to_record()))
        self.records.append(record)
        if self._fh is not None:
            self._fh.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, object]]:
    """Every record in a results file. A truncated last line is skipped; a bad line elsewhere
    raises ConfigError naming the line."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{p}: results file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read results ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                return  # a run killed mid-write; everything before it is intact
            raise ConfigError(f"{p}:{number}: not a JSON object") from None
        if not isinstance(record, dict) or "kind" not in record:
            raise ConfigError(f"{p}:{number}: not a results record (no 'kind')")
        yield record


def load_results(path: str | os.PathLike[str]) -> list[CheckResult]:
    """The check results of a past run, ready for `summarize()`."""
    out = []
    for record in read_records(path):
        if record.get("kind") == "check":
            try:
                out.append(CheckResult.from_record(record))
            except TypeError as exc:
                raise ConfigError(f"{path}: malformed check record ({exc})") from None
    return out


@dataclass
class EndpointStats:
    """Counts and latency of one check/endpoint over a run.

    Availability here is *per probe*: the share of results that were not `failed` (a
    degraded result is available but slow). Latency includes every result that received a
    response (failed ones too), from the final attempt's total time.
    """

    name: str
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    ok: int = 0
    degraded: int = 0
    failed: int = 0
    retried: int = 0
    cold_starts: int = 0
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.ok + self.degraded + self.failed

    @property
    def availability(self) -> float:
        return (self.ok + self.degraded) / self.total if self.total else math.nan

    def lower_bound(self, confidence: float = 0.95, method: str = "exact") -> float:
        if not self.total:
            return math.nan
        fn = exact_lower_bound if method == "exact" else wilson_lower_bound
        return fn(self.ok + self.degraded, self.total, confidence)

    @property
    def latency(self) -> LatencySummary:
        return self.histogram.summary()

    def add(self, result: CheckResult) -> None:
        if result.outcome == "ok":
            self.ok += 1
        elif result.outcome == "degraded":
            self.degraded += 1
        else:
            self.failed += 1
        self.retried += result.retried
        self.cold_starts += bool(result.cold_start)
        if result.executed_version is not None:
            self.versions[result.executed_version] = (
                self.versions.get(result.executed_version, 0) + 1
            )
        if result.timing.total_ms is not None and result.status_code is not None:
            self.histogram.record_ms(result.timing.total_ms)


def summarize(results: Iterable[CheckResult]) -> dict[str, EndpointStats]:
    """Per-check statistics, keyed by check name, in first-seen order."""
    stats: dict[str, EndpointStats] = {}
    for result in results:
        stats.setdefault(result.name, EndpointStats(result.name)).add(result)
    return stats
