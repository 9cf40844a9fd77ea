"""The threshold language: k6-style pass/fail criteria evaluated on raw merged histograms.

    p95<100                      95th percentile latency under 100 ms (all requests)
    p(99.9)<2000                 k6 spelling of the same kind of statistic
    p95{endpoint=/health}<100    only requests named /health
    p95{version=2}<150           only requests the executed version 2 served
    error_rate<0.005             failed requests / all requests
    rps>200                      requests per second over the measured run
    max<=1500  min  mean  med    other latency statistics (ms)
    corrected_p99<2500           latency from the *intended* send time (paced runs only)
    lag_p99<50                   how far a paced run fell behind its own schedule (ms)
    count>=100  failures<=3      plain counts

Tags are `endpoint`, `version` and `method`, comma-separated inside `{}`. A threshold is
an *error* - never a pass - when its tags match nothing or its selection has no samples.
This module is pure: parsing and evaluation do no I/O.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ..exceptions import ConfigError
from ..stats import LatencyHistogram
from ..validate.limits import MAX_NAME_CHARS
from ..validate.text import shown

__all__ = [
    "TAG_KEYS",
    "Comparison",
    "Outcome",
    "Threshold",
    "ThresholdResult",
    "evaluate",
    "evaluate_all",
    "parse_threshold",
    "parse_thresholds",
    "slo_thresholds",
]

Comparison = Literal["<", "<=", ">", ">="]
Outcome = Literal["pass", "fail", "error"]
MetricKind = Literal["latency", "corrected", "lag", "error_rate", "rps", "count", "failures"]
LatencyStat = Literal["percentile", "max", "min", "mean"]
TagKey = Literal["endpoint", "version", "method"]

TAG_KEYS: tuple[TagKey, ...] = ("endpoint", "version", "method")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ALLOWED = (
    "allowed: p<N>, p(<N>), med, min, max, mean/avg (latency ms; prefix corrected_ or lag_ "
    "for paced runs), error_rate, rps, count, failures; optional tags {endpoint=..,version=..,"
    "method=..}; operators < <= > >=; a number, e.g. 'p95{endpoint=/health}<100'"
)
_EXPR = re.compile(
    r"^\s*(?P<metric>[a-z_]+(?:\d+(?:\.\d+)?)?|(?:[a-z_]+_)?p\(\s*\d+(?:\.\d+)?\s*\))"
    r"\s*(?:\{(?P<tags>[^{}]*)\})?"
    r"\s*(?P<op><=|>=|<|>)"
    r"\s*(?P<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_LATENCY = re.compile(
    r"^(?:(?P<scope>corrected|lag)_)?"
    r"(?:p\(?\s*(?P<p>\d+(?:\.\d+)?)\s*\)?|(?P<stat>med|min|max|mean|avg))$"
)


@dataclass(frozen=True)
class Threshold:
    """One parsed criterion. `percentile` is set only when `stat == "percentile"`."""

    expression: str
    kind: MetricKind
    op: Comparison
    limit: float
    stat: LatencyStat | None = None
    percentile: float | None = None
    tags: tuple[tuple[TagKey, str], ...] = ()

    @property
    def is_latency(self) -> bool:
        return self.kind in ("latency", "corrected", "lag")

    def holds(self, observed: float) -> bool:
        return _OPS[self.op](observed, self.limit)


@dataclass(frozen=True)
class ThresholdResult:
    """The verdict on one threshold; `observed` is None when the outcome is an error."""

    threshold: Threshold
    outcome: Outcome
    observed: float | None
    samples: int
    detail: str


class Sample(Protocol):
    """What evaluation needs from one series of a results file (see results.Series)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def latency(self) -> LatencyHistogram: ...
    @property
    def corrected(self) -> LatencyHistogram | None: ...
    @property
    def lag(self) -> LatencyHistogram | None: ...


def _bad(expression: str, why: str) -> ConfigError:
    return ConfigError(f"bad threshold {shown(expression)}: {why}; {_ALLOWED}")


def _parse_tags(expression: str, text: str | None) -> tuple[tuple[TagKey, str], ...]:
    if text is None:
        return ()
    tags: list[tuple[TagKey, str]] = []
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise _bad(expression, f"tag {part.strip()!r} is not key=value")
        if key not in TAG_KEYS:
            raise _bad(expression, f"unknown tag {key!r} (tags: {', '.join(TAG_KEYS)})")
        if any(k == key for k, _ in tags):
            raise _bad(expression, f"tag {key!r} given twice")
        tags.append((key, value))  # checked against TAG_KEYS above
    return tuple(tags)


def parse_threshold(expression: str) -> Threshold:
    """Parse one expression such as `p95{endpoint=/health}<100`. Raises ConfigError."""
    if not isinstance(expression, str):
        raise _bad(str(expression), "not a string")
    if len(expression) > MAX_NAME_CHARS:
        raise _bad(expression, f"longer than {MAX_NAME_CHARS} characters")
    m = _EXPR.match(expression)
    if m is None:
        raise _bad(expression, "not of the form metric[{tags}] op number")
    metric, op = m["metric"], m["op"]
    limit = float(m["value"])
    if not math.isfinite(limit):
        raise _bad(expression, "the limit is not a finite number")
    tags = _parse_tags(expression, m["tags"])
    common = {"expression": expression.strip(), "op": op, "limit": limit, "tags": tags}
    if metric in ("error_rate", "rps", "count", "failures"):
        if metric == "error_rate" and not 0.0 <= limit <= 1.0:
            raise _bad(expression, "error_rate is a fraction between 0 and 1")
        return Threshold(kind=metric, **common)  # type: ignore[arg-type]
    lm = _LATENCY.match(metric.replace(" ", ""))
    if lm is None:
        raise _bad(expression, f"unknown metric {metric!r}")
    kind: MetricKind = "latency" if lm["scope"] is None else lm["scope"]  # type: ignore[assignment]
    if limit < 0:
        raise _bad(expression, "a latency limit is a non-negative number of milliseconds")
    if lm["p"] is not None:
        p = float(lm["p"])
        if not 0.0 < p <= 100.0:
            raise _bad(expression, f"percentile {lm['p']} is not within (0, 100]")
        return Threshold(kind=kind, stat="percentile", percentile=p, **common)  # type: ignore[arg-type]
    stat = {"med": "percentile", "avg": "mean"}.get(lm["stat"], lm["stat"])
    pct = 50.0 if lm["stat"] == "med" else None
    return Threshold(kind=kind, stat=stat, percentile=pct, **common)  # type: ignore[arg-type]


def parse_thresholds(expressions: Iterable[str]) -> tuple[Threshold, ...]:
    """Parse several expressions, failing on the first bad one."""
    return tuple(parse_threshold(e) for e in expressions)


def slo_thresholds(health_latency_ms: float, availability: float) -> tuple[Threshold, ...]:
    """The default gate from a target's SLOs: p95 under the health budget, errors under
    the availability budget (1 - availability)."""
    budget = round(1.0 - availability, 12)
    return parse_thresholds([f"p95<{health_latency_ms:g}", f"error_rate<{budget:g}"])


def _select(threshold: Threshold, series: Sequence[Sample]) -> tuple[list[Sample], str | None]:
    """The series the tags pick, or an explanation of which tag matched nothing."""
    chosen = list(series)
    for key, value in threshold.tags:
        matching = [s for s in chosen if getattr(s, key) == value]
        if not matching:
            seen = sorted({getattr(s, key) for s in series})
            return [], (
                f"tag {key}={value} matches nothing "
                f"(seen {key}s: {', '.join(seen) if seen else 'none'})"
            )
        chosen = matching
    return chosen, None


def _latency_value(threshold: Threshold, hist: LatencyHistogram) -> float:
    if threshold.stat == "percentile":
        assert threshold.percentile is not None
        return hist.percentile_ms(threshold.percentile)
    if threshold.stat == "max":
        return hist.max_ms
    if threshold.stat == "min":
        return hist.min_ms
    return hist.mean_ms


def evaluate(threshold: Threshold, series: Sequence[Sample], duration_s: float) -> ThresholdResult:
    """Judge one threshold on the series of a run lasting `duration_s` seconds."""
    chosen, problem = _select(threshold, series)
    if problem is not None:
        return ThresholdResult(threshold, "error", None, 0, problem)
    count = sum(s.count for s in chosen)
    observed: float
    samples = count
    if threshold.is_latency:
        hist = LatencyHistogram()
        for s in chosen:
            part = {"latency": s.latency, "corrected": s.corrected, "lag": s.lag}[threshold.kind]
            if part is not None:
                hist.merge(part)
        samples = hist.count
        if samples == 0:
            paced = threshold.kind != "latency"
            why = "no paced samples (use a paced run, --pace-ms)" if paced else "no samples"
            return ThresholdResult(threshold, "error", None, 0, why)
        observed = _latency_value(threshold, hist)
    elif count == 0:
        return ThresholdResult(threshold, "error", None, 0, "no samples")
    elif threshold.kind == "error_rate":
        observed = sum(s.failures for s in chosen) / count
    elif threshold.kind == "rps":
        if not duration_s > 0 or math.isinf(duration_s):
            return ThresholdResult(threshold, "error", None, count, "the run has no duration")
        observed = count / duration_s
    elif threshold.kind == "count":
        observed = float(count)
    else:
        observed = float(sum(s.failures for s in chosen))
    ok = threshold.holds(observed)
    detail = f"{_fmt(observed)} {'within' if ok else 'breaches'} {threshold.op}{threshold.limit:g}"
    return ThresholdResult(threshold, "pass" if ok else "fail", observed, samples, detail)


def evaluate_all(
    thresholds: Iterable[Threshold], series: Sequence[Sample], duration_s: float
) -> list[ThresholdResult]:
    return [evaluate(t, series, duration_s) for t in thresholds]


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1 else f"{value:,.1f}"
