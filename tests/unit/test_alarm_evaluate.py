"""Table-driven tests of the pure alarm evaluator against AWS's documented semantics.

Notation: a row like "0 - X - X" lists the evaluation range's buckets oldest -> newest:
X breaches the threshold, 0 does not, - is missing (AWS's own table notation, from
"Configuring how CloudWatch alarms treat missing data").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lambda_gameday.sandbox.alarms import AlarmSpec, Datapoint, evaluate
from lambda_gameday.sandbox.alarms.evaluate import format_reason_time, iso_time

PERIOD = 60
# 2026-09-07 06:15:00 UTC: the newest closed bucket is 06:14:00-06:15:00.
WINDOW_END = datetime(2026, 9, 7, 6, 15, tzinfo=UTC).timestamp()
QUERY = WINDOW_END + 12.5
THRESHOLD = 10.0
VALUES = {"X": 20.0, "0": 5.0}


def spec(n: int = 3, m: int | None = None, tmd: str = "missing", **kw: object) -> AlarmSpec:
    return AlarmSpec(
        name="a",
        namespace="AWS/Lambda",
        metric_name="Errors",
        period=PERIOD,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        threshold=THRESHOLD,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data=tmd,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def points(row: str, sample_count: float = 1.0) -> list[Datapoint]:
    cells = row.split()
    out = []
    for i, c in enumerate(cells):
        start = WINDOW_END - (len(cells) - i) * PERIOD
        if c != "-":
            out.append(Datapoint(start, VALUES[c], sample_count))
    return out


# AWS's table: 3 evaluation periods, 3 datapoints to alarm, five-bucket evaluation range.
# "keep" = the alarm keeps its current state.
TREAT_MISSING_TABLE = [
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("- - - - 0", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - X - -", "ALARM", "keep", "ALARM", "OK"),
]


@pytest.mark.parametrize(
    ("row", "missing", "ignore", "breaching", "not_breaching"), TREAT_MISSING_TABLE
)
@pytest.mark.parametrize("previous", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_treat_missing_data_table(
    row: str, missing: str, ignore: str, breaching: str, not_breaching: str, previous: str
) -> None:
    # GIVEN AWS's example rows WHEN evaluated under each TreatMissingData THEN the
    # documented state results (and "keep" leaves the previous state untouched)
    for tmd, expected in (
        ("missing", missing),
        ("ignore", ignore),
        ("breaching", breaching),
        ("notBreaching", not_breaching),
    ):
        result = evaluate(
            spec(tmd=tmd), points(row), window_end=WINDOW_END, previous=previous, query_time=QUERY
        )  # type: ignore[arg-type]
        if expected == "keep":
            assert result.retain, (row, tmd)
            assert result.state == previous
        else:
            assert not result.retain, (row, tmd)
            assert result.state == expected, (row, tmd, result.reason)
            assert result.reason


def test_threshold_crossed_reason_and_reason_data_match_aws_format() -> None:
    # GIVEN two breaching minutes WHEN a 2-of-2 alarm evaluates THEN AWS's reason text
    result = evaluate(
        spec(n=2), points("X X"), window_end=WINDOW_END, previous="OK", query_time=QUERY
    )
    assert result.state == "ALARM"
    assert result.reason == (
        "Threshold Crossed: 2 datapoints [20.0 (07/09/26 06:14:00), 20.0 (07/09/26 06:13:00)] "
        "were greater than the threshold (10.0)."
    )
    data = json.loads(result.reason_data)
    assert data["version"] == "1.0"
    assert data["queryDate"] == "2026-09-07T06:15:12.500+0000"
    assert data["startDate"] == "2026-09-07T06:13:00.000+0000"
    assert data["statistic"] == "Sum"
    assert data["period"] == 60
    assert data["threshold"] == 10.0
    assert data["recentDatapoints"] == [20.0, 20.0]
    assert [p["timestamp"] for p in data["evaluatedDatapoints"]] == [
        "2026-09-07T06:14:00.000+0000",
        "2026-09-07T06:13:00.000+0000",
    ]


@pytest.mark.parametrize(
    ("row", "state", "n_listed"),
    [
        # M of N: 3 of 5, breaching points need not be consecutive, gaps are skipped when
        # enough real points remain in the range.
        ("X 0 X 0 X", "ALARM", 3),
        ("X X 0 0 X", "ALARM", 3),
        ("0 X 0 0 X", "OK", 3),
        ("X - X - 0 X 0", "ALARM", 3),  # 7-bucket range, 5 real points, 3 breaching
        ("0 - X - 0 X 0", "OK", 3),  # 5 real points, 2 breaching: 3 good ones listed
    ],
)
def test_m_of_n_with_gaps(row: str, state: str, n_listed: int) -> None:
    result = evaluate(
        spec(n=5, m=3), points(row), window_end=WINDOW_END, previous="OK", query_time=QUERY
    )
    assert result.state == state
    assert "out of the last 5 datapoints" in result.reason
    assert result.reason.count("(07/09/26") == n_listed
    assert len(result.evaluated) == 5


def test_gaps_are_skipped_when_enough_real_points_exist() -> None:
    # GIVEN 3 real datapoints spread over a 5-bucket range with gaps between them
    # WHEN a 2-of-3 alarm evaluates with notBreaching THEN missing data is not used at all
    result = evaluate(
        spec(n=3, m=2, tmd="notBreaching"),
        points("X - X - 0"),
        window_end=WINDOW_END,
        previous="OK",
        query_time=QUERY,
    )
    assert result.state == "ALARM"
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints "
        "[20.0 (07/09/26 06:12:00), 20.0 (07/09/26 06:10:00)] were greater than the threshold "
        "(10.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert len(json.loads(result.reason_data)["evaluatedDatapoints"]) == 3


@pytest.mark.parametrize(
    ("row", "state"),
    [
        ("X X X X X", "ALARM"),
        ("X X X X 0", "ALARM"),  # 1 good point: not enough
        ("X X X 0 0", "ALARM"),  # 2 good points: still 3 breaching
        ("X X 0 0 0", "OK"),  # N - M + 1 = 3 good points
    ],
)
def test_alarm_to_ok_needs_n_minus_m_plus_one_good_points(row: str, state: str) -> None:
    result = evaluate(
        spec(n=5, m=3), points(row), window_end=WINDOW_END, previous="ALARM", query_time=QUERY
    )
    assert result.state == state
    if state == "OK":
        assert result.reason.endswith("(minimum 3 datapoints for ALARM -> OK transition).")
        assert "3 out of the last 5 datapoints" in result.reason
        assert "were not greater than the threshold (10.0)" in result.reason


@pytest.mark.parametrize(
    ("stat", "samples", "mode", "retained"),
    [
        ("p99", 10, "ignore", True),  # needs 10/(1-0.99) = 1000 samples
        ("p99", 10, "evaluate", False),
        ("p99", 1000, "ignore", False),
        ("p90", 99, "ignore", True),  # needs 100
        ("p90", 100, "ignore", False),
        ("p50", 19, "ignore", True),  # needs 20
        ("p10", 99, "ignore", True),  # below p50: 10/p = 100
        ("p10", 100, "ignore", False),
    ],
)
def test_percentile_alarms_with_low_sample_counts(
    stat: str, samples: float, mode: str, retained: bool
) -> None:
    s = spec(
        n=2, statistic=None, extended_statistic=stat, evaluate_low_sample_count_percentile=mode
    )
    result = evaluate(
        s,
        points("X X", sample_count=samples),
        window_end=WINDOW_END,
        previous="OK",
        query_time=QUERY,
    )
    assert result.retain is retained
    assert result.state == ("OK" if retained else "ALARM")
    if not retained:
        assert json.loads(result.reason_data)["extendedStatistic"] == stat


@pytest.mark.parametrize(
    ("op", "value", "breach"),
    [
        ("GreaterThanThreshold", 10.0, False),
        ("GreaterThanThreshold", 10.5, True),
        ("GreaterThanOrEqualToThreshold", 10.0, True),
        ("GreaterThanOrEqualToThreshold", 9.9, False),
        ("LessThanThreshold", 10.0, False),
        ("LessThanThreshold", 9.9, True),
        ("LessThanOrEqualToThreshold", 10.0, True),
        ("LessThanOrEqualToThreshold", 10.1, False),
    ],
)
def test_every_comparison_operator(op: str, value: float, breach: bool) -> None:
    s = AlarmSpec("a", "ns", "m", PERIOD, 1, THRESHOLD, op)
    result = evaluate(
        s,
        [Datapoint(WINDOW_END - PERIOD, value)],
        window_end=WINDOW_END,
        previous="INSUFFICIENT_DATA",
        query_time=QUERY,
    )
    assert result.state == ("ALARM" if breach else "OK")


def test_all_missing_reasons() -> None:
    insufficient = evaluate(spec(), [], window_end=WINDOW_END, previous="OK", query_time=QUERY)
    assert insufficient.reason == "Insufficient Data: 3 datapoints were unknown."
    breaching = evaluate(
        spec(tmd="breaching"), [], window_end=WINDOW_END, previous="OK", query_time=QUERY
    )
    assert breaching.reason == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
        "datapoints were treated as [Breaching]."
    )


def test_points_outside_the_evaluation_range_are_ignored() -> None:
    old = Datapoint(WINDOW_END - 6 * PERIOD, 20.0)  # range is N + 2 = 5 buckets
    future = Datapoint(WINDOW_END, 20.0)  # the still-open bucket is not evaluated
    result = evaluate(
        spec(n=3), [old, future], window_end=WINDOW_END, previous="OK", query_time=QUERY
    )
    assert result.state == "INSUFFICIENT_DATA"


def test_time_formats() -> None:
    assert format_reason_time(WINDOW_END) == "07/09/26 06:15:00"
    assert iso_time(WINDOW_END + 0.25) == "2026-09-07T06:15:00.250+0000"
