"""Both of the CloudWatch user guide's missing-data tables, row by row, from every prior
state (aws-behaviour.md, "CloudWatch: what happens when data is missing"), and the "avoiding
premature transitions" rule.

Rows list a five-bucket evaluation range oldest -> newest: X breaching, 0 not, - missing.
"retain" = the alarm keeps whatever state it had.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambda_gameday.sandbox.alarms import AlarmSpec, Datapoint, evaluate

PERIOD = 60
WINDOW_END = datetime(2026, 11, 30, 6, 15, tzinfo=UTC).timestamp()
VALUES = {"X": 20.0, "0": 5.0}
PRIORS = ("OK", "ALARM", "INSUFFICIENT_DATA")
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

THREE_OF_THREE = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - X - -", ("ALARM", "retain", "ALARM", "OK")),
]
TWO_OF_THREE = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - X -", ("ALARM", "retain", "ALARM", "OK")),
]


def _spec(m: int, tmd: str) -> AlarmSpec:
    return AlarmSpec(
        name="table",
        namespace="AWS/Lambda",
        metric_name="Errors",
        period=PERIOD,
        evaluation_periods=3,
        datapoints_to_alarm=m,
        threshold=10.0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data=tmd,  # type: ignore[arg-type]
    )


def _points(row: str) -> list[Datapoint]:
    cells = row.split()
    return [
        Datapoint(WINDOW_END - (len(cells) - i) * PERIOD, VALUES[c], 1.0)
        for i, c in enumerate(cells)
        if c != "-"
    ]


def _cases(m: int, table: list[tuple[str, tuple[str, ...]]]) -> list[object]:
    return [
        pytest.param(m, row, tmd, want, prior, id=f"{m}of3[{row}]-{tmd}-from-{prior}")
        for row, wants in table
        for tmd, want in zip(TREATMENTS, wants, strict=True)
        for prior in PRIORS
    ]


@pytest.mark.parametrize(
    ("m", "row", "tmd", "want", "prior"),
    _cases(3, THREE_OF_THREE) + _cases(2, TWO_OF_THREE),
)
def test_missing_data_tables(m: int, row: str, tmd: str, want: str, prior: str) -> None:
    got = evaluate(
        _spec(m, tmd),
        _points(row),
        window_end=WINDOW_END,
        previous=prior,  # type: ignore[arg-type]
        query_time=WINDOW_END + 5,
    )
    assert got.state == (prior if want == "retain" else want)
    assert got.retain == (want == "retain")


@pytest.mark.parametrize(
    ("row", "m", "want"),
    [
        # one fresh breaching point must not fire a 3-of-3 alarm early ...
        ("- - - - X", 3, "retain"),
        ("- - - X -", 3, "retain"),
        # ... it fires once the breaching point is 3 periods old, nothing newer being good
        ("- - X - -", 3, "ALARM"),
        ("- - X X -", 3, "ALARM"),
        # two fresh breaching points in 3 of 3: the older is only 2 periods old
        ("- - - X X", 3, "retain"),
        # 2 of 3: a breaching point 2 periods old suffices, a fresh one does not
        ("- - - X -", 2, "ALARM"),
        ("- - - - X", 2, "retain"),
        # a good point newer than the breaching one decides OK, not ALARM
        ("- - X 0 -", 2, "OK"),
    ],
)
def test_avoiding_premature_transitions(row: str, m: int, want: str) -> None:
    for prior in PRIORS:
        got = evaluate(
            _spec(m, "missing"),
            _points(row),
            window_end=WINDOW_END,
            previous=prior,  # type: ignore[arg-type]
            query_time=WINDOW_END + 5,
        )
        assert got.state == (prior if want == "retain" else want), (row, m, prior)
