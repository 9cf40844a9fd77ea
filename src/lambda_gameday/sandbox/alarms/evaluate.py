"""Pure alarm evaluation: definition + datapoints + previous state -> new state and reason.

No I/O and no clock: the caller passes the evaluation window and the query time. The rules
are AWS's ("How alarm state is evaluated when data is missing", CloudWatch user guide):

* CloudWatch looks at an *evaluation range* longer than N periods (here N + 2 buckets).
* If at least N real datapoints exist in the range, the most recent N real ones are
  evaluated (gaps are skipped) and TreatMissingData is not used.
* Otherwise missing datapoints are filled as few times as possible: `breaching` /
  `notBreaching` fill the shortfall; `missing` evaluates the real points alone (no data at
  all -> INSUFFICIENT_DATA) with AWS's "avoiding premature transitions" rule (fewer than M
  points, all breaching: ALARM only once the oldest is M periods old, else the state is
  kept); `ignore` keeps the current state unless the real points decide it (M breaching ->
  ALARM; an outcome `missing` would call OK -> OK). Both tables of the user guide are
  unit-tested row by row from every prior state (tests/unit/test_alarm_missing_tables.py).
* ALARM when at least M (DatapointsToAlarm) of the N evaluated points breach, so going back
  to OK needs N-M+1 non-breaching points.
* Percentile alarms with fewer samples than 10/(1-p) (10/p below p50) in an evaluated
  datapoint keep their state when EvaluateLowSampleCountPercentile is `ignore`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from .model import AlarmSpec, Datapoint, Evaluation, StateValue
from .statistics import low_sample_threshold

__all__ = ["EXTRA_RANGE_PERIODS", "breaches", "evaluate", "format_reason_time", "iso_time"]

EXTRA_RANGE_PERIODS = 2  # how many periods the evaluation range reaches beyond N

_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


def breaches(op: str, value: float, threshold: float) -> bool:
    if op == "GreaterThanThreshold":
        return value > threshold
    if op == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if op == "LessThanThreshold":
        return value < threshold
    if op == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"the sandbox cannot evaluate {op!r} (anomaly-band alarms need a model)")


def format_reason_time(epoch: float) -> str:
    """AWS's StateReason timestamp: `07/09/26 06:14:00` (dd/MM/yy HH:mm:ss, UTC)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def iso_time(epoch: float) -> str:
    """AWS's StateReasonData timestamp: `2026-09-07T06:14:00.000+0000`."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def _num(v: float) -> str:
    return repr(float(v))


def _points(points: Sequence[Datapoint]) -> str:
    return ", ".join(f"{_num(p.value)} ({format_reason_time(p.start)})" for p in points)


def _plural(n: int, word: str = "datapoint") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _reason_data(
    spec: AlarmSpec,
    evaluated: Sequence[Datapoint],
    missing_starts: Sequence[float],
    window_start: float,
    query_time: float,
) -> str:
    stat_key = "statistic" if spec.extended_statistic is None else "extendedStatistic"
    items: list[tuple[float, dict[str, object]]] = [
        (p.start, {"timestamp": iso_time(p.start), "sampleCount": p.sample_count, "value": p.value})
        for p in evaluated
    ]
    items += [(s, {"timestamp": iso_time(s)}) for s in missing_starts]
    items.sort(key=lambda it: it[0], reverse=True)
    data: dict[str, object] = {
        "version": "1.0",
        "queryDate": iso_time(query_time),
        "startDate": iso_time(window_start),
        stat_key: spec.stat_name,
        "period": spec.period,
        "recentDatapoints": [p.value for p in sorted(evaluated, key=lambda p: p.start)],
        "threshold": float(spec.threshold),
    }
    if spec.unit:
        data["unit"] = spec.unit
    data["evaluatedDatapoints"] = [it[1] for it in items]
    return json.dumps(data, separators=(",", ":"))


def evaluate(
    spec: AlarmSpec,
    datapoints: Sequence[Datapoint],
    *,
    window_end: float,
    previous: StateValue,
    query_time: float,
) -> Evaluation:
    """Evaluate `spec` over the buckets ending at `window_end` (the newest closed bucket's
    end). `datapoints` are the real datapoints; any outside the evaluation range are ignored."""
    n, m, period = spec.n, spec.m, spec.period
    range_start = window_end - (n + EXTRA_RANGE_PERIODS) * period
    real = sorted(
        (p for p in datapoints if range_start <= p.start < window_end),
        key=lambda p: p.start,
        reverse=True,
    )
    op, thr = spec.comparison_operator, spec.threshold
    words = _WORDS.get(op, op)

    need = low_sample_threshold(spec.stat_name)
    low = need and spec.evaluate_low_sample_count_percentile == "ignore"
    if low and any(p.sample_count < need for p in real[:n]):
        return Evaluation(previous, "", "", retain=True, evaluated=tuple(real[:n]))

    if len(real) >= n:
        evaluated = real[:n]
        bad = [p for p in evaluated if breaches(op, p.value, thr)]
        good = [p for p in evaluated if not breaches(op, p.value, thr)]
        data = _reason_data(spec, evaluated, (), evaluated[-1].start, query_time)
        if len(bad) >= m:
            state: StateValue = "ALARM"
            reason = _crossed(bad, n, m, words, thr, to_alarm=True)
        else:
            state = "OK"
            reason = _crossed(good, n, n - m + 1, words, thr, to_alarm=False)
        return Evaluation(state, reason, data, evaluated=tuple(evaluated))

    # Fewer than N real datapoints: TreatMissingData decides how the shortfall counts.
    short = n - len(real)
    newest_first = [window_end - (i + 1) * period for i in range(n)]
    have = {p.start for p in real}
    missing_starts = [s for s in newest_first if s not in have][:short]
    window_start = min([*missing_starts, *(p.start for p in real)])
    data = _reason_data(spec, real, missing_starts, window_start, query_time)
    bad = [p for p in real if breaches(op, p.value, thr)]
    good = [p for p in real if not breaches(op, p.value, thr)]
    tmd = spec.treat_missing_data
    evaluated_t = tuple(real)

    if not real:
        if tmd == "missing":
            reason = f"Insufficient Data: {_plural(n)} {'was' if n == 1 else 'were'} unknown."
            return Evaluation("INSUFFICIENT_DATA", reason, data)
        if tmd == "ignore":
            return Evaluation(previous, "", "", retain=True)
        treated = "Breaching" if tmd == "breaching" else "NonBreaching"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
            f"{n} missing {'datapoint was' if n == 1 else 'datapoints were'} treated as "
            f"[{treated}]."
        )
        return Evaluation("ALARM" if tmd == "breaching" else "OK", reason, data)

    if tmd in ("breaching", "notBreaching"):
        # The short slots are filled with breaching (or good) points, then M of N decides.
        breaching = tmd == "breaching"
        state = "ALARM" if len(bad) + (short if breaching else 0) >= m else "OK"
        reason = _crossed(
            bad if state == "ALARM" else good,
            n,
            m if state == "ALARM" else n - m + 1,
            words,
            thr,
            to_alarm=state == "ALARM",
            treated=(short, "Breaching" if breaching else "NonBreaching"),
        )
        return Evaluation(state, reason, data, evaluated=evaluated_t)
    if tmd == "missing":
        # The real points alone decide. M of them breaching -> ALARM; any good one among
        # fewer than M breaching -> OK. If every real point breaches but there are fewer
        # than M, AWS's "avoiding premature transitions" rule: ALARM only once the oldest
        # breaching point is at least M periods old (all newer ones breaching or missing,
        # as they are here); before that the state is kept.
        if len(bad) >= m or (
            len(bad) == len(real) and _age_periods(bad[-1], window_end, period) >= m
        ):
            shown = max(1, min(m, len(real)))
            return Evaluation(
                "ALARM",
                _crossed(bad, len(real), shown, words, thr, to_alarm=True),
                data,
                evaluated=evaluated_t,
            )
    elif len(bad) >= m:
        # ignore: M real breaching points -> ALARM; an outcome `missing` would call OK -> OK;
        # anything else (e.g. fewer than M points, all breaching) keeps the state.
        return Evaluation(
            "ALARM", _crossed(bad, n, m, words, thr, to_alarm=True), data, evaluated=evaluated_t
        )
    # missing and ignore alike: a good real point -> OK; otherwise the state is kept.
    if good:
        need_good = len(real) - min(m, len(real)) + 1
        return Evaluation(
            "OK",
            _crossed(good, len(real), need_good, words, thr, to_alarm=False),
            data,
            evaluated=evaluated_t,
        )
    return Evaluation(previous, "", "", retain=True, evaluated=evaluated_t)


def _age_periods(point: Datapoint, window_end: float, period: int) -> int:
    """How many periods old a datapoint is: the newest closed bucket is 1 period old."""
    return round((window_end - point.start) / period)


def _crossed(
    listed: Sequence[Datapoint],
    n: int,
    minimum: int,
    words: str,
    thr: float,
    *,
    to_alarm: bool,
    treated: tuple[int, str] | None = None,
) -> str:
    """`Threshold Crossed: 2 datapoints [..] were greater than the threshold (40.0).`, with
    AWS's M-of-N wording when M < N."""
    k = len(listed)
    verb = "was" if k == 1 else "were"
    neg = "" if to_alarm else "not "
    head = (
        f"Threshold Crossed: {_plural(k)}"
        if minimum == n
        else f"Threshold Crossed: {k} out of the last {n} datapoints"
    )
    if k == 0:
        text = f"Threshold Crossed: no datapoints were {neg}{words} the threshold ({_num(thr)})"
    else:
        text = f"{head} [{_points(listed)}] {verb} {neg}{words} the threshold ({_num(thr)})"
    if treated and treated[0]:
        miss = treated[0]
        text += (
            f" and {miss} missing {'datapoint was' if miss == 1 else 'datapoints were'} "
            f"treated as [{treated[1]}]"
        )
    if minimum != n:
        transition = "OK -> ALARM" if to_alarm else "ALARM -> OK"
        text += f" (minimum {_plural(minimum)} for {transition} transition)"
    return text + "."
