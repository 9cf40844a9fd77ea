"""PutMetricAlarm validation: reject what AWS rejects, with AWS's error codes.

moto accepts invalid periods, operators and TreatMissingData values; AWS does not. The one
deliberate difference: a sandbox in fast timing accepts any whole-second Period >= 1 so tests
run in seconds, and reports it (`AlarmWarning`, shown in the alarm's history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .model import COMPARISON_OPERATORS, STANDARD_STATISTICS, TREAT_MISSING_DATA
from .statistics import parse_percentile

__all__ = ["AlarmRejected", "AlarmWarning", "aws_period_ok", "validate_put_metric_alarm"]


@dataclass(frozen=True)
class AlarmRejected(Exception):
    """What AWS would answer: an error code and message (HTTP 400)."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class AlarmWarning:
    alarm_name: str
    message: str


def aws_period_ok(period: int) -> bool:
    """AWS allows 10, 20, 30 or a multiple of 60 seconds."""
    return period in (10, 20, 30) or (period >= 60 and period % 60 == 0)


def _enum_error(value: object, field: str, allowed: tuple[str, ...]) -> AlarmRejected:
    return AlarmRejected(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]",
    )


def validate_put_metric_alarm(
    params: Mapping[str, object], *, allow_short_periods: bool
) -> list[AlarmWarning]:
    """Raise AlarmRejected for a request AWS would reject; return sandbox warnings."""
    name = str(params.get("AlarmName") or "")
    warnings: list[AlarmWarning] = []
    if not name:
        raise AlarmRejected("ValidationError", "AlarmName is required")
    op = params.get("ComparisonOperator")
    if op not in COMPARISON_OPERATORS:
        raise _enum_error(op, "comparisonOperator", COMPARISON_OPERATORS)
    tmd = params.get("TreatMissingData")
    if tmd is not None and tmd not in TREAT_MISSING_DATA:
        raise AlarmRejected(
            "ValidationError",
            f"Option {tmd} is not supported. Supported options for parameter TreatMissingData "
            "are missing, ignore, breaching and notBreaching.",
        )
    if params.get("Metrics"):
        return warnings  # metric-math alarms: stored, not evaluated by the sandbox
    stat, ext = params.get("Statistic"), params.get("ExtendedStatistic")
    if (stat is None) == (ext is None):
        raise AlarmRejected(
            "InvalidParameterCombination",
            "Exactly one of Statistic or ExtendedStatistic must be specified.",
        )
    if stat is not None and stat not in STANDARD_STATISTICS:
        raise _enum_error(stat, "statistic", STANDARD_STATISTICS)
    if ext is not None and parse_percentile(str(ext)) is None:
        raise AlarmRejected(
            "InvalidParameterValue",
            f"The value {ext} for parameter ExtendedStatistic is not supported by the sandbox "
            "(percentiles pNN or pNN.NN only).",
        )
    try:
        period = int(str(params.get("Period")))
        n = int(str(params.get("EvaluationPeriods")))
    except ValueError:
        raise AlarmRejected(
            "ValidationError", "Period and EvaluationPeriods are required integers."
        ) from None
    if n < 1:
        raise AlarmRejected("ValidationError", "EvaluationPeriods must be at least 1.")
    m_raw = params.get("DatapointsToAlarm")
    if m_raw is not None and not 1 <= int(str(m_raw)) <= n:
        raise AlarmRejected(
            "ValidationError", "DatapointsToAlarm must be between 1 and EvaluationPeriods."
        )
    if not aws_period_ok(period):
        if not (allow_short_periods and period >= 1):
            raise AlarmRejected("ValidationError", "Period must be 10, 20, 30 or a multiple of 60.")
        warnings.append(
            AlarmWarning(
                name,
                f"Sandbox accepted Period {period} s, which AWS rejects (10, 20, 30 or a "
                "multiple of 60); fast timing only.",
            )
        )
    if period * n > 86400:
        raise AlarmRejected(
            "ValidationError",
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period "
            "must be <= 86400).",
        )
    return warnings
