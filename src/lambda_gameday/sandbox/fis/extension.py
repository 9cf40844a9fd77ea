"""The AWS FIS Lambda extension as the twin runs it inside each execution environment.

Installed when the function version carries the FIS extension layer for its architecture,
`AWS_LAMBDA_EXEC_WRAPPER=/opt/aws-fis/bootstrap` and `AWS_FIS_CONFIGURATION_LOCATION`
(docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html). The extension polls the
configuration location: slowly (`AWS_FIS_SLOW_POLL_INTERVAL_SECONDS`, default 60) while no
fault is active, fast while one is, and can hold an invocation up to
`AWS_FIS_POLL_MAX_WAIT_MILLISECONDS` (default 0) to finish a poll. A frozen environment does
not run, so with the default 0 a poll that falls due is only read at the next invocation:
short, rare invocations see faults late. The fast interval is not documented; the twin
uses 20 s, AWS's "~20 s to stop after the action ends".

Timing profiles: faithful uses these values; fast timing divides every interval by the
factor that shortens alarm periods (60 s -> 2 s), so a fault reaches traffic in about 2 s
instead of up to 60 s (`FisTiming.note` says so).

The extension reads with the function's execution role: objects the role may not
`s3:GetObject` are not read (access.py), so a fault never reaches such a function.

Only the earliest of conflicting actions applies (FIS actions reference): a delay conflicts
with a delay, an error with an error or an HTTP integration response.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..public_layers import FIS_EXTENSION_ACCOUNT, parse_layer_arn
from ..truth import GroundTruth
from .access import role_allows
from .model import LambdaFault, parse_config_object, parse_function_arn
from .store import ConfigLocation, S3Store, parse_location

__all__ = ["WRAPPER", "FisDecision", "FisExtension", "FisTiming"]

WRAPPER = "/opt/aws-fis/bootstrap"
DEFAULT_SLOW_POLL_S = 60.0
MODELLED_FAST_POLL_S = 20.0


@dataclass(frozen=True)
class FisTiming:
    scale: float = 1.0  # 1.0 faithful; 1/30 in fast timing (alarm periods 60 s -> 2 s)

    @property
    def note(self) -> str:
        if self.scale == 1.0:
            return "FIS extension polls at AWS's intervals (slow 60 s, fast 20 s modelled)"
        inverse = 1 / self.scale
        factor = f"1/{inverse:.0f}" if abs(inverse - round(inverse)) < 1e-9 else f"{self.scale:g}"
        return (
            f"fast timing: FIS extension poll intervals scaled by {factor} like alarm periods"
            f" (slow {DEFAULT_SLOW_POLL_S * self.scale:g} s, fast"
            f" {MODELLED_FAST_POLL_S * self.scale:.2f} s; AWS: 60 s and ~20 s)"
        )


@dataclass(frozen=True)
class FisDecision:
    """What the extension does to one invocation."""

    delay_ms: int = 0
    response: LambdaFault | None = None  # an error or an HTTP integration response
    applied: tuple[LambdaFault, ...] = ()


@dataclass
class _Poller:
    location: ConfigLocation
    last_poll: float  # monotonic
    faults: list[LambdaFault] = field(default_factory=list)
    due_unread: bool = False  # a poll fell due while frozen (max wait 0): read next time


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    try:
        value = float(env.get(key, default))
    except ValueError:
        return default
    return value if value > 0 else default


class FisExtension:
    def __init__(
        self,
        account_id: str,
        truth: GroundTruth,
        timing: FisTiming,
        seed: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.clock = clock
        self.account_id = account_id
        self.s3 = S3Store(account_id)
        self.truth = truth
        self.timing = timing
        self.rng = random.Random(seed + 2)
        self._pollers: dict[str, _Poller] = {}
        self._seen: set[tuple[str, str, str]] = set()  # (experiment, action, function) applied
        self._lock = threading.Lock()

    @staticmethod
    def location(env: Mapping[str, str], layers: Sequence[str], arch: str) -> ConfigLocation | None:
        """Where the extension reads, or None when it is not installed on this version."""
        if env.get("AWS_LAMBDA_EXEC_WRAPPER") != WRAPPER:
            return None
        wanted = f"aws-fis-extension-{arch}"
        for arn in layers:
            layer = parse_layer_arn(arn)
            if (
                layer is not None
                and layer.account == FIS_EXTENSION_ACCOUNT
                and layer.name == wanted
            ):
                return parse_location(env.get("AWS_FIS_CONFIGURATION_LOCATION"))
        return None

    def _read(self, location: ConfigLocation, role_arn: str) -> list[LambdaFault]:
        """What the extension reads with the function's role: nothing it may not read."""
        faults: list[LambdaFault] = []
        for key in self.s3.list(location.bucket, location.prefix):
            if not role_allows(
                self.account_id, role_arn, "s3:GetObject", f"arn:aws:s3:::{location.bucket}/{key}"
            ):
                continue
            data = self.s3.get(location.bucket, key)
            if data is not None:
                faults.extend(parse_config_object(data))
        return faults

    def decide(
        self,
        env_id: str,
        env: Mapping[str, str],
        layers: Sequence[str],
        arch: str,
        name: str,
        version: str,
        resource_qualifier: str | None,
        role_arn: str = "",
    ) -> FisDecision | None:
        location = self.location(env, layers, arch)
        if location is None:
            return None
        now = self.clock()
        scale = self.timing.scale
        with self._lock:
            poller = self._pollers.get(env_id)
            if poller is None:  # the extension reads the configuration when it starts
                poller = _Poller(location, now, self._read(location, role_arn))
                self._pollers[env_id] = poller
            else:
                slow = _seconds(env, "AWS_FIS_SLOW_POLL_INTERVAL_SECONDS", DEFAULT_SLOW_POLL_S)
                interval = (MODELLED_FAST_POLL_S if poller.faults else slow) * scale
                max_wait_ms = _seconds(env, "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS", 0.0)
                if poller.due_unread or now - poller.last_poll >= interval:
                    if max_wait_ms > 0 or poller.due_unread:
                        poller.faults = self._read(location, role_arn)
                        poller.last_poll, poller.due_unread = now, False
                    else:
                        poller.due_unread = True
            faults = list(poller.faults)
        mine = [f for f in faults if _targets(f.target_arn, name, version, resource_qualifier)]
        delay = _earliest([f for f in mine if f.kind == "add-delay"])
        response = _earliest([f for f in mine if f.kind != "add-delay"])
        applied: list[LambdaFault] = []
        delay_ms = 0
        if delay is not None and self.rng.random() * 100 < delay.invocation_percentage:
            delay_ms = delay.delay_ms
            applied.append(delay)
        if response is not None and self.rng.random() * 100 < response.invocation_percentage:
            applied.append(response)
        else:
            response = None
        for fault in applied:
            key = (fault.experiment_id, fault.action, name)
            if key not in self._seen:
                self._seen.add(key)
                self.truth.record(
                    "fault",
                    name,
                    event="fis-applied",
                    experiment=fault.experiment_id,
                    action=fault.action,
                    fault=fault.kind,
                )
        return FisDecision(delay_ms, response, tuple(applied))

    def forget(self, env_id: str) -> None:
        with self._lock:
            self._pollers.pop(env_id, None)


def _earliest(faults: list[LambdaFault]) -> LambdaFault | None:
    return min(faults, key=lambda f: f.started_at) if faults else None


def _targets(target_arn: str, name: str, version: str, qualifier: str | None) -> bool:
    target = parse_function_arn(target_arn)
    if target is None or target.name != name:
        return False
    if target.qualifier is None:
        return True  # the unqualified ARN: every invocation of the function
    return target.qualifier in (version, qualifier)
