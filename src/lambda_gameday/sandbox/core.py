"""The Sandbox: a local twin of the platform, started and stopped as one context manager.

    with Sandbox() as sb:
        sb.api_url        # http://127.0.0.1:<port>   the API Gateway stage
        sb.endpoint_url   # http://127.0.0.1:<port>   AWS_ENDPOINT_URL for boto3 / aws / chaos
        sb.truth          # GroundTruth of every fault, alarm, alias and deployment change

It is made of components, each started in order and stopped in reverse: the AWS API
(moto plus interceptors), the data plane (gateway, execution environments, metrics and
logs, dependencies) and the control loops (alarm evaluation, deployments). The sandbox
never imports harness code; the harness reaches it only through boto3 and HTTP.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .awsapi import AwsApi
from .clock import AwsClock
from .errors import SandboxError
from .iam import IamEnforcer, IamPolicy
from .pagination import Paginator
from .rate_limits import RateLimiter
from .relaxations import RELAXATIONS, legacy_from_env
from .truth import GroundTruth

if TYPE_CHECKING:
    from .dataplane import DataPlane
    from .gateway import Route

__all__ = ["Sandbox", "SandboxConfig", "SandboxError"]

Timing = Literal["fast", "faithful"]


@dataclass(frozen=True)
class SandboxConfig:
    """How the twin is built. `timing="fast"` shortens alarm periods and canary intervals
    (and says so); `"faithful"` uses the seed's exact values."""

    host: str = "127.0.0.1"
    aws_port: int = 0  # 0: pick a free port
    api_port: int = 0
    stage: str = "dev"
    service: str = "hasivu"
    region: str = "ap-south-1"
    account_id: str = "123456789012"
    timing: Timing = "fast"
    init_duration_ms: float = 150.0  # cold-start cost paid by a new execution environment
    idle_expiry_s: float = 300.0  # an idle environment is reclaimed after this long
    seed: int = 0  # seeds alias weighted routing and fault probabilities
    serverless_file: str | None = None  # alias of stack_file (older name)
    stack_file: str | None = None  # build the stack from a SAM, CloudFormation or Serverless file
    stack_parameters: Mapping[str, str] = field(default_factory=dict)  # template overrides
    extra: dict[str, object] = field(default_factory=dict)
    # function name -> handler(event, context), registered on $LATEST at start
    handlers: Mapping[str, Callable[[dict[str, Any], Any], Any]] = field(default_factory=dict)
    integration_timeout_s: float = 29.0  # API Gateway's integration timeout (504 past it)
    # Temporary, named relaxations of AWS's refusals (see relaxations.py); strict = empty.
    legacy: frozenset[str] = field(default_factory=legacy_from_env)
    # AWS's clock runs this many seconds ahead of the local one (negative: behind).
    clock_skew_s: float = 0.0
    # Other teams' functions, alarms and deployment groups share the account.
    shared_account: bool = False
    # IAM enforcing mode: callers hold only this identity policy (a JSON file; see iam.py).
    iam_policy: str | None = None

    def __post_init__(self) -> None:
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise SandboxError(f"the sandbox binds to loopback only, not {self.host!r}")
        unknown = sorted(set(self.legacy) - RELAXATIONS.keys())
        if unknown:
            raise SandboxError(f"unknown sandbox relaxation(s): {', '.join(unknown)}")
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise SandboxError(f"an AWS account id is 12 digits, not {self.account_id!r}")

    def relaxed(self, name: str) -> bool:
        """Whether the named AWS refusal is relaxed in this sandbox (relaxations.py)."""
        assert name in RELAXATIONS, name
        return name in self.legacy


# account id -> sandboxes running in this process (moto's backends are per account)
_RUNNING: dict[str, int] = {}
_RUNNING_LOCK = threading.Lock()


class Component(Protocol):
    def start(self, sandbox: Sandbox) -> None: ...
    def stop(self) -> None: ...


def _components(config: SandboxConfig) -> list[Component]:
    # Imported here so `import lambda_gameday.sandbox` stays light.
    from .control import ControlLoops
    from .dataplane import DataPlane
    from .fis.api import FisService
    from .shared_account import SharedAccount
    from .sns_delivery import SnsDelivery

    components: list[Component] = [SnsDelivery(), DataPlane(), ControlLoops(), FisService()]
    if config.shared_account:
        components.append(SharedAccount())
    return components


class Sandbox:
    """The embedded twin. Use as a context manager, or start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.truth = GroundTruth()
        self.clock = AwsClock(self.config.clock_skew_s)  # AWS's clock (skewed on request)
        self.api = AwsApi(
            self.config.host,
            self.config.aws_port,
            self.config.account_id,
            clock=self.clock.now,
        )
        self.components: list[Component] = []
        self.iam: IamEnforcer | None = None
        if self.config.iam_policy is not None:
            policy = IamPolicy.load(self.config.iam_policy)  # a bad file fails before any work
            self.iam = IamEnforcer(policy, self.config.account_id, self.config.region)
            self.api.limit(self.iam)
        self.rate_limiter = RateLimiter(self.config.account_id)
        self.api.limit(self.rate_limiter)
        self._api_url: str | None = None
        self.dataplane: DataPlane | None = None  # set by the data plane when it starts
        self.routes: dict[str, Route] = {}  # API path -> Route(function, alias)
        self._lock = threading.Lock()
        self._started = False

    # -- addresses ---------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return self.api.url

    @property
    def api_url(self) -> str:
        if self._api_url is None:
            raise SandboxError("the sandbox's gateway has not started")
        return self._api_url

    def set_api_url(self, url: str) -> None:
        self._api_url = url

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3, the aws CLI and chaostoolkit-aws here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_REGION": self.config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def register_handler(
        self, function: str, handler: Callable[[dict[str, Any], Any], Any]
    ) -> None:
        """Run `handler(event, context)` for `$LATEST` of `function` (see DataPlane)."""
        if self.dataplane is None:
            raise SandboxError("the sandbox's data plane has not started")
        self.dataplane.register_handler(function, handler)

    def function_name(self, short: str) -> str:
        """`health-liveness` -> `hasivu-dev-health-liveness`."""
        return f"{self.config.service}-{self.config.stage}-{short}"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sandbox:
        with self._lock:
            if self._started:
                return self
            # moto reads these when it builds ARNs and when boto3 clients inside it sign.
            os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            try:
                self.api.start()
            except OSError as exc:
                raise SandboxError(
                    f"cannot listen on {self.config.host}:{self.config.aws_port} ({exc.strerror})"
                ) from None
            self._started = True
            with _RUNNING_LOCK:
                if _RUNNING.get(self.config.account_id):
                    self.api.stop()
                    self._started = False
                    raise SandboxError(
                        f"a sandbox for account {self.config.account_id} already runs in this "
                        "process (moto's state is per account): use another --account-id"
                    )
                _RUNNING[self.config.account_id] = 1
            try:
                for component in _components(self.config):
                    component.start(self)
                    self.components.append(component)
            except BaseException:
                self._stop_locked()
                raise
            # after every component's interceptors: moto answers, then one page goes back
            paginator = Paginator(self.api, self.config.account_id)
            self.api.intercept("monitoring", paginator.cloudwatch)
            self.api.intercept("lambda", paginator.lambda_)
            self.api.intercept("codedeploy", paginator.codedeploy)
            # quotas count the harness's calls, not the sandbox's own provisioning
            self.rate_limiter.enabled = not self.config.relaxed("unthrottled-api")
            if self.iam is not None:
                from .control import ControlLoops

                for component in self.components:  # deployment ids -> their group's ARN
                    if isinstance(component, ControlLoops) and component.deployments:
                        self.iam.deployment_group = component.deployments.group_of
                self.iam.enabled = True
            # The twin's long-lived state (moto's backends, the stack, its clients) is not
            # garbage: frozen, the collector stops rescanning it, so a request's CPU does not
            # grow with the stack's size (issue 14; bench/bench_stack_scale.py). No collect
            # first (it costs ~0.2 s a start): start-up garbage waits in the frozen set until
            # stop unfreezes it, so what the twin leaves behind can still be collected.
            gc.freeze()
            return self

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if not self._started:
            return
        while self.components:
            self.components.pop().stop()
        self.dataplane = None
        self.api.stop()
        self._reset_moto()
        self._started = False
        gc.unfreeze()

    def _reset_moto(self) -> None:
        # moto's backends are process-wide: reset them so the next sandbox starts clean —
        # only this account's while a sandbox of another account still runs.
        from .moto_adapter import reset_account_backends, reset_all_backends

        with _RUNNING_LOCK:
            _RUNNING[self.config.account_id] -= 1
            others = any(n > 0 for n in _RUNNING.values())
        if others:
            reset_account_backends(self.config.account_id)
        else:
            reset_all_backends()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
