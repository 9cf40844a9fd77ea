"""Resource names for experiments, from the target file — never guessed from a naming scheme.

Experiments declare them as Chaos Toolkit *dynamic configuration* (a `probe` entry under
`configuration`), so the stock `chaos run` resolves them too, from the target file named
by `GAMEDAY_TARGET` (or the `gameday_target` configuration key):

    "configuration": {
      "function": {"type": "probe", "name": "the /health/live function",
                   "provider": {"type": "python", "module": "lambda_gameday.chaos.names",
                                "func": "function_name", "arguments": {"path": "/health/live"}}}
    }

and use `${function}` in activity arguments. The harness resolves them itself before the
preflight (`resolve_names`), failing with one line when the target file lacks one (stock
chaoslib only logs such a failure and leaves `${function}` unsubstituted).

A name the experiment needs that the target cannot give — no such function, a function with
no deployment group, a deployment group with no alarms — raises `NotApplicable` (a
ConfigError, so a stock run still stops with one line): the experiment does not apply to
this stack, and the game-day plan skips it with that reason (gameday/phases/chaos.py).

Without a target file (endpoint URL only), the target is the sandbox's built-in one
(config.sandbox_target), whose names are the ones the sandbox deploys.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Final

from ..aws import aws_errors
from ..config import FunctionSpec, Target
from ..exceptions import ConfigError, TargetError
from .context import Configuration, clients_for, target_from

__all__ = [
    "HookMissing",
    "NotApplicable",
    "alert_topic",
    "application_name",
    "deployment_group",
    "function_alarm",
    "function_alias",
    "function_name",
    "resolve_names",
]

MODULE = __name__
# The name probes a configuration entry may call (whatever else reads the list, e.g. the
# IAM policy's covered activities, takes it from here): every export but the resolver's.
PROBES: Final = frozenset(__all__) - {"HookMissing", "NotApplicable", "resolve_names"}


class NotApplicable(ConfigError):
    """The experiment needs something this target does not have; `reason` says what,
    without the file name (the plan's skip line)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.reason = reason


class HookMissing(NotApplicable, TargetError):
    """The experiment's fault reaches traffic only through a failure-injection hook in the
    function's code (failure-lambda) and this function has none. The plan skips the
    experiment with the reason (the rest of the game day runs); the experiment run alone
    (`gameday chaos`) still exits 3: the target cannot take it."""

    exit_code = 3


def _function(target: Target, path: str) -> FunctionSpec:
    try:
        return target.function(path)
    except ConfigError:
        known = ", ".join(f.path for f in target.functions) or "none"
        raise NotApplicable(
            target.source, f"the target has no function {path} (its routes: {known})"
        ) from None


def function_name(path: str, configuration: Configuration = None) -> str:
    """The function behind `path` (or named so) in the target file."""
    return _function(target_from(configuration), path).name


def function_alias(path: str, configuration: Configuration = None) -> str:
    """The alias that serves `path`'s traffic."""
    return _function(target_from(configuration), path).alias


def deployment_group(path: str, configuration: Configuration = None) -> str:
    target = target_from(configuration)
    fn = _function(target, path)
    if not fn.deployment_group:
        raise NotApplicable(
            target.source,
            f"{fn.name} has no deployment group; it is not deployed through CodeDeploy",
        )
    return fn.deployment_group


def application_name(configuration: Configuration = None) -> str:
    target = target_from(configuration)
    if not target.application:
        raise ConfigError(f"{target.source}: no application (the CodeDeploy application name)")
    return target.application


def alert_topic(configuration: Configuration = None) -> str:
    target = target_from(configuration)
    if not target.alert_topic:
        raise ConfigError(f"{target.source}: no alert_topic (the SNS topic alarms notify)")
    return target.alert_topic


def function_alarm(path: str, metric: str = "Errors", configuration: Configuration = None) -> str:
    """The one of the function's alarms (as the target file lists them) that watches
    `metric` — read by name from CloudWatch, so another team's alarm is never chosen."""
    target = target_from(configuration)
    fn = _function(target, path)
    if not fn.alarms:
        if fn.deployment_group:
            # lint_stack's "unguarded" finding, seen from the drill's side
            raise NotApplicable(
                target.source,
                f"unguarded: {fn.deployment_group} has no alarms; it rolls back only if a "
                "hook fails",
            )
        raise NotApplicable(target.source, f"{fn.name} has no alarms")
    cw = clients_for(target).cloudwatch()
    found: list[str] = []
    names = list(fn.alarms)
    with aws_errors(f"reading the alarms of {fn.name}"):
        for start in range(0, len(names), 100):  # AlarmNames takes at most 100
            for page in cw.get_paginator("describe_alarms").paginate(
                AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]
            ):
                for alarm in page["MetricAlarms"]:
                    metrics = {alarm.get("MetricName")} | {
                        q.get("MetricStat", {}).get("Metric", {}).get("MetricName")
                        for q in alarm.get("Metrics", [])
                    }
                    if metric in metrics:
                        found.append(alarm["AlarmName"])
    if not found:
        raise ConfigError(
            f"{target.source}: none of {fn.name}'s alarms ({', '.join(fn.alarms)}) watches"
            f" {metric} on {target.name}"
        )
    return sorted(found, key=names.index)[0]


def resolve_names(conf: MutableMapping[str, object]) -> None:
    """Resolve, in place, the configuration entries that are probes of this module (in
    order, each seeing the ones before it). Raises ConfigError naming the entry."""
    import importlib

    module = importlib.import_module(MODULE)
    for key, value in list(conf.items()):
        if not (isinstance(value, Mapping) and value.get("type") == "probe"):
            continue
        provider = value.get("provider")
        if not isinstance(provider, Mapping) or provider.get("module") != MODULE:
            continue
        func = getattr(module, str(provider.get("func")), None)
        if func is None or func.__name__ not in __all__ or func is resolve_names:
            raise ConfigError(
                f"configuration {key}: no function {provider.get('func')!r} in {MODULE}"
            )
        args = dict(provider.get("arguments") or {})
        try:
            conf[key] = func(**args, configuration=conf)
        except TypeError as exc:
            raise ConfigError(f"configuration {key}: {exc}") from None
        except NotApplicable:
            raise  # its reason is the plan's skip line, as is
        except ConfigError as exc:
            raise ConfigError(f"configuration {key}: {exc.one_line()}") from None
