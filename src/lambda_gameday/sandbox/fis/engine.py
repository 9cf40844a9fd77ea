"""The twin's FIS experiments: status progression, action timing, stop conditions and the
configuration objects FIS writes for the Lambda extension.

moto (>= 5.2.3) stores templates and experiments but steps their status per describe call,
injects nothing and never evaluates a stop condition; this engine owns each experiment's
state from StartExperiment on, and `api.py` overlays it on moto's stored record.

Status progression (docs.aws.amazon.com/fis/latest/APIReference/API_ExperimentState.html):
pending -> initiating -> running -> completed | stopping -> stopped | failed. An
experiment ends when its actions complete, a stop condition alarm enters ALARM, an action
cannot run (e.g. a target cannot be resolved) or it is stopped by hand
(docs.aws.amazon.com/fis/latest/userguide/experiments.html). The reason strings below are
modelled: AWS does not document them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..runtime import LambdaState
from ..ticker import Ticker
from ..truth import GroundTruth
from .access import role_allows, trusts_fis
from .model import FisAction, LambdaFault, TemplateSpec, config_object, parse_function_arn
from .store import ConfigLocation, S3Store, parse_location

__all__ = ["ExperimentRun", "FisEngine"]

Status = Literal[
    "pending", "initiating", "running", "completed", "stopping", "stopped", "failed", "cancelled"
]
ActionStatus = Literal[
    "pending", "initiating", "running", "completed", "cancelled", "stopping", "stopped",
    "failed", "skipped",
]  # fmt: skip
TERMINAL: frozenset[str] = frozenset({"completed", "stopped", "failed", "cancelled"})

REASONS: dict[str, str] = {
    "pending": "Experiment is pending.",
    "initiating": "Experiment is initiating.",
    "running": "Experiment is running.",
    "completed": "Experiment completed.",
    "stopping": "Experiment is stopping.",
    "stopped": "Experiment stopped.",
}


@dataclass
class ActionRun:
    spec: FisAction
    status: ActionStatus = "pending"
    started_at: float | None = None  # AWS clock
    ended_at: float | None = None


@dataclass
class ExperimentRun:
    id: str
    template: TemplateSpec
    skip_all: bool
    actions: dict[str, ActionRun]
    status: Status = "pending"
    reason: str = REASONS["pending"]
    error_code: str | None = None
    end_time: float | None = None  # AWS clock
    stop_requested: str | None = None  # the reason, once a stop is due
    # (bucket, key) of every configuration object this experiment has written and not removed
    written: set[tuple[str, str]] = field(default_factory=set)
    locations: dict[str, ConfigLocation] = field(default_factory=dict)  # target ARN -> where

    def state(self) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status, "reason": self.reason}
        if self.error_code is not None:
            out["error"] = {"code": self.error_code}
        return out


class FisEngine:
    """Runs experiments on a background thread, one tick every `tick_s`."""

    def __init__(
        self,
        account_id: str,
        region: str,
        truth: GroundTruth,
        aws_now: Callable[[], float],
        tick_s: float = 0.05,
        on_config_change: Callable[[], None] | None = None,
    ):
        self.account_id, self.region = account_id, region
        self.truth = truth
        self.aws_now = aws_now
        self.tick_s = tick_s
        self.lambdas = LambdaState(account_id, region)
        self.s3 = S3Store(account_id)
        self.runs: dict[str, ExperimentRun] = {}
        self._lock = threading.RLock()
        self._ticker = Ticker("sandbox-fis", self.tick, lambda: self.tick_s)
        self._on_config_change = on_config_change

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    # -- API ------------------------------------------------------------------------------

    def begin(self, experiment_id: str, template: TemplateSpec, skip_all: bool) -> ExperimentRun:
        run = ExperimentRun(
            experiment_id,
            template,
            skip_all,
            {a.name: ActionRun(a) for a in template.actions},
        )
        with self._lock:
            self.runs[experiment_id] = run
        self._record(run)
        return run

    def request_stop(self, experiment_id: str, reason: str) -> ExperimentRun | None:
        with self._lock:
            run = self.runs.get(experiment_id)
            if run is None or run.status in TERMINAL:
                return run
            if run.stop_requested is None:
                run.stop_requested = reason
                self._set(run, "stopping", REASONS["stopping"])
            return run

    def get(self, experiment_id: str) -> ExperimentRun | None:
        with self._lock:
            return self.runs.get(experiment_id)

    # -- the state machine --------------------------------------------------------------

    def tick(self) -> None:
        with self._lock:
            for run in list(self.runs.values()):
                if run.status not in TERMINAL:
                    self._step(run)

    def _step(self, run: ExperimentRun) -> None:
        now = self.aws_now()
        if run.status == "pending":
            self._set(run, "initiating", REASONS["initiating"])
            return
        if run.status == "initiating":
            problem = self._preconditions(run)
            if problem is not None:
                self._fail(run, *problem)
                return
            self._set(run, "running", REASONS["running"])
        if run.status == "stopping":
            self._end_actions(run, "stopped", now)
            self._set(run, "stopped", run.stop_requested or REASONS["stopped"])
            return
        alarm = self._alarm_firing(run)
        if alarm is not None:
            reason = f"Experiment stopped by stop condition: {alarm} entered ALARM."
            run.stop_requested = reason
            self._set(run, "stopping", REASONS["stopping"])
            self._end_actions(run, "stopped", now)
            self._set(run, "stopped", reason)
            return
        self._advance_actions(run, now)
        if all(a.status in ("completed", "skipped") for a in run.actions.values()):
            self._set(run, "completed", REASONS["completed"])

    def _preconditions(self, run: ExperimentRun) -> tuple[str, str] | None:
        role = run.template.role_arn
        if not trusts_fis(self.account_id, role):
            return (
                "InvalidExperimentRole",
                f"Role {role} does not exist or does not trust fis.amazonaws.com.",
            )
        alarms = {a.alarm_arn: a for a in self._alarms()}
        for arn in run.template.alarm_arns:
            alarm = alarms.get(arn)
            if alarm is None:
                return "StopConditionNotFound", f"Stop condition alarm {arn} does not exist."
            if alarm.state_value == "ALARM":
                return (
                    "StopConditionInAlarm",
                    f"Experiment could not start: stop condition {arn} is in ALARM.",
                )
        for arns in run.template.targets.values():
            for arn in arns:
                target = parse_function_arn(arn)
                fobj = None if target is None else self._function(target.name, target.qualifier)
                if target is None or fobj is None:
                    return "TargetResolutionFailed", f"Target {arn} could not be resolved."
                if run.skip_all:
                    continue
                env = dict(fobj.environment_vars or {})
                location = parse_location(env.get("AWS_FIS_CONFIGURATION_LOCATION"))
                if location is None:
                    return (
                        "InvalidTarget",
                        f"Target {arn} has no valid AWS_FIS_CONFIGURATION_LOCATION.",
                    )
                if not self.s3.bucket_exists(location.bucket):
                    return (
                        "ConfigurationWriteFailed",
                        f"Bucket {location.bucket} of {arn} does not exist.",
                    )
                key_arn = f"arn:aws:s3:::{location.bucket}/{location.prefix}{run.id}/x.json"
                if not role_allows(self.account_id, role, "s3:PutObject", key_arn):
                    return (
                        "ConfigurationWriteFailed",
                        f"Role {role} may not s3:PutObject under "
                        f"arn:aws:s3:::{location.bucket}/{location.prefix}.",
                    )
                run.locations[arn] = location
        return None

    def _function(self, name: str, qualifier: str | None) -> Any | None:
        if qualifier is None:
            return self.lambdas.latest(name)
        alias = self.lambdas.alias(name, qualifier)
        version = str(alias.function_version) if alias is not None else qualifier
        return self.lambdas.version(name, version)

    def _alarms(self) -> list[Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        return list(cloudwatch_backends[self.account_id][self.region].describe_alarms())

    def _alarm_firing(self, run: ExperimentRun) -> str | None:
        if not run.template.alarm_arns:
            return None
        wanted = set(run.template.alarm_arns)
        for alarm in self._alarms():
            if alarm.alarm_arn in wanted and alarm.state_value == "ALARM":
                return str(alarm.alarm_arn)
        return None

    def _advance_actions(self, run: ExperimentRun, now: float) -> None:
        changed = False
        for action in run.actions.values():
            started = action.started_at
            if (
                action.status == "running"
                and started is not None
                and now - started >= action.spec.duration_s
            ):
                action.status, action.ended_at = "completed", now
                changed = True
        for action in run.actions.values():
            if action.status != "pending":
                continue
            before = [run.actions[n] for n in action.spec.start_after]
            if all(b.status in ("completed", "skipped") for b in before):
                action.started_at = now
                action.status = "skipped" if run.skip_all else "running"
                if run.skip_all:
                    action.ended_at = now
                changed = True
        if changed and not run.skip_all:
            self._write_configs(run)

    def _end_actions(self, run: ExperimentRun, status: ActionStatus, now: float) -> None:
        for action in run.actions.values():
            if action.status in ("pending", "initiating"):
                action.status = "cancelled"
            elif action.status == "running":
                action.status, action.ended_at = status, now
        self._write_configs(run)

    def _fail(self, run: ExperimentRun, code: str, reason: str) -> None:
        run.error_code = code
        self._end_actions(run, "failed", self.aws_now())
        self._set(run, "failed", reason)

    # -- configuration objects -----------------------------------------------------------

    def _write_configs(self, run: ExperimentRun) -> None:
        """Write one object per experiment and function listing its running actions; remove
        it when none runs (FIS removes its configuration when an action ends)."""
        per_object: dict[tuple[str, str], list[LambdaFault]] = {}
        for action in run.actions.values():
            for tname in action.spec.targets:
                for arn in run.template.targets[tname]:
                    location = run.locations.get(arn)
                    target = parse_function_arn(arn)
                    if location is None or target is None:
                        continue
                    obj = (location.bucket, f"{location.prefix}{run.id}/{target.name}.json")
                    faults = per_object.setdefault(obj, [])
                    if action.status == "running" and action.started_at is not None:
                        faults.append(
                            LambdaFault(
                                run.id,
                                action.spec.name,
                                action.spec.kind,
                                arn,
                                action.started_at,
                                action.spec.invocation_percentage,
                                action.spec.delay_ms,
                                action.spec.prevent_execution,
                                action.spec.status_code,
                                action.spec.content_type,
                            )
                        )
        for (bucket, key), faults in per_object.items():
            subject = key.rsplit("/", 1)[-1].removesuffix(".json")
            if faults:
                self.s3.put(bucket, key, config_object(faults))
                if (bucket, key) not in run.written:
                    run.written.add((bucket, key))
                    self.truth.record(
                        "fault", subject, event="fis-config-written", experiment=run.id, key=key
                    )
            elif (bucket, key) in run.written:
                self.s3.delete(bucket, key)
                run.written.discard((bucket, key))
                self.truth.record(
                    "fault", subject, event="fis-config-removed", experiment=run.id, key=key
                )
        if self._on_config_change is not None:
            self._on_config_change()

    # -- bookkeeping -----------------------------------------------------------------------

    def _set(self, run: ExperimentRun, status: Status, reason: str) -> None:
        run.status, run.reason = status, reason
        if status in TERMINAL:
            run.end_time = self.aws_now()
        self._record(run)

    def _record(self, run: ExperimentRun) -> None:
        self.truth.record(
            "experiment", run.id, at=time.time(), status=run.status, reason=run.reason
        )
