"""The result model every phase of a game day is converted into.

A `RunResult` holds `PhaseResult`s; each phase carries its `SLOResult`s (one line of the
verdict each), per-endpoint latency (`EndpointStats`), chaos `Timeline`s and `Finding`s
(the one finding type, from `lambda_gameday.findings`).
Reports, history and the pytest plugin read only this model, never a phase's own types.
Everything here is plain data: frozen dataclasses that round-trip through JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from ..findings import Finding

__all__ = [
    "Comparison",
    "EndpointStats",
    "MinuteStat",
    "PhaseResult",
    "PhaseStatus",
    "RunResult",
    "SLOResult",
    "Timeline",
    "TimelineEvent",
    "Verdict",
    "format_count",
    "run_from_dict",
]

PhaseStatus = Literal["passed", "failed", "error", "skipped", "interrupted"]
Verdict = Literal["pass", "fail", "error", "interrupted"]
Comparison = Literal["<", "<=", ">", ">="]


def format_count(n: int) -> str:
    """2000 -> '2,000'."""
    return f"{n:,}"


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.2f} %"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:g}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class SLOResult:
    """One objective checked against one subject, e.g. p95 latency of /health < 100 ms."""

    metric: str  # "latency_p95", "cold_start", "availability", "mttr", "deployment_success", ...
    subject: str  # "/health", an experiment name, "all endpoints"
    measured: float | None  # None: nothing was measured (a failure, never a pass)
    budget: float
    comparison: Comparison
    unit: str  # "ms", "s", "%" (a fraction shown as a percentage), "" (a plain number)
    samples: int
    passed: bool
    label: str = ""  # how the measured value is named: "p95", "MTTR", "availability"
    detail: str = ""  # extra context for the verdict: "worst minute 12:03"
    lower_bound: float | None = None  # one-sided 95 % confidence bound, for availability

    @staticmethod
    def check(
        metric: str,
        subject: str,
        measured: float | None,
        budget: float,
        comparison: Comparison,
        unit: str,
        samples: int,
        *,
        label: str = "",
        detail: str = "",
        lower_bound: float | None = None,
    ) -> SLOResult:
        """Build a result, deciding `passed` from the comparison; zero samples never pass."""
        if measured is None or samples <= 0:
            ok = False
        elif comparison == "<":
            ok = measured < budget
        elif comparison == "<=":
            ok = measured <= budget
        elif comparison == ">":
            ok = measured > budget
        else:
            ok = measured >= budget
        return SLOResult(
            metric,
            subject,
            measured,
            budget,
            comparison,
            unit,
            samples,
            ok,
            label or metric,
            detail,
            lower_bound,
        )

    def sentence(self) -> str:
        """The verdict line: 'p95 of /health was 143 ms, budget 100 ms, 2,000 samples, ...'."""
        if self.measured is None or self.samples <= 0:
            head = f"{self.label} of {self.subject}: nothing measured (0 samples)"
        else:
            head = f"{self.label} of {self.subject} was {_fmt(self.measured, self.unit)}"
        parts = [
            head,
            (
                f"budget {_fmt(self.budget, self.unit)}"
                if self.comparison in ("<", "<=")
                else f"target {_fmt(self.budget, self.unit)}"
            ),
            f"{format_count(self.samples)} samples",
        ]
        if self.lower_bound is not None:
            parts.append(f"95 % lower bound {_fmt(self.lower_bound, self.unit)}")
        if self.detail:
            parts.append(self.detail)
        return ", ".join(parts)


@dataclass(frozen=True)
class MinuteStat:
    """Latency within one wall-clock minute, to name the worst minute of a run."""

    minute: float  # epoch seconds at the start of the minute
    count: int
    p95_ms: float
    errors: int = 0


@dataclass(frozen=True)
class EndpointStats:
    """Latency and availability of one endpoint as seen by the probes of one phase."""

    path: str
    samples: int
    failures: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    cold_starts: int | None = 0  # None: the probes could not tell cold from warm
    cold_p50_ms: float | None = None
    warm_p50_ms: float | None = None
    init_duration_ms: float | None = None  # from REPORT lines, where the phase read them
    availability: float | None = None
    availability_lower: float | None = None
    probes_needed: int | None = None  # more probes needed to assert the availability target
    histogram: tuple[tuple[float, int], ...] = ()  # (upper bound ms, count) buckets
    minutes: tuple[MinuteStat, ...] = ()
    versions: tuple[tuple[str, int], ...] = ()  # executed version -> requests

    @property
    def cold_starts_text(self) -> str:
        """The count for tables: '?' where the probes could not tell (plain HTTP probes)."""
        return "?" if self.cold_starts is None else str(self.cold_starts)

    def worst_minute(self) -> MinuteStat | None:
        return max(self.minutes, key=lambda m: m.p95_ms, default=None)


@dataclass(frozen=True)
class TimelineEvent:
    label: str  # "fault injected", "alarm ALARM", ...
    at: float | None  # epoch seconds; None: never happened
    source: str = ""  # where the time came from: "target", "probe", "harness"


@dataclass(frozen=True)
class Timeline:
    """The MTTR timeline of one chaos experiment."""

    experiment: str
    events: tuple[TimelineEvent, ...]
    budget_s: float
    mttr_s: float | None = None
    time_to_detect_s: float | None = None
    time_to_rollback_s: float | None = None
    time_to_recover_s: float | None = None
    failed_requests: int = 0
    total_requests: int = 0
    passed: bool = False
    broken_phase: str | None = None  # which step never happened, when the experiment failed
    probes: tuple[tuple[float, bool, float], ...] = ()  # (at, ok, latency ms) from the traffic

    @property
    def blast_radius(self) -> float | None:
        return self.failed_requests / self.total_requests if self.total_requests else None


@dataclass(frozen=True)
class PhaseResult:
    name: str  # the plan's name for the phase
    kind: str  # conformance | lint | synthetics | coldstart | load | chaos
    status: PhaseStatus
    started_at: float
    finished_at: float
    message: str = ""  # why it failed or errored, in one line
    slos: tuple[SLOResult, ...] = ()
    endpoints: tuple[EndpointStats, ...] = ()
    timelines: tuple[Timeline, ...] = ()
    findings: tuple[Finding, ...] = ()
    artifacts: tuple[str, ...] = ()  # files the phase wrote (journals, results), report-relative

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.started_at

    def failures(self) -> list[str]:
        """What failed and why, one sentence each."""
        lines = [s.sentence() for s in self.slos if not s.passed]
        lines += [f"{f.resource}: {f.text}" for f in self.findings if f.severity == "error"]
        lines += [
            f"experiment {t.experiment}: {t.broken_phase or 'did not recover in budget'}"
            for t in self.timelines
            if not t.passed
        ]
        if self.status in ("error", "interrupted", "failed") and self.message:
            lines.insert(0, self.message)
        return lines


@dataclass(frozen=True)
class RunResult:
    run_id: str
    plan: str
    target: str
    target_kind: str
    environment: str
    started_at: float
    finished_at: float
    phases: tuple[PhaseResult, ...]
    interrupted: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> Verdict:
        if self.interrupted:
            return "interrupted"
        if any(p.status == "error" for p in self.phases):
            return "error"
        if any(p.status == "failed" for p in self.phases):
            return "fail"
        return "pass"

    @property
    def duration_s(self) -> float:
        return self.finished_at - self.started_at

    def slos(self) -> list[SLOResult]:
        return [s for p in self.phases for s in p.slos]

    def timelines(self) -> list[Timeline]:
        return [t for p in self.phases for t in p.timelines]

    def failures(self) -> list[str]:
        return [f"{p.name}: {line}" for p in self.phases for line in p.failures()]

    def headline(self) -> str:
        failed = [p.name for p in self.phases if p.status in ("failed", "error")]
        word = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "interrupted": "INTERRUPTED"}
        tail = f" ({', '.join(failed)})" if failed else ""
        return f"{word[self.verdict]}: {self.plan} on {self.target}{tail}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data

    @staticmethod
    def new_id(at: float | None = None) -> str:
        t = time.gmtime(at if at is not None else time.time())
        return time.strftime("%Y%m%dT%H%M%SZ", t) + f"-{time.time_ns() % 10_000:04d}"


# --- from JSON -----------------------------------------------------------------------------


def _tuple_pairs(raw: object) -> tuple[Any, ...]:
    return tuple(tuple(x) for x in cast(Sequence[Sequence[Any]], raw or ()))


def _slo(d: Mapping[str, Any]) -> SLOResult:
    return SLOResult(**d)


def _endpoint(d: Mapping[str, Any]) -> EndpointStats:
    data = dict(d)
    data["histogram"] = _tuple_pairs(data.get("histogram"))
    data["versions"] = _tuple_pairs(data.get("versions"))
    data["minutes"] = tuple(MinuteStat(**m) for m in data.get("minutes") or ())
    return EndpointStats(**data)


def _timeline(d: Mapping[str, Any]) -> Timeline:
    data = dict(d)
    data["events"] = tuple(TimelineEvent(**e) for e in data.get("events") or ())
    data["probes"] = _tuple_pairs(data.get("probes"))
    return Timeline(**data)


def _phase(d: Mapping[str, Any]) -> PhaseResult:
    data = dict(d)
    data["slos"] = tuple(_slo(s) for s in data.get("slos") or ())
    data["endpoints"] = tuple(_endpoint(e) for e in data.get("endpoints") or ())
    data["timelines"] = tuple(_timeline(t) for t in data.get("timelines") or ())
    data["findings"] = tuple(Finding(**f) for f in data.get("findings") or ())
    data["artifacts"] = tuple(data.get("artifacts") or ())
    return PhaseResult(**data)


def run_from_dict(d: Mapping[str, Any]) -> RunResult:
    """Rebuild a RunResult from `RunResult.to_dict()` output (e.g. a report's JSON)."""
    data = {k: v for k, v in d.items() if k not in ("verdict", "schema", "failures")}
    data["phases"] = tuple(_phase(p) for p in data.get("phases") or ())
    data["notes"] = tuple(data.get("notes") or ())
    return RunResult(**data)
