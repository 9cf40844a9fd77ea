"""The alarm loop: evaluates every metric alarm stored in moto, on AWS's cadence.

It reads alarms and raw datapoints from moto's CloudWatch backend in-process, writes state
back onto moto's alarm objects (so `describe_alarms` on the endpoint shows it), keeps the
alarm history (answering `describe_alarm_history`), publishes AWS's alarm message to the SNS
topics in the alarm's actions on state changes only, and records every transition in the
sandbox's ground truth at the instant it is made.

Cadence: alarms with Period >= 60 s are evaluated every 60 s on minute boundaries, 10/20/30 s
alarms every 10 s, and sandbox-only short periods every period. Each evaluation runs
`tick_offset_s` after the boundary (so a datapoint written at the very end of a bucket is
in) and sees only datapoints older than `metric_delay_s` (0 in fast timing; 60 s in faithful
timing, where the data plane also publishes Lambda metrics 60 s late, as AWS's arrive a
minute or two late: a period is evaluated once its values have arrived).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from ..awsapi import ApiCall, AwsApi, aws_error
from ..moto_adapter import aws_time
from ..pagination import cloudwatch_page_request, page
from ..ticker import Ticker
from ..truth import GroundTruth
from .evaluate import EXTRA_RANGE_PERIODS, evaluate
from .messages import HistoryItem, alarm_message, alarm_subject
from .metrics import MetricIndex, MetricKey, to_epoch
from .model import AlarmSpec, StateValue
from .validate import AlarmRejected, AlarmWarning, validate_put_metric_alarm

__all__ = ["AlarmEngine", "AlarmSettings", "cadence_of"]

log = logging.getLogger(__name__)

_EVALUABLE_OPS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)


@dataclass(frozen=True)
class AlarmSettings:
    allow_short_periods: bool = True  # fast timing: any whole-second Period >= 1
    metric_delay_s: float = 0.0
    tick_offset_s: float = 0.02
    max_wait_s: float = 0.5  # longest the loop sleeps before re-checking for new alarms


def cadence_of(period: int) -> int:
    """How often AWS evaluates an alarm of this period (sandbox short periods: every period)."""
    if period >= 60:
        return 60
    if period in (10, 20, 30):
        return 10
    return max(1, period)


@dataclass
class _Tracked:
    obj_id: int
    spec: AlarmSpec | None  # None: not evaluable by the sandbox (metric math, anomaly bands)
    key: MetricKey | None
    next_due: float
    state: tuple[str, str, str, Any, Any] = ("", "", "", None, None)


@dataclass
class AlarmEngine:
    """Evaluates moto's alarms. `install(api)` hooks the CloudWatch API; `start()` runs the
    loop in a daemon thread; `evaluate_due(now)` / `evaluate_all(now)` run one tick inline."""

    truth: GroundTruth
    account_id: str
    region: str
    settings: AlarmSettings = field(default_factory=AlarmSettings)
    clock: Callable[[], float] = time.time  # AWS's clock: every time the engine stamps
    clock_skew_s: float = 0.0  # AWS's clock minus the local one (ground truth is local)
    pre_tick: Callable[[], None] | None = None  # e.g. flush the data plane's metric buffer

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tracked: dict[str, _Tracked] = {}
        self._history: list[HistoryItem] = []
        self._pending_warnings: dict[str, list[AlarmWarning]] = {}
        self.warnings: list[AlarmWarning] = []
        self._index = MetricIndex()
        # evaluates first at start (alarms already in moto), then when the next one is due
        self._ticker = Ticker("sandbox-alarms", self._tick_due, self._wait_s, tick_at_start=True)
        self.ticks = 0

    # -- moto access ---------------------------------------------------------------------

    @property
    def backend(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[self.account_id][self.region]

    # -- lifecycle -----------------------------------------------------------------------

    def install(self, api: AwsApi) -> None:
        api.intercept("monitoring", self._intercept)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def _tick_due(self) -> None:
        try:
            self.evaluate_due(self.clock())
        except Exception:  # keep evaluating the other alarms on the next tick
            log.exception("alarm evaluation tick failed")

    def _wait_s(self) -> float:
        return min(max(self._next_due() - self.clock(), 0.001), self.settings.max_wait_s)

    def _next_due(self) -> float:
        with self._lock:
            dues = [t.next_due for t in self._tracked.values() if t.spec is not None]
        return min(dues) if dues else self.clock() + self.settings.max_wait_s

    # -- ticks ---------------------------------------------------------------------------

    def _due_after(self, now: float, period: int) -> float:
        cad = cadence_of(period)
        shift = self.settings.metric_delay_s + self.settings.tick_offset_s
        return (math.floor((now - shift) / cad) + 1) * cad + shift

    def evaluate_due(self, now: float) -> int:
        """Evaluate the alarms whose cadence boundary has passed; returns how many."""
        return self._tick(now, force=False)

    def evaluate_all(self, now: float) -> int:
        """Evaluate every alarm now, whatever its cadence (benchmarks, tests)."""
        return self._tick(now, force=True)

    def _tick(self, now: float, *, force: bool) -> int:
        if self.pre_tick is not None:
            self.pre_tick()
        with self._lock:
            self.reconcile(now)
            backend = self.backend
            self._index.ingest(backend.metric_data)
            count = 0
            longest = 0.0
            for name, tracked in list(self._tracked.items()):
                spec = tracked.spec
                if spec is None or tracked.key is None:
                    continue
                longest = max(longest, (spec.n + EXTRA_RANGE_PERIODS) * spec.period)
                if not force and tracked.next_due > now:
                    continue
                tracked.next_due = self._due_after(now, spec.period)
                alarm = backend.alarms.get(name)
                if alarm is None or id(alarm) != tracked.obj_id:
                    continue
                self._evaluate_one(alarm, tracked, spec, tracked.key, now)
                count += 1
            self._index.prune(now - longest - self.settings.metric_delay_s - 600)
            self.ticks += 1
            return count

    def _evaluate_one(
        self, alarm: Any, tracked: _Tracked, spec: AlarmSpec, key: MetricKey, now: float
    ) -> None:
        window_end = math.floor((now - self.settings.metric_delay_s) / spec.period) * spec.period
        start = window_end - (spec.n + EXTRA_RANGE_PERIODS) * spec.period
        points = self._index.datapoints(key, spec.stat_name, spec.period, start, window_end)
        result = evaluate(
            spec, points, window_end=window_end, previous=alarm.state_value, query_time=now
        )
        if result.retain or result.state == alarm.state_value:
            return
        self._set_state(alarm, result.state, result.reason, result.reason_data, now)

    # -- state ---------------------------------------------------------------------------

    def _set_state(
        self,
        alarm: Any,
        state: StateValue,
        reason: str,
        reason_data: str,
        at: float,
        *,
        forced: bool = False,
    ) -> None:
        old: StateValue = alarm.state_value
        stamp = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
        alarm.state_value = state
        alarm.state_reason = reason
        alarm.state_reason_data = reason_data
        alarm.state_updated_timestamp = stamp
        if old != state:
            alarm.state_transitioned_timestamp = stamp
        tracked = self._tracked.get(alarm.name)
        if tracked is not None:
            tracked.state = _snapshot(alarm)
        if old == state and not forced:
            return
        self._history.append(
            HistoryItem(
                alarm.name,
                at,
                "StateUpdate",
                f"Alarm updated from {old} to {state}",
                json.dumps(
                    {
                        "version": "1.0",
                        "oldState": {"stateValue": old},
                        "newState": {
                            "stateValue": state,
                            "stateReason": reason,
                            "stateReasonData": json.loads(reason_data) if reason_data else {},
                        },
                    }
                ),
            )
        )
        if old == state:
            return
        local = at - self.clock_skew_s
        self.truth.record("alarm", alarm.name, at=local, old=old, new=state, reason=reason)
        if alarm.actions_enabled:
            self._run_actions(alarm, old, state, reason, at)

    def _run_actions(
        self, alarm: Any, old: StateValue, state: StateValue, reason: str, at: float
    ) -> None:
        actions = {
            "ALARM": alarm.alarm_actions,
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }[state] or []
        if not actions:
            return
        tracked = self._tracked.get(alarm.name)
        spec = tracked.spec if tracked and tracked.spec else _spec_of(alarm)
        if spec is None:  # metric-math alarms notify with the trigger fields they have
            spec = AlarmSpec(
                alarm.name,
                alarm.namespace or "",
                alarm.metric_name or "",
                int(alarm.period or 60),
                int(alarm.evaluation_periods or 1),
                float(alarm.threshold or 0),
                alarm.comparison_operator,
            )
        message = alarm_message(
            spec,
            description=alarm.description,
            account_id=self.account_id,
            region=self.region,
            alarm_arn=alarm.alarm_arn,
            old_state=old,
            new_state=state,
            reason=reason,
            at=at,
            actions=(
                list(alarm.alarm_actions or []),
                list(alarm.ok_actions or []),
                list(alarm.insufficient_data_actions or []),
            ),
        )
        subject = alarm_subject(state, alarm.name, self.region)
        for arn in actions:
            with aws_time(self.clock):  # SNS stamps the message on AWS's clock
                ok, detail = _publish(str(arn), message, subject)
            summary = (
                f"Successfully executed action {arn}" if ok else f"Failed to execute action {arn}"
            )
            self._history.append(
                HistoryItem(
                    alarm.name,
                    at,
                    "Action",
                    summary,
                    json.dumps(
                        {
                            "actionState": "Succeeded" if ok else "Failed",
                            "notificationResource": arn,
                            "publishedMessage": detail,
                        }
                    ),
                )
            )

    # -- reconciliation with moto's objects ----------------------------------------------

    def reconcile(self, now: float) -> None:
        """Fix what moto does on put: new alarms start INSUFFICIENT_DATA; a re-put alarm
        (a new moto object under a known name) keeps the state it had."""
        with self._lock:
            alarms = dict(self.backend.alarms)
            for name in [n for n in self._tracked if n not in alarms]:
                del self._tracked[name]
            for name, alarm in alarms.items():
                tracked = self._tracked.get(name)
                if tracked is not None and tracked.obj_id == id(alarm):
                    continue
                spec = None if alarm.rule is not None else _spec_of(alarm)
                key: MetricKey | None = None
                if spec is not None:
                    key = (spec.namespace, spec.metric_name, frozenset(spec.dimensions))
                stamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
                if tracked is None:
                    alarm.state_value = "INSUFFICIENT_DATA"
                    alarm.state_reason = "Unchecked: Initial alarm creation"
                    alarm.state_reason_data = ""
                    alarm.state_updated_timestamp = stamp
                    alarm.state_transitioned_timestamp = stamp
                    summary = f'Alarm "{name}" created'
                else:
                    _restore(alarm, tracked.state)
                    summary = f'Alarm "{name}" updated'
                self._history.append(
                    HistoryItem(
                        name,
                        now,
                        "ConfigurationUpdate",
                        summary,
                        json.dumps(
                            {"version": "1.0", "type": "Create" if tracked is None else "Update"}
                        ),
                    )
                )
                for warning in self._pending_warnings.pop(name, []):
                    self.warnings.append(warning)
                    self._history.append(
                        HistoryItem(
                            name,
                            now,
                            "ConfigurationUpdate",
                            warning.message,
                            json.dumps({"version": "1.0", "sandboxWarning": True}),
                        )
                    )
                    log.info("%s: %s", name, warning.message)
                self._tracked[name] = _Tracked(
                    id(alarm),
                    spec,
                    key,
                    self._due_after(now, spec.period) if spec else math.inf,
                    _snapshot(alarm),
                )
                if spec is not None:
                    self._ticker.wake()

    # -- history -------------------------------------------------------------------------

    def history(self, alarm_name: str | None = None) -> list[HistoryItem]:
        with self._lock:
            return [h for h in self._history if alarm_name in (None, h.alarm_name)]

    # -- the CloudWatch API --------------------------------------------------------------

    def _intercept(self, call: ApiCall) -> Response | None:
        op = call.operation
        if op == "PutMetricAlarm":
            params = call.params()
            try:
                warnings = validate_put_metric_alarm(
                    params, allow_short_periods=self.settings.allow_short_periods
                )
            except AlarmRejected as exc:
                return aws_error(call, 400, exc.code, exc.message)
            with self._lock:
                self._pending_warnings[str(params["AlarmName"])] = warnings
            self._ticker.wake()
            return None
        if op in ("DescribeAlarms", "DescribeAlarmsForMetric"):
            self.reconcile(self.clock())
            return None
        if op == "DeleteAlarms":
            with self._lock:
                for name in call.params().get("AlarmNames", []):
                    self._tracked.pop(name, None)
            return None
        if op == "SetAlarmState":
            return self._api_set_alarm_state(call)
        if op == "DescribeAlarmHistory":
            return self._api_history(call)
        return None

    def _api_set_alarm_state(self, call: ApiCall) -> Response:
        params = call.params()
        state = params.get("StateValue")
        if state not in ("OK", "ALARM", "INSUFFICIENT_DATA"):
            return aws_error(call, 400, "ValidationError", f"Invalid StateValue {state!r}")
        now = self.clock()
        with self._lock:
            self.reconcile(now)
            alarm = self.backend.alarms.get(params.get("AlarmName"))
            if alarm is None:
                return aws_error(call, 404, "ResourceNotFound", "Alarm not found")
            data = params.get("StateReasonData") or ""
            if data:
                try:
                    json.loads(data)
                except ValueError:
                    return aws_error(call, 400, "InvalidFormat", "StateReasonData is invalid JSON")
            self._set_state(
                alarm, state, str(params.get("StateReason", "")), data, now, forced=True
            )
        return _json_response({})

    def _api_history(self, call: ApiCall) -> Response:
        params = call.params()
        name = params.get("AlarmName")
        kind = params.get("HistoryItemType")
        start = params.get("StartDate")
        end = params.get("EndDate")
        items = [
            h
            for h in self.history(name)
            if (kind is None or h.item_type == kind)
            and (start is None or h.timestamp >= to_epoch(_parse_time(start)))
            and (end is None or h.timestamp <= to_epoch(_parse_time(end)))
        ]
        items.sort(
            key=lambda h: h.timestamp,
            reverse=params.get("ScanBy", "TimestampDescending") != "TimestampAscending",
        )
        # MaxRecords 1-100 (default 100), opaque NextToken bound to the query
        # (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html)
        request = cloudwatch_page_request(call, params, "DescribeAlarmHistory", 100)
        if isinstance(request, Response):
            return request
        offset, limit, scope = request
        chunk, token = page(items, offset, limit, scope)
        body: dict[str, object] = {"AlarmHistoryItems": [h.to_api() for h in chunk]}
        if token:
            body["NextToken"] = token
        return _json_response(body)


def _json_response(body: object) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/x-amz-json-1.0")


def _parse_time(value: object) -> float | datetime:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _snapshot(alarm: Any) -> tuple[str, str, str, Any, Any]:
    return (
        alarm.state_value,
        alarm.state_reason,
        alarm.state_reason_data,
        alarm.state_updated_timestamp,
        getattr(alarm, "state_transitioned_timestamp", alarm.state_updated_timestamp),
    )


def _restore(alarm: Any, snap: tuple[str, str, str, Any, Any]) -> None:
    (
        alarm.state_value,
        alarm.state_reason,
        alarm.state_reason_data,
        alarm.state_updated_timestamp,
        alarm.state_transitioned_timestamp,
    ) = snap


def _spec_of(alarm: Any) -> AlarmSpec | None:
    if alarm.metric_data_queries or alarm.comparison_operator not in _EVALUABLE_OPS:
        return None
    if not alarm.metric_name or not alarm.namespace:
        return None
    m = alarm.datapoints_to_alarm
    return AlarmSpec(
        name=alarm.name,
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        threshold=float(alarm.threshold),
        comparison_operator=alarm.comparison_operator,
        statistic=alarm.statistic,
        extended_statistic=alarm.extended_statistic,
        datapoints_to_alarm=int(m) if m else None,
        dimensions=tuple(sorted((str(d.name), str(d.value)) for d in alarm.dimensions)),
        treat_missing_data=alarm.treat_missing_data or "missing",
        evaluate_low_sample_count_percentile=alarm.evaluate_low_sample_count_percentile
        or "evaluate",
        unit=alarm.unit,
    )


def _publish(arn: str, message: str, subject: str) -> tuple[bool, str]:
    """Publish to an SNS topic through moto's backend in-process (SQS subscribers receive it
    synchronously). Non-SNS actions are recorded as failed: the sandbox cannot run them."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "sns":
        return False, f"the sandbox runs SNS actions only, not {arn}"
    from moto.sns.models import sns_backends

    try:
        topic = sns_backends[parts[4]][parts[3]].get_topic(arn)
        topic.publish(message, subject=subject)
    except Exception as exc:  # missing topic: AWS records the action as failed too
        return False, f"{type(exc).__name__}: {exc}"
    return True, message
