"""CodeDeploy traffic shifting for Lambda, run for real on moto's state.

moto stores applications and deployment groups but never moves a deployment. This
controller takes over the deployment operations on the sandbox endpoint (CreateDeployment,
GetDeployment, BatchGetDeployments, ListDeployments, StopDeployment,
PutLifecycleEventHookExecutionStatus, Create/Get/List/DeleteDeploymentConfig, and
GetDeploymentGroup's alarmConfiguration) and runs each deployment in its own thread:

    Created -> InProgress -> BeforeAllowTraffic hook -> weights per the config (watching the
    group's alarms) -> alias flips to TargetVersion -> AfterAllowTraffic hook -> Succeeded

An alarm in ALARM stops it (`ALARM_ACTIVE`); with DEPLOYMENT_STOP_ON_ALARM (or
DEPLOYMENT_FAILURE for failures) in the auto-rollback configuration a *new* rollback
deployment restores the alias to CurrentVersion with no weights, linked through rollbackInfo.
Hooks are invoked through the sandbox endpoint's Lambda Invoke with AWS's event
({DeploymentId, LifecycleEventHookExecutionId}) and must report back with
PutLifecycleEventHookExecutionStatus within `hook_timeout_s`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from ..awsapi import ApiCall, AwsApi, aws_error
from ..truth import GroundTruth
from .appspec import AppSpec, AppSpecError, LambdaTarget, parse_appspec
from .configs import PREDEFINED, DeploymentConfig, traffic_steps

__all__ = ["DeploymentController", "DeploymentSettings"]

log = logging.getLogger(__name__)

_ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")
_ALARM_STOP_MESSAGE = (
    "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
    "selected, and the affected deployments have been stopped. Activated alarms: {names}"
)


@dataclass(frozen=True)
class DeploymentSettings:
    minute_s: float = 1.0  # seconds per AWS "minute" in deployment configs (60 = faithful)
    alarm_poll_s: float = 0.05  # how often a running deployment reads its alarms
    hook_timeout_s: float = 10.0  # AWS: 1 hour
    endpoint_url: str | None = None  # where hook functions are invoked
    clock_skew_s: float = 0.0  # AWS's clock minus the local one: API times are AWS's


class _Failure(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _Hook:
    execution_id: str
    event: str
    function: str
    status: str = "Pending"  # Pending | InProgress | Succeeded | Failed
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Deployment:
    id: str
    application: str
    group: str
    config: DeploymentConfig
    revision: dict[str, Any]
    creator: str
    create_time: float
    description: str | None
    auto_rollback: dict[str, Any]
    alarms: list[str]
    appspec: AppSpec | None = None
    status: str = "Created"
    start_time: float | None = None
    complete_time: float | None = None
    error: dict[str, str] | None = None
    rollback_info: dict[str, str] = field(default_factory=dict)
    hooks: dict[str, _Hook] = field(default_factory=dict)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    stop_rollback: bool | None = None
    shifted: bool = False

    def to_api(self) -> dict[str, object]:
        overview = {
            k: 0 for k in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
        }
        if self.status in ("Succeeded",):
            overview["Succeeded"] = 1
        elif self.status in ("Failed", "Stopped"):
            overview["Failed"] = 1
        elif self.status == "InProgress":
            overview["InProgress"] = 1
        else:
            overview["Pending"] = 1
        info: dict[str, object] = {
            "applicationName": self.application,
            "deploymentGroupName": self.group,
            "deploymentConfigName": self.config.name,
            "deploymentId": self.id,
            "revision": self.revision,
            "status": self.status,
            "createTime": self.create_time,
            "deploymentOverview": overview,
            "creator": self.creator,
            "computePlatform": "Lambda",
            "autoRollbackConfiguration": self.auto_rollback,
            "deploymentStyle": {
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        }
        if self.description:
            info["description"] = self.description
        if self.start_time is not None:
            info["startTime"] = self.start_time
        if self.complete_time is not None:
            info["completeTime"] = self.complete_time
        if self.error:
            info["errorInformation"] = self.error
        if self.rollback_info:
            info["rollbackInfo"] = self.rollback_info
        return info


class DeploymentController:
    """Runs CodeDeploy Lambda deployments against moto's aliases."""

    def __init__(
        self,
        truth: GroundTruth,
        account_id: str,
        region: str,
        settings: DeploymentSettings | None = None,
        alarm_state: Callable[[str], str | None] | None = None,
        alias_changed: Callable[[], None] | None = None,
        alias_lock: AbstractContextManager[Any] | None = None,
    ):
        self.truth = truth
        self.account_id = account_id
        self.region = region
        self.settings = settings or DeploymentSettings()
        self._alarm_state = alarm_state or self._moto_alarm_state
        # The data plane's watcher records alias changes (truth kind "alias") when poked;
        # without one the controller records them itself.
        self._alias_changed = alias_changed
        # Held while the version and weights change together, so a watcher never sees half.
        self._alias_lock: AbstractContextManager[Any] = alias_lock or nullcontext()
        self._lock = threading.RLock()
        self._deployments: dict[str, _Deployment] = {}
        self._configs: dict[str, DeploymentConfig] = {}
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------

    def install(self, api: AwsApi) -> None:
        api.intercept("codedeploy", self._intercept)

    def stop(self) -> None:
        self._closing.set()
        with self._lock:
            for dep in self._deployments.values():
                dep.stop_requested.set()
                for hook in dep.hooks.values():
                    hook.done.set()
            threads = list(self._threads)
        for t in threads:
            t.join(timeout=5)

    # -- moto access ---------------------------------------------------------------------

    def _codedeploy(self) -> Any:
        from moto.codedeploy.models import codedeploy_backends

        return codedeploy_backends[self.account_id][self.region]

    def _lambda(self) -> Any:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[self.account_id][self.region]

    def _moto_alarm_state(self, name: str) -> str | None:
        from moto.cloudwatch.models import cloudwatch_backends

        alarm = cloudwatch_backends[self.account_id][self.region].alarms.get(name)
        return None if alarm is None else str(alarm.state_value)

    def add_past_deployment(
        self, application: str, group: str, status: str, create_time: float
    ) -> str:
        """A deployment that finished before the sandbox started (another team's history in
        a shared account): listed and described, never run."""
        config = self.config("CodeDeployDefault.LambdaAllAtOnce")
        assert config is not None
        dep = _Deployment(
            id="d-" + uuid.uuid4().hex[:9].upper(),
            application=application,
            group=group,
            config=config,
            revision={},
            creator="user",
            create_time=create_time,
            description=None,
            auto_rollback={},
            alarms=[],
            status=status,
            start_time=create_time + 1,
            complete_time=create_time + 60,
        )
        with self._lock:
            self._deployments[dep.id] = dep
        return dep.id

    def config(self, name: str) -> DeploymentConfig | None:
        return PREDEFINED.get(name) or self._configs.get(name)

    def add_config(self, config: DeploymentConfig) -> None:
        with self._lock:
            self._configs[config.name] = config

    # -- public Python view (tests, CLI) -------------------------------------------------

    def get(self, deployment_id: str) -> dict[str, object]:
        with self._lock:
            return self._deployments[deployment_id].to_api()

    def pending_hooks(self, deployment_id: str) -> list[tuple[str, str, str]]:
        """(execution id, event, function) of hooks still waiting for their status."""
        with self._lock:
            dep = self._deployments[deployment_id]
            return [
                (h.execution_id, h.event, h.function)
                for h in dep.hooks.values()
                if h.status in ("Pending", "InProgress")
            ]

    # -- creating ------------------------------------------------------------------------

    def create(
        self,
        application: str,
        group: str,
        revision: dict[str, Any],
        *,
        config_name: str | None = None,
        description: str | None = None,
        auto_rollback: Mapping[str, Any] | None = None,
        override_alarms: Mapping[str, Any] | None = None,
        creator: str = "user",
        rollback_of: _Deployment | None = None,
    ) -> _Deployment:
        cd = self._codedeploy()
        if not application:
            raise _Failure("ApplicationNameRequiredException", "Application name is required.")
        if application not in cd.applications:
            raise _Failure(
                "ApplicationDoesNotExistException",
                f"The application {application} does not exist with the user or AWS account.",
            )
        if not group:
            raise _Failure(
                "DeploymentGroupNameRequiredException", "Deployment group name is required."
            )
        dg = cd.deployment_groups.get(application, {}).get(group)
        if dg is None:
            raise _Failure(
                "DeploymentGroupDoesNotExistException",
                f"The deployment group {group} does not exist with the user or AWS account.",
            )
        if cd.applications[application].compute_platform != "Lambda":
            raise _Failure(
                "InvalidComputePlatformException",
                "The sandbox runs deployments for the Lambda compute platform only.",
            )
        name = config_name or str(dg.deployment_config_name or "")
        if name in ("", "CodeDeployDefault.OneAtATime", "None"):
            name = "CodeDeployDefault.LambdaAllAtOnce"
        config = self.config(name)
        if config is None:
            raise _Failure(
                "DeploymentConfigDoesNotExistException",
                f"The deployment configuration {name} does not exist.",
            )
        if not revision:
            raise _Failure("RevisionRequiredException", "Revision is required.")
        try:
            appspec = parse_appspec(revision)
        except AppSpecError as exc:
            raise _Failure("InvalidRevisionException", f"The AppSpec is invalid: {exc}") from None
        alarm_cfg = dict(override_alarms or (dg.alarm_configuration or {}))
        alarms = (
            [str(a["name"]) for a in alarm_cfg.get("alarms", [])]
            if alarm_cfg.get("enabled")
            else []
        )
        rollback_cfg = dict(auto_rollback or dg.auto_rollback_configuration or {})
        dep = _Deployment(
            id="d-" + uuid.uuid4().hex[:9].upper(),
            application=application,
            group=group,
            config=config,
            revision=dict(revision),
            creator=creator,
            create_time=time.time() + self.settings.clock_skew_s,
            description=description,
            auto_rollback=rollback_cfg,
            alarms=alarms,
            appspec=appspec,
        )
        with self._lock:
            # One active deployment per group, as AWS: CreateDeployment answers
            # DeploymentLimitExceededException "The Deployment Group 'G' already has an
            # active Deployment 'd-…'" (seen in the wild, e.g. CircleCI-Public/aws-ecs-orb
            # #181). The group's own automatic rollback is started while the deployment it
            # rolls back is still active, and is exempt.
            for other in self._deployments.values():
                if (
                    other.application == application
                    and other.group == group
                    and other.status in _ACTIVE
                    and other is not rollback_of
                ):
                    raise _Failure(
                        "DeploymentLimitExceededException",
                        f"The Deployment Group '{group}' already has an active Deployment "
                        f"'{other.id}'",
                    )
            self._deployments[dep.id] = dep
            self.truth.record(
                "deployment",
                dep.id,
                at=dep.create_time - self.settings.clock_skew_s,  # truth: the local clock
                status="Created",
                group=group,
                creator=creator,
            )
            if rollback_of is not None:
                dep.rollback_info = {
                    "rollbackTriggeringDeploymentId": rollback_of.id,
                    "rollbackMessage": f"Deployment {dep.id} is a rollback of {rollback_of.id}.",
                }
            thread = threading.Thread(
                target=self._run, args=(dep,), daemon=True, name=f"sandbox-deploy-{dep.id}"
            )
            self._threads.append(thread)
        thread.start()
        return dep

    # -- running -------------------------------------------------------------------------

    def _status(self, dep: _Deployment, status: str, **detail: object) -> None:
        now = time.time()
        aws_now = now + self.settings.clock_skew_s
        with self._lock:
            dep.status = status
            if status == "InProgress" and dep.start_time is None:
                dep.start_time = aws_now
            if status in ("Succeeded", "Failed", "Stopped"):
                dep.complete_time = aws_now
            self.truth.record(
                "deployment", dep.id, at=now, status=status, group=dep.group, **detail
            )

    def _run(self, dep: _Deployment) -> None:
        try:
            self._status(dep, "InProgress")
            assert dep.appspec is not None
            target = dep.appspec.target
            self._validate_target(target, strict=dep.creator != "codeDeployRollback")
            self._check(dep)
            if dep.appspec.before_allow_traffic:
                self._run_hook(dep, "BeforeAllowTraffic", dep.appspec.before_allow_traffic)
            for step in traffic_steps(dep.config, self.settings.minute_s):
                self._check(dep)
                self._route(target, target.current_version, {target.target_version: step.weight})
                dep.shifted = True
                self._hold(dep, step.hold_s)
            self._check(dep)
            self._route(target, target.target_version, {})
            dep.shifted = True
            if dep.appspec.after_allow_traffic:
                self._run_hook(dep, "AfterAllowTraffic", dep.appspec.after_allow_traffic)
            self._status(dep, "Succeeded")
        except _Failure as exc:
            self._finish_failed(dep, exc)
        except Exception as exc:  # never leave a deployment InProgress forever
            log.exception("deployment %s crashed", dep.id)
            self._finish_failed(dep, _Failure("INTERNAL_ERROR", str(exc)))

    def _finish_failed(self, dep: _Deployment, exc: _Failure) -> None:
        if self._closing.is_set() and exc.code == "MANUAL_STOP":
            return
        stopped = exc.code in ("ALARM_ACTIVE", "MANUAL_STOP")
        with self._lock:
            dep.error = {"code": exc.code, "message": exc.message}
        events = (
            set(dep.auto_rollback.get("events", [])) if dep.auto_rollback.get("enabled") else set()
        )
        if exc.code == "ALARM_ACTIVE":
            roll = "DEPLOYMENT_STOP_ON_ALARM" in events
        elif exc.code == "MANUAL_STOP":
            roll = bool(dep.stop_rollback)
        else:
            roll = "DEPLOYMENT_FAILURE" in events and dep.shifted
        # The rollback is linked before the status is: a GetDeployment that sees Stopped
        # also sees rollbackInfo (as the stopped deployment's record shows it).
        if roll and dep.creator != "codeDeployRollback" and not self._closing.is_set():
            self._start_rollback(dep)
        self._status(dep, "Stopped" if stopped else "Failed", error=exc.code)

    def _start_rollback(self, dep: _Deployment) -> None:
        assert dep.appspec is not None
        t = dep.appspec.target
        content = json.dumps(
            {
                "version": 0.0,
                "Resources": [
                    {
                        t.function: {
                            "Type": "AWS::Lambda::Function",
                            "Properties": {
                                "Name": t.function,
                                "Alias": t.alias,
                                "CurrentVersion": t.target_version,
                                "TargetVersion": t.current_version,
                            },
                        }
                    }
                ],
            }
        )
        revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}
        rollback = self.create(
            dep.application,
            dep.group,
            revision,
            config_name="CodeDeployDefault.LambdaAllAtOnce",
            auto_rollback={"enabled": False},
            override_alarms={"enabled": False},
            creator="codeDeployRollback",
            rollback_of=dep,
        )
        with self._lock:
            dep.rollback_info = {
                "rollbackDeploymentId": rollback.id,
                "rollbackMessage": f"Automatic rollback triggered: deployment {rollback.id} "
                f"restores {t.function}:{t.alias} to version {t.current_version}.",
            }

    def _validate_target(self, t: LambdaTarget, *, strict: bool = True) -> None:
        lam = self._lambda()
        try:
            lam.get_function(t.function)
        except Exception:
            raise _Failure(
                "INVALID_LAMBDA_FUNCTION", f"The Lambda function {t.function} does not exist."
            ) from None
        try:
            alias = lam.get_alias(t.alias, t.function)
        except Exception:
            raise _Failure(
                "INVALID_LAMBDA_CONFIGURATION",
                f"The alias {t.alias} does not exist for Lambda function {t.function}.",
            ) from None
        for label, version in (
            ("CurrentVersion", t.current_version),
            ("TargetVersion", t.target_version),
        ):
            if version == "$LATEST" or not self._version_exists(t.function, version):
                raise _Failure(
                    "INVALID_LAMBDA_CONFIGURATION",
                    f"The {label} {version} of Lambda function {t.function} does not exist "
                    "or is not a published version.",
                )
        # a rollback starts mid-shift: the alias may still be on either version
        if strict and str(alias.function_version) != t.current_version:
            raise _Failure(
                "INVALID_LAMBDA_CONFIGURATION",
                f"The alias {t.alias} of Lambda function {t.function} points to version "
                f"{alias.function_version}, not the AppSpec's CurrentVersion {t.current_version}.",
            )

    def _version_exists(self, function: str, version: str) -> bool:
        try:
            fn = self._lambda().get_function(function, version)
        except Exception:
            return False
        return str(getattr(fn, "version", version)) == version

    def _route(self, t: LambdaTarget, version: str, weights: Mapping[str, float]) -> None:
        alias = self._lambda().get_alias(t.alias, t.function)
        routing = {"AdditionalVersionWeights": dict(weights)} if weights else {}
        with self._lock:
            with self._alias_lock:
                alias.function_version = version
                alias.routing_config = routing
                alias.revision_id = str(uuid.uuid4())
            if self._alias_changed is not None:
                self._alias_changed()
            else:
                self.truth.record(
                    "alias", f"{t.function}:{t.alias}", version=version, weights=dict(weights)
                )

    def _check(self, dep: _Deployment) -> None:
        if dep.stop_requested.is_set():
            raise _Failure("MANUAL_STOP", "The deployment was stopped by the user.")
        firing = [a for a in dep.alarms if self._alarm_state(a) == "ALARM"]
        if firing:
            raise _Failure("ALARM_ACTIVE", _ALARM_STOP_MESSAGE.format(names=", ".join(firing)))

    def _hold(self, dep: _Deployment, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if dep.stop_requested.wait(min(left, self.settings.alarm_poll_s)):
                break
            self._check(dep)
        self._check(dep)

    def _run_hook(self, dep: _Deployment, event: str, function: str) -> None:
        hook = _Hook(uuid.uuid4().hex, event, function, status="InProgress")
        with self._lock:
            dep.hooks[hook.execution_id] = hook
        threading.Thread(target=self._invoke_hook, args=(dep, hook), daemon=True).start()
        deadline = time.monotonic() + self.settings.hook_timeout_s
        while not hook.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            hook.done.wait(min(left, self.settings.alarm_poll_s))
            self._check(dep)
        if hook.status != "Succeeded":
            detail = "timed out" if hook.status == "InProgress" else "reported Failed"
            raise _Failure("HOOK_EXECUTION_FAILURE", f"The {event} hook {function} {detail}.")

    def _invoke_hook(self, dep: _Deployment, hook: _Hook) -> None:
        if not self.settings.endpoint_url:
            return
        try:
            import boto3

            client = boto3.client(
                "lambda",
                endpoint_url=self.settings.endpoint_url,
                region_name=self.region,
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",
            )
            client.invoke(
                FunctionName=hook.function,
                InvocationType="RequestResponse",
                Payload=json.dumps(
                    {"DeploymentId": dep.id, "LifecycleEventHookExecutionId": hook.execution_id}
                ),
            )
        except Exception as exc:  # the hook then times out, as on AWS when it never reports
            log.warning("could not invoke hook %s for %s: %s", hook.function, dep.id, exc)

    # -- the CodeDeploy API --------------------------------------------------------------

    def _intercept(self, call: ApiCall) -> Response | None:
        handler = {
            "CreateDeployment": self._api_create,
            "GetDeployment": self._api_get,
            "BatchGetDeployments": self._api_batch_get,
            "ListDeployments": self._api_list,
            "StopDeployment": self._api_stop,
            "PutLifecycleEventHookExecutionStatus": self._api_hook_status,
            "GetDeploymentConfig": self._api_get_config,
            "CreateDeploymentConfig": self._api_create_config,
            "ListDeploymentConfigs": self._api_list_configs,
            "DeleteDeploymentConfig": self._api_delete_config,
            "GetDeploymentGroup": self._api_get_group,
        }.get(call.operation or "")
        if handler is None:
            return None
        try:
            return _ok(handler(call.params()))
        except _Failure as exc:
            return aws_error(call, 400, exc.code, exc.message)

    def _api_create(self, p: dict[str, Any]) -> object:
        dep = self.create(
            str(p.get("applicationName") or ""),
            str(p.get("deploymentGroupName") or ""),
            p.get("revision") or {},
            config_name=p.get("deploymentConfigName"),
            description=p.get("description"),
            auto_rollback=p.get("autoRollbackConfiguration"),
            override_alarms=p.get("overrideAlarmConfiguration"),
        )
        return {"deploymentId": dep.id}

    def _find(self, deployment_id: object) -> _Deployment:
        if not deployment_id:
            raise _Failure("DeploymentIdRequiredException", "Deployment ID is required.")
        dep = self._deployments.get(str(deployment_id))
        if dep is None:
            raise _Failure(
                "DeploymentDoesNotExistException",
                f"The deployment {deployment_id} could not be found.",
            )
        return dep

    def group_of(self, deployment_id: str) -> tuple[str, str] | None:
        """(application, deployment group) of a deployment: what IAM authorizes it on."""
        with self._lock:
            dep = self._deployments.get(deployment_id)
            return None if dep is None else (dep.application, dep.group)

    def _api_get(self, p: dict[str, Any]) -> object:
        with self._lock:
            return {"deploymentInfo": self._find(p.get("deploymentId")).to_api()}

    def _api_batch_get(self, p: dict[str, Any]) -> object:
        with self._lock:
            infos = [
                self._deployments[i].to_api()
                for i in p.get("deploymentIds", [])
                if i in self._deployments
            ]
        return {"deploymentsInfo": infos}

    def _api_list(self, p: dict[str, Any]) -> object:
        app, group = p.get("applicationName"), p.get("deploymentGroupName")
        if app and not group:
            raise _Failure(
                "DeploymentGroupNameRequiredException",
                "If applicationName is specified, then deploymentGroupName must be specified.",
            )
        statuses = set(p.get("includeOnlyStatuses") or [])
        rng = p.get("createTimeRange") or {}
        with self._lock:
            deps = sorted(self._deployments.values(), key=lambda d: d.create_time, reverse=True)
            ids = [
                d.id
                for d in deps
                if (not app or d.application == app)
                and (not group or d.group == group)
                and (not statuses or d.status in statuses)
                and ("start" not in rng or d.create_time >= float(rng["start"]))
                and ("end" not in rng or d.create_time <= float(rng["end"]))
            ]
        # AWS answers 100 deployments a page with an opaque nextToken (moto: all at once)
        from ..pagination import page, token_offset

        scope = f"ListDeployments:{app}:{group}:{sorted(statuses)}:{sorted(rng.items())}"
        offset = token_offset(p.get("nextToken"), scope)
        if offset is None:
            raise _Failure(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            )
        chunk, token = page(ids, offset, 100, scope)
        return {"deployments": chunk, **({"nextToken": token} if token else {})}

    def _api_stop(self, p: dict[str, Any]) -> object:
        with self._lock:
            dep = self._find(p.get("deploymentId"))
            if dep.status not in _ACTIVE:
                raise _Failure(
                    "DeploymentAlreadyCompletedException",
                    f"The deployment {dep.id} has already completed.",
                )
            dep.stop_rollback = bool(p.get("autoRollbackEnabled"))
            dep.stop_requested.set()
            for hook in dep.hooks.values():
                hook.done.set()
        return {"status": "Pending", "statusMessage": "Stopping the deployment."}

    def _api_hook_status(self, p: dict[str, Any]) -> object:
        status = p.get("status")
        if status not in ("Succeeded", "Failed"):
            raise _Failure(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"Invalid lifecycle event hook execution status {status!r}.",
            )
        with self._lock:
            dep = self._find(p.get("deploymentId"))
            hook = dep.hooks.get(str(p.get("lifecycleEventHookExecutionId")))
            if hook is None:
                raise _Failure(
                    "InvalidLifecycleEventHookExecutionIdException",
                    "The lifecycle event hook execution ID is not valid.",
                )
            if hook.status in ("Succeeded", "Failed"):
                raise _Failure(
                    "LifecycleEventAlreadyCompletedException",
                    "The lifecycle event has already completed.",
                )
            hook.status = str(status)
            hook.done.set()
        return {"lifecycleEventHookExecutionId": hook.execution_id}

    def _api_get_config(self, p: dict[str, Any]) -> object:
        name = str(p.get("deploymentConfigName") or "")
        config = self.config(name)
        if config is None:
            raise _Failure(
                "DeploymentConfigDoesNotExistException",
                f"The deployment configuration {name} does not exist.",
            )
        return {"deploymentConfigInfo": config.to_api()}

    def _api_create_config(self, p: dict[str, Any]) -> object:
        name = str(p.get("deploymentConfigName") or "")
        if not name:
            raise _Failure(
                "DeploymentConfigNameRequiredException", "Deployment config name is required."
            )
        if self.config(name) is not None:
            raise _Failure(
                "DeploymentConfigAlreadyExistsException",
                f"The deployment configuration {name} already exists.",
            )
        routing = p.get("trafficRoutingConfig") or {}
        config = DeploymentConfig.from_routing(
            name, routing, time.time() + self.settings.clock_skew_s
        )
        if config is None:
            raise _Failure(
                "InvalidTrafficRoutingConfigurationException",
                f"Unknown traffic routing type {routing.get('type')!r}.",
            )
        if config.type != "AllAtOnce" and not (
            0 < config.percentage < 100 and config.interval_minutes > 0
        ):
            raise _Failure(
                "InvalidTrafficRoutingConfigurationException",
                "Percentage must be 1-99 and the interval at least 1.",
            )
        self.add_config(config)
        return {"deploymentConfigId": config.to_api()["deploymentConfigId"]}

    def _api_list_configs(self, p: dict[str, Any]) -> object:
        return {"deploymentConfigsList": sorted([*PREDEFINED, *self._configs])}

    def _api_delete_config(self, p: dict[str, Any]) -> object:
        name = str(p.get("deploymentConfigName") or "")
        if name in PREDEFINED:
            raise _Failure(
                "InvalidOperationException",
                "Predefined deployment configurations cannot be deleted.",
            )
        with self._lock:
            self._configs.pop(name, None)
        return {}

    def _api_get_group(self, p: dict[str, Any]) -> object:
        from ..moto_adapter import deployment_group_info

        cd = self._codedeploy()
        app, group = str(p.get("applicationName") or ""), str(p.get("deploymentGroupName") or "")
        if app not in cd.applications:
            raise _Failure(
                "ApplicationDoesNotExistException",
                f"The application {app} does not exist with the user or AWS account.",
            )
        dg = cd.deployment_groups.get(app, {}).get(group)
        if dg is None:
            raise _Failure(
                "DeploymentGroupDoesNotExistException",
                f"The deployment group {group} does not exist with the user or AWS account.",
            )
        info = deployment_group_info(dg)
        info["alarmConfiguration"] = dg.alarm_configuration or {}
        info = {k: v for k, v in info.items() if v is not None}
        return {"deploymentGroupInfo": info}


def _ok(body: object) -> Response:
    return Response(
        json.dumps(body, default=_default), status=200, content_type="application/x-amz-json-1.1"
    )


def _default(o: object) -> object:
    from datetime import UTC, datetime

    if isinstance(o, datetime):
        return (o if o.tzinfo else o.replace(tzinfo=UTC)).timestamp()
    return str(o)
