"""The sandbox's control loops: alarm evaluation, notifications, CodeDeploy canaries and the
stack that wires them together.

`ControlLoops` is the component `core.Sandbox` starts after the data plane. It

1. hooks the CloudWatch and CodeDeploy APIs on the sandbox endpoint (`alarms.AlarmEngine`,
   `deployments.DeploymentController`),
2. provisions the stack — the seed's default (`serverless_stack.default_stack`) or the one a
   Serverless Framework file describes (`SandboxConfig(serverless_file=...)`) — through the
   endpoint's own API, and
3. starts the alarm loop.

Fast timing (default) values, overridable through `SandboxConfig.extra`:

=========================  ======  =========  =============================================
key                        fast    faithful   meaning
=========================  ======  =========  =============================================
alarm_period_s             2       60         Period of the default stack's alarms
alarm_evaluation_periods   2       2          EvaluationPeriods of those alarms
error_threshold            1       10         Errors Sum threshold of the error-rate alarms
metric_delay_s             0       60         datapoints younger than this are not evaluated
metric_publish_delay_s     0       60         a metric value reaches CloudWatch this late
                                              (GetMetricStatistics/Data and alarms; dataplane)
deploy_minute_s            1       60         seconds per "minute" of deployment configs
linear_interval            1       -          interval of the fast default linear config (s)
deploy_alarm_poll_s        0.05    10         how often a deployment reads its alarms
hook_timeout_s             10      3600       deadline for a lifecycle hook's status
=========================  ======  =========  =============================================

Fast timing also accepts alarm periods AWS rejects (any whole second >= 1); each such alarm
gets a ConfigurationUpdate history item saying so, and `ControlLoops.warnings` lists them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .alarms import AlarmEngine, AlarmSettings
from .deployments import DeploymentController, DeploymentSettings
from .errors import SandboxError
from .serverless_stack import StackSettings, StackSpec, default_stack, provision

if TYPE_CHECKING:
    from .core import Sandbox

__all__ = ["ControlLoops", "ControlSettings", "control_loops"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlSettings:
    alarms: AlarmSettings
    deployments: DeploymentSettings
    stack: StackSettings

    @classmethod
    def from_sandbox(cls, sandbox: Sandbox) -> ControlSettings:
        cfg = sandbox.config
        faithful = cfg.timing == "faithful"
        extra = cfg.extra

        def num(key: str, fast: float, slow: float) -> float:
            value = extra.get(key, slow if faithful else fast)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise SandboxError(f"SandboxConfig.extra[{key!r}] must be a number >= 0")
            return float(value)

        return cls(
            alarms=AlarmSettings(
                allow_short_periods=not faithful,
                metric_delay_s=num("metric_delay_s", 0.0, 60.0),
            ),
            deployments=DeploymentSettings(
                minute_s=num("deploy_minute_s", 1.0, 60.0),
                alarm_poll_s=max(0.01, num("deploy_alarm_poll_s", 0.05, 10.0)),
                hook_timeout_s=num("hook_timeout_s", 10.0, 3600.0),
                endpoint_url=sandbox.endpoint_url,
                clock_skew_s=sandbox.config.clock_skew_s,
            ),
            stack=StackSettings(
                faithful=faithful,
                alarm_period_s=max(1, int(num("alarm_period_s", 2, 60))),
                alarm_evaluation_periods=max(1, int(num("alarm_evaluation_periods", 2, 2))),
                error_threshold=num("error_threshold", 1.0, 10.0),
                linear_interval=max(1, int(num("linear_interval", 1, 1))),
            ),
        )


class ControlLoops:
    """Alarm evaluation, deployments and the seed's stack, as one sandbox component."""

    def __init__(self) -> None:
        self.alarms: AlarmEngine | None = None
        self.deployments: DeploymentController | None = None
        self.stack: StackSpec | None = None
        self.settings: ControlSettings | None = None
        self.stack_warnings: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """Everything the sandbox accepted that AWS would not, plus stack problems."""
        if self.alarms is not None:
            self.alarms.reconcile(self.alarms.clock())
        alarm_warnings = (
            [f"{w.alarm_name}: {w.message}" for w in self.alarms.warnings] if (self.alarms) else []
        )
        return [*self.stack_warnings, *alarm_warnings]

    def start(self, sandbox: Sandbox) -> None:
        cfg = sandbox.config
        self.settings = settings = ControlSettings.from_sandbox(sandbox)
        self.alarms = AlarmEngine(
            sandbox.truth,
            cfg.account_id,
            cfg.region,
            settings.alarms,
            pre_tick=_telemetry_flush(sandbox),
            clock=sandbox.clock.now,
            clock_skew_s=cfg.clock_skew_s,
        )
        self.alarms.install(sandbox.api)
        self.deployments = DeploymentController(
            sandbox.truth,
            cfg.account_id,
            cfg.region,
            settings.deployments,
            alias_changed=_watcher_poke(sandbox),
            alias_lock=_watcher_lock(sandbox),
        )
        self.deployments.install(sandbox.api)
        functions = _functions(cfg.account_id, cfg.region)
        clients = _clients(sandbox)
        if cfg.stack_file or cfg.serverless_file:
            from .stacks import sandbox_stack
            from .stacks.provision import provision_functions

            self.stack = sandbox_stack(cfg)
            self.stack_warnings = provision_functions(sandbox, self.stack, clients)
            functions = _functions(cfg.account_id, cfg.region)
        else:
            prefix = f"{cfg.service}-{cfg.stage}-"
            shorts = sorted(f[len(prefix) :] for f in functions if f.startswith(prefix))
            self.stack = default_stack(cfg.service, cfg.stage, settings.stack, shorts)
        self.stack_warnings += provision(self.stack, clients, functions)
        _install_cloudformation(sandbox, clients)
        self.alarms.start()

    def stop(self) -> None:
        if self.deployments is not None:
            self.deployments.stop()
        if self.alarms is not None:
            self.alarms.stop()


def control_loops(sandbox: Sandbox) -> ControlLoops:
    """The running sandbox's ControlLoops component (for tests and the CLI)."""
    for component in sandbox.components:
        if isinstance(component, ControlLoops):
            return component
    raise LookupError("this sandbox runs no control loops")


def _functions(account_id: str, region: str) -> set[str]:
    from moto.awslambda.models import lambda_backends

    return {fn.function_name for fn in lambda_backends[account_id][region].list_functions()}


def _watcher_poke(sandbox: Sandbox) -> Any:
    """The data plane's state-watcher poke: it records alias changes in the ground truth."""
    for component in sandbox.components:
        poke = getattr(getattr(component, "watcher", None), "poke", None)
        if callable(poke):
            return poke
    return None


def _watcher_lock(sandbox: Sandbox) -> Any:
    """The watcher's lock: holding it while an alias's version and weights change keeps the
    watcher from recording a half-change."""
    for component in sandbox.components:
        lock = getattr(getattr(component, "watcher", None), "lock", None)
        if lock is not None:
            return lock
    return None


def _telemetry_flush(sandbox: Sandbox) -> Any:
    """The data plane's metric flush, if it has one, so a tick sees every written value."""
    for component in sandbox.components:
        telemetry = getattr(component, "telemetry", None)
        flush = getattr(telemetry, "flush", None)
        if callable(flush):
            return flush
    return None


def _install_cloudformation(sandbox: Sandbox, clients: dict[str, Any]) -> None:
    """CreateStack and friends answered by the twin (stacks/cfn_service.py)."""
    from .stacks.cfn_service import CloudFormationTwin
    from .stacks.provision import provision_functions

    def create(spec: StackSpec) -> list[str]:
        cfg = sandbox.config
        made = provision_functions(sandbox, spec, clients, only=False)
        return made + provision(spec, clients, _functions(cfg.account_id, cfg.region))

    CloudFormationTwin(sandbox, lambda: clients, create).install()


class _Clients(dict[str, Any]):
    """The platform's boto3 clients, each made on first use (a default sandbox never needs
    the Lambda, IAM or SQS ones, and each costs a service-model load)."""

    def __init__(self, sandbox: Sandbox):
        super().__init__()
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._session: Any = None

    def __missing__(self, name: str) -> Any:
        import boto3

        with self._lock:
            if name not in self:
                if self._session is None:
                    self._session = boto3.session.Session(
                        aws_access_key_id="sandbox",
                        aws_secret_access_key="sandbox",
                        region_name=self._sandbox.config.region,
                    )
                client = self._session.client(name, endpoint_url=self._sandbox.endpoint_url)
                self[name] = client
            return dict.__getitem__(self, name)


def _clients(sandbox: Sandbox) -> dict[str, Any]:
    return _Clients(sandbox)
