"""Statistics from raw values, and the validation PutMetricAlarm applies on AWS."""

from __future__ import annotations

import json

import pytest

from lambda_gameday.sandbox.alarms import (
    AlarmRejected,
    AlarmSpec,
    alarm_message,
    alarm_subject,
    aws_period_ok,
    cadence_of,
    compute_statistic,
    low_sample_threshold,
    parse_percentile,
    region_long_name,
    validate_put_metric_alarm,
)

VALUES = [float(v) for v in range(1, 101)]  # 1..100


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("Sum", 5050.0),
        ("Average", 50.5),
        ("Minimum", 1.0),
        ("Maximum", 100.0),
        ("SampleCount", 100.0),
        ("p50", 50.0),
        ("p90", 90.0),
        ("p99", 99.0),
        ("p99.9", 100.0),
        ("p100", 100.0),
        ("p0.5", 1.0),
    ],
)
def test_statistics_from_raw_values(stat: str, expected: float) -> None:
    assert compute_statistic(stat, VALUES) == expected


def test_percentile_is_not_an_average_of_averages() -> None:
    # GIVEN 99 fast requests and one slow one WHEN p99 is computed from raw values
    values = [10.0] * 98 + [5000.0, 5000.0]
    assert compute_statistic("p99", values) == 5000.0
    assert compute_statistic("Average", values) == pytest.approx(109.8)


def test_empty_and_unknown() -> None:
    assert compute_statistic("Sum", []) is None
    assert parse_percentile("tm99") is None
    with pytest.raises(ValueError, match="unsupported"):
        compute_statistic("tm99", [1.0])
    assert low_sample_threshold("Sum") == 0.0
    assert low_sample_threshold("p99.9") == 10000.0


@pytest.mark.parametrize(
    ("period", "ok", "cadence"),
    [
        (10, True, 10),
        (20, True, 10),
        (30, True, 10),
        (60, True, 60),
        (300, True, 60),
        (45, False, 45),
        (2, False, 2),
        (90, False, 60),
    ],
)
def test_periods_and_cadence(period: int, ok: bool, cadence: int) -> None:
    assert aws_period_ok(period) is ok
    assert cadence_of(period) == cadence


BASE = {
    "AlarmName": "a",
    "MetricName": "Errors",
    "Namespace": "AWS/Lambda",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 2,
    "Threshold": 10,
    "ComparisonOperator": "GreaterThanThreshold",
}


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        ({"Period": 45}, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        (
            {"ComparisonOperator": "Bigger"},
            "ValidationError",
            "Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint",
        ),
        ({"TreatMissingData": "zero"}, "ValidationError", "Option zero is not supported"),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination", "Exactly one of"),
        ({"Statistic": None}, "InvalidParameterCombination", "Exactly one of"),
        ({"Statistic": "Median"}, "ValidationError", "'statistic'"),
        ({"DatapointsToAlarm": 3}, "ValidationError", "DatapointsToAlarm"),
        ({"Period": 86400, "EvaluationPeriods": 2}, "ValidationError", "more than a day"),
    ],
)
def test_put_metric_alarm_rejects_what_aws_rejects(
    change: dict[str, object], code: str, fragment: str
) -> None:
    params = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(AlarmRejected) as err:
        validate_put_metric_alarm(params, allow_short_periods=False)
    assert err.value.code == code
    assert fragment in err.value.message


def test_short_periods_only_in_fast_timing_and_with_a_warning() -> None:
    params = {**BASE, "Period": 2}
    with pytest.raises(AlarmRejected):
        validate_put_metric_alarm(params, allow_short_periods=False)
    warnings = validate_put_metric_alarm(params, allow_short_periods=True)
    assert len(warnings) == 1
    assert "AWS rejects" in warnings[0].message
    assert validate_put_metric_alarm(BASE, allow_short_periods=True) == []


def test_alarm_message_fields() -> None:
    spec = AlarmSpec(
        "hasivu-dev-x-error-rate",
        "AWS/Lambda",
        "Errors",
        60,
        2,
        10.0,
        "GreaterThanThreshold",
        dimensions=(("FunctionName", "f"),),
        treat_missing_data="notBreaching",
    )
    body = json.loads(
        alarm_message(
            spec,
            description="d",
            account_id="123456789012",
            region="ap-south-1",
            alarm_arn="arn:aws:cloudwatch:ap-south-1:123456789012:alarm:x",
            old_state="OK",
            new_state="ALARM",
            reason="r",
            at=0.0,
        )
    )
    assert body["Region"] == "Asia Pacific (Mumbai)"
    assert body["NewStateValue"] == "ALARM"
    assert body["OldStateValue"] == "OK"
    assert body["StateChangeTime"] == "1970-01-01T00:00:00.000+0000"
    trigger = body["Trigger"]
    assert trigger["Statistic"] == "SUM"
    assert trigger["Dimensions"] == [{"value": "f", "name": "FunctionName"}]
    assert trigger["TreatMissingData"] == "notBreaching"
    assert trigger["Threshold"] == 10.0
    assert {"AlarmName", "AlarmDescription", "AWSAccountId", "NewStateReason", "AlarmArn"} <= set(
        body
    )
    assert alarm_subject("ALARM", "x", "ap-south-1") == 'ALARM: "x" in Asia Pacific (Mumbai)'
    assert region_long_name("nowhere-1") == "nowhere-1"
