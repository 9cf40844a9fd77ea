"""CloudWatch statistics computed from raw values (what moto lacks for percentiles)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

__all__ = ["compute_statistic", "low_sample_threshold", "parse_percentile"]

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,2})?|100)$")


def parse_percentile(stat: str) -> float | None:
    """`p99` -> 99.0, `p99.9` -> 99.9; None when `stat` is not a pNN[.NN] percentile."""
    m = _PERCENTILE.match(stat)
    return float(m.group(1)) if m else None


def compute_statistic(stat: str, values: Sequence[float]) -> float | None:
    """Sum / Average / Minimum / Maximum / SampleCount or pNN over raw values.

    Percentiles use the nearest-rank method on the raw samples (CloudWatch does not publish
    its interpolation; nearest rank never reports a value that was not observed)."""
    if not values:
        return None
    if stat == "Sum":
        return float(math.fsum(values))
    if stat == "Average":
        return float(math.fsum(values) / len(values))
    if stat == "Minimum":
        return float(min(values))
    if stat == "Maximum":
        return float(max(values))
    if stat == "SampleCount":
        return float(len(values))
    pct = parse_percentile(stat)
    if pct is None:
        raise ValueError(f"unsupported statistic {stat!r}")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def low_sample_threshold(stat: str) -> float:
    """Samples a percentile needs to be statistically significant (AWS: 10/(1-p) for
    p >= 0.5, 10/p below); 0 for non-percentile statistics."""
    pct = parse_percentile(stat)
    if pct is None:
        return 0.0
    if pct >= 100.0 or pct <= 0.0:
        return 0.0
    # 10/(1-p) written in percent so p90 needs exactly 100, not 100.00000000000001
    return round(1000.0 / (100.0 - pct) if pct >= 50.0 else 1000.0 / pct, 6)
