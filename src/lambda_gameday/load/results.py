"""The results file a load run writes, read into typed objects.

The Locust process (loadtests/capture.py) records every request into HdrHistograms keyed
by (endpoint, method, executed version) and writes one JSON document:

    {"schema": 1, "status": "running" | "complete", "mode": "local" | "master",
     "host": ..., "started_at": epoch s, "ended_at": epoch s, "duration_s": ...,
     "series": [{"endpoint", "method", "version", "count", "failures", "statuses": {code: n},
                 "latency": hdr, "corrected": hdr | null, "lag": hdr | null}],
     "workers": {client_id: {"recorded": n, "received": n}},
     "paced_interval_ms": float | null,
     "aborted": {"reason": str, "at_s": float} | null,
     "locust": {"count", "failures", "p50", "p95", "p99", "max"} | null,
     "warmup": {"seconds": s, "count": n} | null}

Requests sent during the warm-up (the first `seconds` of the run) are only counted:
they are in no series, and the run's measured window (`started_at` .. `ended_at`,
`duration_s`) starts after the warm-up.

`hdr` is HdrHistogram's portable base64 encoding in microseconds; `locust` holds
Locust's own bucketed figures, kept only to show how far they are from the raw ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast

from ..exceptions import GamedayError
from ..stats import LatencyHistogram

__all__ = [
    "SCHEMA",
    "Abort",
    "LoadResults",
    "LocustFigures",
    "ResultsDoc",
    "Series",
    "SeriesDoc",
    "WorkerCount",
    "read_results",
]

SCHEMA = 1
UNKNOWN_VERSION = "unknown"  # no response, or a response without the version header


class SeriesDoc(TypedDict):
    endpoint: str
    method: str
    version: str
    count: int
    failures: int
    statuses: dict[str, int]
    latency: str
    corrected: str | None
    lag: str | None


class WorkerDoc(TypedDict):
    recorded: int
    received: int


class AbortDoc(TypedDict):
    reason: str
    at_s: float


class LocustDoc(TypedDict):
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    max: float


class WarmupDoc(TypedDict):
    seconds: float
    count: int


class ResultsDoc(TypedDict):
    schema: int
    status: Literal["running", "complete"]
    mode: Literal["local", "master"]
    host: str
    started_at: float
    ended_at: float
    duration_s: float
    series: list[SeriesDoc]
    workers: dict[str, WorkerDoc]
    paced_interval_ms: float | None
    aborted: AbortDoc | None
    locust: LocustDoc | None
    warmup: NotRequired[WarmupDoc | None]


@dataclass(frozen=True)
class Series:
    """All requests of one endpoint and method served by one executed version."""

    endpoint: str
    method: str
    version: str
    count: int
    failures: int
    statuses: Mapping[str, int]
    latency: LatencyHistogram
    corrected: LatencyHistogram | None = None
    lag: LatencyHistogram | None = None


@dataclass(frozen=True)
class WorkerCount:
    """Requests a worker says it recorded, and how many of them the master received."""

    recorded: int
    received: int


@dataclass(frozen=True)
class Abort:
    reason: str
    at_s: float


@dataclass(frozen=True)
class LocustFigures:
    """Locust's own (bucketed, int(n*p)+1 ranked) totals, for comparison only."""

    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True)
class LoadResults:
    """A results file: the merged raw histograms of one load run."""

    path: str
    status: Literal["running", "complete"]
    mode: Literal["local", "master"]
    host: str
    started_at: float
    ended_at: float
    duration_s: float
    series: tuple[Series, ...]
    workers: Mapping[str, WorkerCount] = field(default_factory=dict)
    paced_interval_ms: float | None = None
    aborted: Abort | None = None
    locust: LocustFigures | None = None
    warmup_s: float = 0.0
    warmup_count: int = 0  # requests sent during the warm-up: counted, not gated

    @property
    def count(self) -> int:
        return sum(s.count for s in self.series)

    @property
    def failures(self) -> int:
        return sum(s.failures for s in self.series)

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(sorted({s.endpoint for s in self.series}))

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(sorted({s.version for s in self.series}))

    def latency(
        self, *, endpoint: str | None = None, version: str | None = None
    ) -> LatencyHistogram:
        """The merged latency histogram of the series matching the given tags."""
        out = LatencyHistogram()
        for s in self.series:
            if endpoint not in (None, s.endpoint) or version not in (None, s.version):
                continue
            out.merge(s.latency)
        return out

    def merged(self, part: Literal["corrected", "lag"]) -> LatencyHistogram:
        """All paced samples' corrected latency or schedule lag, merged."""
        out = LatencyHistogram()
        for s in self.series:
            h = s.corrected if part == "corrected" else s.lag
            if h is not None:
                out.merge(h)
        return out


def _hist(value: object, where: str) -> LatencyHistogram:
    if not isinstance(value, str):
        raise ValueError(f"{where} is not an encoded histogram")
    return LatencyHistogram.decode(value)


def _series(doc: SeriesDoc, i: int) -> Series:
    where = f"series[{i}]"
    return Series(
        endpoint=str(doc["endpoint"]),
        method=str(doc["method"]),
        version=str(doc["version"]),
        count=int(doc["count"]),
        failures=int(doc["failures"]),
        statuses={str(k): int(v) for k, v in doc["statuses"].items()},
        latency=_hist(doc["latency"], f"{where}.latency"),
        corrected=_hist(doc["corrected"], f"{where}.corrected") if doc.get("corrected") else None,
        lag=_hist(doc["lag"], f"{where}.lag") if doc.get("lag") else None,
    )


def parse_results(doc: ResultsDoc, path: str) -> LoadResults:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"schema {doc.get('schema')!r} is not {SCHEMA}")
    aborted = doc.get("aborted")
    locust = doc.get("locust")
    warmup = doc.get("warmup")
    return LoadResults(
        path=path,
        status=doc["status"],
        mode=doc["mode"],
        host=str(doc["host"]),
        started_at=float(doc["started_at"]),
        ended_at=float(doc["ended_at"]),
        duration_s=float(doc["duration_s"]),
        series=tuple(_series(s, i) for i, s in enumerate(doc["series"])),
        workers={
            k: WorkerCount(int(v["recorded"]), int(v["received"]))
            for k, v in doc.get("workers", {}).items()
        },
        paced_interval_ms=doc.get("paced_interval_ms"),
        aborted=Abort(str(aborted["reason"]), float(aborted["at_s"])) if aborted else None,
        locust=LocustFigures(**locust) if locust else None,
        warmup_s=float(warmup["seconds"]) if warmup else 0.0,
        warmup_count=int(warmup["count"]) if warmup else 0,
    )


def read_results(path: str | os.PathLike[str]) -> LoadResults:
    """Read a results file. A missing or corrupt file is a run error (exit 4)."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GamedayError(f"{p}: no load results were written") from None
    except (OSError, ValueError) as exc:
        raise GamedayError(f"{p}: unreadable load results ({exc})") from None
    try:
        return parse_results(cast(ResultsDoc, raw), str(p))
    except (KeyError, TypeError, ValueError) as exc:
        raise GamedayError(f"{p}: malformed load results ({exc!s})") from None


def series_docs(series: Sequence[Series]) -> list[SeriesDoc]:
    """Encode series back into the file format (used by tests and tools)."""
    return [
        SeriesDoc(
            endpoint=s.endpoint,
            method=s.method,
            version=s.version,
            count=s.count,
            failures=s.failures,
            statuses=dict(s.statuses),
            latency=s.latency.encode(),
            corrected=s.corrected.encode() if s.corrected else None,
            lag=s.lag.encode() if s.lag else None,
        )
        for s in series
    ]
