"""Watches the state held in moto and reacts to changes, whoever made them (boto3, the aws
CLI, chaostoolkit, the control loops writing moto in-process).

Every `interval_s` (20 ms) — and synchronously whenever `poke()` is called — it diffs:
alias versions and weights (truth kind "alias"), each function's `$LATEST` configuration
(retires `$LATEST` environments so the next call is cold) and fault-like settings (truth
kind "fault"), new published versions (pins their handlers), and the dependency
parameters in SSM (applied to the dependency servers; truth kind "dependency").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .dependencies import DEPENDENCY_PARAM_PREFIX, DependencyState, parse_dependency_state
from .faults import fault_summary, parse_failure_config
from .runtime import LATEST, HandlerRegistry, LambdaService, LambdaState
from .ticker import Ticker
from .truth import GroundTruth

__all__ = ["StateWatcher"]

AliasKey = tuple[str, str]
AliasState = tuple[str, tuple[tuple[str, float], ...]]


class StateWatcher:
    def __init__(
        self,
        state: LambdaState,
        service: LambdaService,
        handlers: HandlerRegistry,
        truth: GroundTruth,
        ssm_value: Callable[[str], str | None],
        ssm_names: Callable[[str], list[str]],
        apply_dependency: Callable[[str, DependencyState], None],
        interval_s: float = 0.02,
    ):
        self.state = state
        self.service = service
        self.handlers = handlers
        self.truth = truth
        self._ssm_value = ssm_value
        self._ssm_names = ssm_names
        self._apply_dependency = apply_dependency
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._aliases: dict[AliasKey, AliasState] = {}
        self._configs: dict[str, object] = {}
        self._faults: dict[str, dict[str, object]] = {}
        self._versions: dict[str, int] = {}
        self._deps: dict[str, str | None] = {}
        self._ticker = Ticker("sandbox-watch", self._tick, lambda: self.interval_s)

    def start(self) -> None:
        self.poke(record=False)  # the baseline: what exists at start is not a change
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def _tick(self) -> None:
        try:
            self.poke()
        except Exception:  # moto mid-update or being reset: try again next tick
            return

    @property
    def lock(self) -> threading.Lock:
        """Held while the watcher compares state: a writer holding it changes an alias's
        version and weights as one step the watcher never sees half-done."""
        return self._lock

    def poke(self, record: bool = True) -> None:
        """Diff now; call after changing moto state in-process for an exact timestamp."""
        with self._lock:
            at = time.time()
            for name in self.state.names():
                self._function(name, at, record)
            self._dependencies(at, record)

    # -- per function ---------------------------------------------------------------------

    def _function(self, name: str, at: float, record: bool) -> None:
        latest = self.state.latest(name)
        if latest is None:
            return
        versions = len(self.state.versions(name))
        if self._versions.get(name) != versions:
            self._versions[name] = versions
            self.handlers.snapshot_versions(name)

        for alias_name, alias in self.state.aliases(name).items():
            key = (name, alias_name)
            now: AliasState = (
                str(alias.function_version),
                tuple(sorted(self.state.weights(alias).items())),
            )
            before = self._aliases.get(key)
            if before != now:
                self._aliases[key] = now
                if record:
                    self.truth.record(
                        "alias",
                        f"{name}:{alias_name}",
                        at=at,
                        version=now[0],
                        weights=dict(now[1]),
                        previous_version=None if before is None else before[0],
                        previous_weights=None if before is None else dict(before[1]),
                    )

        envvars: dict[str, str] = dict(latest.environment_vars or {})
        layers = [layer["Arn"] for layer in latest.layers or []]
        config = (
            tuple(sorted(envvars.items())),
            tuple(layers),
            latest.timeout,
            latest.memory_size,
            latest.handler,
            getattr(latest, "code_sha_256", None),
            latest.run_time,
        )
        if self._configs.get(name) != config:
            changed = name in self._configs
            self._configs[name] = config
            if changed:
                self.service.retire(name, LATEST)

        param = envvars.get("FAILURE_INJECTION_PARAM")
        flags = parse_failure_config(self._ssm_value(param)) if param else ()
        summary = fault_summary(
            envvars,
            layers,
            flags,
            self.state.reserved_concurrency(name),
            float(latest.timeout),
            int(latest.memory_size),
        )
        if param:
            summary["failure_lambda_parameter"] = param
        before_faults = self._faults.get(name)
        if before_faults != summary:
            self._faults[name] = summary
            if record and before_faults is not None:
                for fault in sorted(set(summary) | set(before_faults)):
                    old, new = before_faults.get(fault), summary.get(fault)
                    if old != new:
                        self.truth.record(
                            "fault",
                            name,
                            at=at,
                            fault=fault,
                            value=new,
                            previous=old,
                            version=LATEST,
                        )

    # -- dependencies -----------------------------------------------------------------------

    def _dependencies(self, at: float, record: bool) -> None:
        for param in self._ssm_names(DEPENDENCY_PARAM_PREFIX):
            value = self._ssm_value(param)
            if self._deps.get(param) == value:
                continue
            self._deps[param] = value
            parsed = parse_dependency_state(value)
            if parsed is None:
                continue
            dep = param[len(DEPENDENCY_PARAM_PREFIX) :]
            self._apply_dependency(dep, parsed)
            if record:
                self.truth.record(
                    "dependency", dep, at=at, state=parsed.state, latency_ms=parsed.latency_ms
                )
