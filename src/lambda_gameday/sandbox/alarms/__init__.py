"""CloudWatch metric alarms that really evaluate, for the sandbox.

* `evaluate` — pure evaluation (definition + datapoints + previous state -> verdict).
* `statistics` — Sum / Average / Minimum / Maximum / SampleCount / pNN from raw values.
* `validate` — what PutMetricAlarm rejects on AWS.
* `messages` — the SNS alarm message and history items.
* `engine.AlarmEngine` — the loop over moto's alarms and datapoints, and the CloudWatch
  API additions (DescribeAlarmHistory, SetAlarmState with actions, put-time fixes).
"""

from .engine import AlarmEngine, AlarmSettings, cadence_of
from .evaluate import breaches, evaluate
from .messages import HistoryItem, alarm_message, alarm_subject, region_long_name
from .model import AlarmSpec, Datapoint, Evaluation, StateValue
from .statistics import compute_statistic, low_sample_threshold, parse_percentile
from .validate import AlarmRejected, AlarmWarning, aws_period_ok, validate_put_metric_alarm

__all__ = [
    "AlarmEngine",
    "AlarmRejected",
    "AlarmSettings",
    "AlarmSpec",
    "AlarmWarning",
    "Datapoint",
    "Evaluation",
    "HistoryItem",
    "StateValue",
    "alarm_message",
    "alarm_subject",
    "aws_period_ok",
    "breaches",
    "cadence_of",
    "compute_statistic",
    "evaluate",
    "low_sample_threshold",
    "parse_percentile",
    "region_long_name",
    "validate_put_metric_alarm",
]
