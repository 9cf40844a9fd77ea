"""Statistics the gates rely on: latency histograms and confidence bounds on availability.

Latencies are kept in an HdrHistogram (microseconds, 1 us .. 1 hour, 3 significant
digits), never averaged into percentiles. Percentiles use the nearest-rank definition:
the p-th percentile of n samples is the sample of rank ceil(p/100 * n) (at least 1) in
sorted order, reported as the upper edge of its HdrHistogram bucket - so a reported
value is never below the true sample and at most 0.1 % above it. p100 is the maximum.

Availability bounds are one-sided lower bounds on a binomial proportion: Wilson's score
interval and the exact Clopper-Pearson bound (via the regularised incomplete beta
function, computed here so scipy is not needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from hdrh.histogram import HdrHistogram

__all__ = [
    "LatencyHistogram",
    "LatencySummary",
    "exact_lower_bound",
    "probes_needed",
    "wilson_lower_bound",
]

_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000  # one hour
_SIGNIFICANT_DIGITS = 3


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles of one histogram, in milliseconds. Empty histogram: count 0, the rest NaN."""

    count: int
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    min: float
    mean: float


class LatencyHistogram:
    """Latencies in an HdrHistogram; record and read in milliseconds, stored in microseconds.

    Values below 1 us are recorded as 1 us and values above one hour as one hour (the
    `clamped` counter says how many); negative values raise ValueError.
    """

    def __init__(self, _hist: HdrHistogram | None = None) -> None:
        self._h: HdrHistogram = _hist or HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_DIGITS)
        self.clamped = 0

    def _to_us(self, ms: float) -> int:
        if math.isnan(ms) or ms < 0:
            raise ValueError(f"latency must be a non-negative number of ms, got {ms!r}")
        us = round(ms * 1000.0)
        if us < _LOWEST_US or us > _HIGHEST_US:
            self.clamped += 1
            us = min(max(us, _LOWEST_US), _HIGHEST_US)
        return us

    def record_ms(self, ms: float) -> None:
        """Record one latency in milliseconds."""
        self._h.record_value(self._to_us(ms))

    def record_corrected_ms(self, ms: float, expected_interval_ms: float) -> None:
        """Record one latency with coordinated-omission correction.

        When a response took longer than the interval at which requests were meant to be
        sent, the requests that a closed-loop client failed to send meanwhile are recorded
        too (ms - k*interval for k = 1, 2, ... while positive), as HdrHistogram does.
        """
        us = self._to_us(ms)
        interval = round(expected_interval_ms * 1000.0) if expected_interval_ms > 0 else 0
        self._h.record_corrected_value(us, interval)

    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    def _check_nonempty(self, what: str) -> None:
        if self.count == 0:
            raise ValueError(f"{what} of an empty latency histogram (no samples were recorded)")

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile, p in 0..100 (0 gives the minimum). Raises on no samples."""
        if not 0.0 <= p <= 100.0:
            raise ValueError(f"percentile must be within 0..100, got {p!r}")
        self._check_nonempty(f"p{p:g}")
        if p == 0.0:
            return self.min_ms
        # round() first so that e.g. 0.95 * 100 = 95.00000000000001 does not become rank 96
        rank = max(1, math.ceil(round(p * self.count / 100.0, 9)))
        seen = 0
        for item in self._h.get_recorded_iterator():
            seen += item.count_at_value_iterated_to
            if seen >= rank:
                value = self._h.get_highest_equivalent_value(item.value_iterated_to)
                return float(value) / 1000.0
        return self.max_ms  # pragma: no cover - rank <= count always reaches a bucket

    @property
    def min_ms(self) -> float:
        """Smallest sample (lower edge of its bucket); NaN when empty."""
        if self.count == 0:
            return math.nan
        return float(self._h.get_min_value()) / 1000.0

    @property
    def max_ms(self) -> float:
        """Largest sample (upper edge of its bucket); NaN when empty."""
        if self.count == 0:
            return math.nan
        return float(self._h.get_max_value()) / 1000.0

    @property
    def mean_ms(self) -> float:
        """Mean of the bucket midpoints; NaN when empty."""
        if self.count == 0:
            return math.nan
        return float(self._h.get_mean_value()) / 1000.0

    def merge(self, other: LatencyHistogram) -> None:
        """Add every sample of `other` to this histogram."""
        if other.count:
            self._h.add(other._h)
        self.clamped += other.clamped

    def encode(self) -> str:
        """The histogram as HdrHistogram's compressed base64 'HISTF...' text (portable)."""
        return bytes(self._h.encode()).decode("ascii")

    @classmethod
    def decode(cls, data: str) -> LatencyHistogram:
        """Rebuild a histogram from `encode()` output (or any HdrHistogram V2 histoblob)."""
        try:
            hist = HdrHistogram.decode(data.encode("ascii"))
        except Exception as exc:  # the codec raises zlib, base64 and its own errors
            raise ValueError(f"not an encoded HdrHistogram: {exc}") from None
        # Re-add into a histogram with our own layout so merges stay cheap and exact.
        out = cls()
        if hist.get_total_count():
            out._h.add(hist)
        return out

    def summary(self) -> LatencySummary:
        """p50/p90/p95/p99/max/min/mean in ms; NaN fields when empty."""
        if self.count == 0:
            nan = math.nan
            return LatencySummary(0, nan, nan, nan, nan, nan, nan, nan)
        return LatencySummary(
            count=self.count,
            p50=self.percentile_ms(50),
            p90=self.percentile_ms(90),
            p95=self.percentile_ms(95),
            p99=self.percentile_ms(99),
            max=self.max_ms,
            min=self.min_ms,
            mean=self.mean_ms,
        )

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self.count})"


# --- binomial confidence bounds ------------------------------------------------------------


def _check_counts(successes: int, n: int, confidence: float) -> None:
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def wilson_lower_bound(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Wilson score lower bound on the success proportion.

    With z = the `confidence` quantile of the standard normal (1.645 for 0.95):
    (p + z²/2n - z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    """
    _check_counts(successes, n, confidence)
    z = NormalDist().inv_cdf(confidence)
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) for a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def exact_lower_bound(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson (exact binomial) lower bound on the success proportion.

    The bound L solves P(X >= successes | n, L) = 1 - confidence, i.e. it is the
    (1 - confidence) quantile of Beta(successes, n - successes + 1); 0 when successes = 0.
    Found by bisection to ~1e-12.
    """
    _check_counts(successes, n, confidence)
    if successes == 0:
        return 0.0
    alpha = 1.0 - confidence
    if successes == n:
        return float(alpha ** (1.0 / n))  # closed form; also the most common case
    a, b = float(successes), float(n - successes + 1)
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        # P(X >= successes | n, mid) = I_mid(successes, n - successes + 1), increasing in mid
        if _betainc(a, b, mid) < alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return lo


def probes_needed(
    target: float,
    failures: int,
    confidence: float = 0.95,
    method: Literal["exact", "wilson"] = "exact",
) -> int:
    """Smallest number of probes n such that, with `failures` of them failed, the one-sided
    lower bound on availability strictly exceeds `target` (e.g. 0 failures, 99.5 %: 598 exact,
    539 Wilson)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be strictly between 0 and 1, got {target!r}")
    if failures < 0:
        raise ValueError(f"failures must be >= 0, got {failures}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    bound = exact_lower_bound if method == "exact" else wilson_lower_bound

    def passes(n: int) -> bool:
        return bound(n - failures, n, confidence) > target

    lo = failures + 1  # with n = failures every probe failed: the bound is 0
    if passes(lo):
        return lo
    hi = lo * 2
    while not passes(hi):
        lo, hi = hi, hi * 2
        if hi > 10**12:
            raise ValueError("target not reachable with a realistic number of probes")
    # invariant: passes(hi) and not passes(lo); the bound grows with n at fixed failures
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi
