"""What AWS sends and records when an alarm changes state: the SNS notification JSON and
the DescribeAlarmHistory items. Pure functions over plain values."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from .evaluate import iso_time
from .model import AlarmSpec, StateValue

__all__ = ["HistoryItem", "alarm_message", "alarm_subject", "region_long_name"]


@functools.cache
def region_long_name(region: str) -> str:
    """`ap-south-1` -> `Asia Pacific (Mumbai)`, from botocore's endpoint data."""
    try:
        import botocore.loaders

        data = botocore.loaders.Loader().load_data("endpoints")
        for partition in data["partitions"]:
            if region in partition["regions"]:
                return str(partition["regions"][region]["description"])
    except Exception:  # botocore missing data: fall back to the code
        pass
    return region


def alarm_subject(state: StateValue, alarm_name: str, region: str) -> str:
    """`ALARM: "name" in Asia Pacific (Mumbai)` (SNS subjects are capped at 100 chars)."""
    return f'{state}: "{alarm_name}" in {region_long_name(region)}'[:100]


def alarm_message(
    spec: AlarmSpec,
    *,
    description: str | None,
    account_id: str,
    region: str,
    alarm_arn: str,
    old_state: StateValue,
    new_state: StateValue,
    reason: str,
    at: float,
    actions: tuple[list[str], list[str], list[str]] = ([], [], []),
) -> str:
    """The JSON CloudWatch publishes to an alarm's SNS actions."""
    trigger: dict[str, object] = {
        "MetricName": spec.metric_name,
        "Namespace": spec.namespace,
        "StatisticType": "ExtendedStatistic" if spec.extended_statistic else "Statistic",
        "Statistic": (spec.extended_statistic or (spec.statistic or "")).upper(),
        "Unit": spec.unit,
        "Dimensions": [{"value": v, "name": k} for k, v in spec.dimensions],
        "Period": spec.period,
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.m,
        "ComparisonOperator": spec.comparison_operator,
        "Threshold": float(spec.threshold),
        "TreatMissingData": spec.treat_missing_data,
        "EvaluateLowSampleCountPercentile": (
            spec.evaluate_low_sample_count_percentile if spec.extended_statistic else ""
        ),
    }
    if spec.extended_statistic:
        trigger["ExtendedStatistic"] = spec.extended_statistic
    message = {
        "AlarmName": spec.name,
        "AlarmDescription": description,
        "AWSAccountId": account_id,
        "NewStateValue": new_state,
        "NewStateReason": reason,
        "StateChangeTime": iso_time(at),
        "Region": region_long_name(region),
        "AlarmArn": alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(actions[1]),
        "AlarmActions": list(actions[0]),
        "InsufficientDataActions": list(actions[2]),
        "Trigger": trigger,
    }
    return json.dumps(message)


@dataclass(frozen=True)
class HistoryItem:
    """One DescribeAlarmHistory entry."""

    alarm_name: str
    timestamp: float
    item_type: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: str
    alarm_type: str = "MetricAlarm"

    def to_api(self) -> dict[str, object]:
        return {
            "AlarmName": self.alarm_name,
            "AlarmType": self.alarm_type,
            "Timestamp": self.timestamp,
            "HistoryItemType": self.item_type,
            "HistorySummary": self.summary,
            "HistoryData": self.data,
        }
