"""What an alarm is, as the evaluator sees it: plain frozen values, no moto objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "COMPARISON_OPERATORS",
    "STANDARD_STATISTICS",
    "TREAT_MISSING_DATA",
    "AlarmSpec",
    "Datapoint",
    "Evaluation",
    "StateValue",
]

StateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
TreatMissing = Literal["missing", "ignore", "breaching", "notBreaching"]

COMPARISON_OPERATORS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
STANDARD_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
TREAT_MISSING_DATA: tuple[TreatMissing, ...] = ("missing", "ignore", "breaching", "notBreaching")


@dataclass(frozen=True)
class AlarmSpec:
    """A metric alarm's definition (the fields evaluation depends on)."""

    name: str
    namespace: str
    metric_name: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison_operator: str
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    datapoints_to_alarm: int | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    treat_missing_data: TreatMissing = "missing"
    evaluate_low_sample_count_percentile: Literal["evaluate", "ignore"] = "evaluate"
    unit: str | None = None

    @property
    def m(self) -> int:
        """Datapoints to alarm (M); defaults to N."""
        return self.datapoints_to_alarm or self.evaluation_periods

    @property
    def n(self) -> int:
        return self.evaluation_periods

    @property
    def stat_name(self) -> str:
        return self.extended_statistic or self.statistic or "Sum"


@dataclass(frozen=True)
class Datapoint:
    """One period's statistic. `start` is the bucket's start, epoch seconds (UTC)."""

    start: float
    value: float
    sample_count: float = 1.0


@dataclass(frozen=True)
class Evaluation:
    """The evaluator's verdict. `retain` means the alarm keeps its current state and reason."""

    state: StateValue
    reason: str
    reason_data: str
    retain: bool = False
    evaluated: tuple[Datapoint, ...] = field(default=())
