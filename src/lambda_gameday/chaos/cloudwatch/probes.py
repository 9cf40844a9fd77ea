"""CloudWatch probes. Transition times come from the alarm's history (the Timestamp of the
StateUpdate item), or StateTransitionedTimestamp / StateUpdatedTimestamp when the target
keeps no history — never from when the poll noticed. Those are stamped by AWS's clock;
every time returned here is converted to the local clock (aws.ClockOffset) so it can be
compared with the harness's own probes. Polls are paced (pacing.py); a throttled read is
"not yet", never a failure."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Literal, TypedDict

from ...aws import Clients, Throttled, aws_errors
from ...exceptions import GamedayError, ResourceNotFound
from ..faults import Scope, scope

__all__ = [
    "AlarmTransition",
    "alarm_quiet",
    "alarm_state",
    "wait_for_alarm_quiet",
    "wait_for_alarm_state",
]

AlarmState = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


class AlarmTransition(TypedDict):
    alarm: str
    state: str
    at: float  # when the target says the alarm entered `state`
    source: str  # "history" or "describe"
    reason: str


def _describe(clients: Clients, alarm: str) -> dict[str, object]:
    with aws_errors(f"reading alarm {alarm}"):
        got = clients.cloudwatch().describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    if not got:
        raise ResourceNotFound(f"alarm {alarm!r} does not exist")
    return dict(got[0])


def _history_transition(
    clients: Clients, alarm: str, state: str, after: float
) -> tuple[float, str] | None:
    clock = clients.clock
    # AWS's stamp on the local clock is only as good as the offset estimate (Date headers
    # have whole seconds): a transition just after `after` may convert to just before it
    slack = min(clock.uncertainty, 1.0)
    try:
        with aws_errors(f"reading alarm history of {alarm}"):
            items = clients.cloudwatch().describe_alarm_history(
                AlarmName=alarm,
                HistoryItemType="StateUpdate",
                StartDate=datetime.fromtimestamp(max(clock.to_aws(after) - 1, 0), UTC),
                ScanBy="TimestampAscending",
            )["AlarmHistoryItems"]
    except GamedayError:
        return None  # a target without history (bare moto): fall back to describe
    for item in items:
        try:
            data = json.loads(item.get("HistoryData", "{}"))
            new = data.get("newState", {}).get("stateValue")
        except (json.JSONDecodeError, AttributeError):
            new = None
        at = clock.to_local(item["Timestamp"].timestamp())
        if new == state and at >= after - slack:
            return at, str(item.get("HistorySummary", ""))
    return None


def _default_after(sc: Scope, alarm: str, state: str) -> float:
    injected = [
        e.injected_at
        for e in sc.ledger.entries()
        if e.run_id == sc.ledger.run_id and e.injected_at is not None
    ]
    candidates = [max(injected)] if injected else [time.time()]
    seen = sc.run.seen_alarms.get(alarm)  # waiting for OK after ALARM: the OK after it
    if seen is not None:
        candidates.append(seen)
    return max(candidates)


def alarm_state(alarm_name: str, configuration: dict[str, object] | None = None) -> str:
    """The alarm's current StateValue (OK, ALARM, INSUFFICIENT_DATA)."""
    return str(_describe(scope(configuration).clients, alarm_name)["StateValue"])


def alarm_quiet(alarm_name: str, configuration: dict[str, object] | None = None) -> bool:
    """True unless the alarm is in ALARM (a steady-state probe: tolerance `true`)."""
    return alarm_state(alarm_name, configuration) != "ALARM"


def wait_for_alarm_state(
    alarm_name: str,
    state: AlarmState = "ALARM",
    timeout_s: float = 120.0,
    after: float | None = None,
    configuration: dict[str, object] | None = None,
) -> AlarmTransition:
    """Wait until the alarm enters `state` (at or after `after`, default: now) and return
    the target's transition time. Fails after `timeout_s`."""
    sc = scope(configuration)
    since = after if after is not None else _default_after(sc, alarm_name, state)
    deadline = time.monotonic() + timeout_s
    while True:
        sc.run.check_abort()
        try:
            alarm = _describe(sc.clients, alarm_name)
        except Throttled:
            alarm = {"StateValue": "unknown (throttled)"}
        # The history first, whatever the state is now: a transition it records counts even
        # if the alarm has left the state since (a set-alarm-state drill is set back at the
        # alarm's next evaluation, one Period later; a poll that comes late, as on a starved
        # machine, would otherwise only ever see the state it went back to).
        found = _history_transition(sc.clients, alarm_name, state, since)
        if found is not None:
            sc.run.seen_alarms[alarm_name] = found[0]
            return AlarmTransition(
                alarm=alarm_name, state=state, at=found[0], source="history", reason=found[1]
            )
        if alarm["StateValue"] == state:  # no history item (a target without one): describe
            stamp = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
            at = (
                sc.clients.clock.to_local(stamp.timestamp())
                if isinstance(stamp, datetime)
                else time.time()
            )
            if at >= since - 1:
                sc.run.seen_alarms[alarm_name] = at
                return AlarmTransition(
                    alarm=alarm_name,
                    state=state,
                    at=at,
                    source="describe",
                    reason=str(alarm.get("StateReason", "")),
                )
        if time.monotonic() > deadline:
            raise GamedayError(
                f"alarm {alarm_name} did not reach {state} within {timeout_s:g}s"
                f" (it is {alarm['StateValue']})"
            )
        time.sleep(sc.clients.poll_interval(0.25))


def wait_for_alarm_quiet(
    alarm_name: str, timeout_s: float = 120.0, configuration: dict[str, object] | None = None
) -> str:
    """Wait until the alarm is not in ALARM (e.g. before a drill that needs a transition
    to ALARM: setting an alarm that already fires sends no notification). Returns its
    state; fails after `timeout_s`."""
    sc = scope(configuration)
    deadline = time.monotonic() + timeout_s
    while True:
        sc.run.check_abort()
        try:
            state = str(_describe(sc.clients, alarm_name)["StateValue"])
        except Throttled:
            state = "ALARM"  # not known yet: keep waiting
        if state != "ALARM":
            return state
        if time.monotonic() > deadline:
            raise GamedayError(f"alarm {alarm_name} still in ALARM after {timeout_s:g}s")
        time.sleep(sc.clients.poll_interval(0.25))
