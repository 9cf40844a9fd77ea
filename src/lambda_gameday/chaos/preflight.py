"""Before anything is injected: is this allowed, and does everything the experiment names exist?

Arguments of this extension's activities name resources by convention: `function_name`
(+ `alias`), `alarm_name`, `stop_on_alarms`, `application` + `deployment_group`,
`topic`, `dependency`. Each is checked on the target; the first missing one fails the
run with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..aws import aws_errors
from ..config import Backend
from ..exceptions import ResourceNotFound
from .faults import Scope, scope
from .guard import refuse_unless_allowed
from .milestones import extension_of

__all__ = ["check_experiment", "named_resources"]


Wanted = Callable[[Mapping[str, Any]], bool]  # picks activities by their provider


@dataclass(frozen=True)
class _Experiment:
    """An experiment and what its `${...}` arguments are substituted from."""

    doc: Mapping[str, Any]
    configuration: Mapping[str, object] | None
    secrets: Mapping[str, Any] | None

    def activities(self) -> Iterator[Mapping[str, Any]]:
        yield from self.doc.get("steady-state-hypothesis", {}).get("probes", []) or []
        yield from self.method()
        yield from self.doc.get("rollbacks", []) or []
        yield from self.doc.get("controls", []) or []

    def method(self) -> list[Mapping[str, Any]]:
        return list(self.doc.get("method", []) or [])

    def calls(
        self, wanted: Wanted, activities: Iterable[Any] | None = None
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(activity name, func, substituted arguments) of each activity (all of them
        unless given) whose provider is `wanted`, in the experiment's order."""
        from chaoslib import substitute

        for act in self.activities() if activities is None else activities:
            provider = act.get("provider", {}) if isinstance(act, Mapping) else {}
            if not wanted(provider):
                continue
            func = str(provider.get("func", "?"))
            arguments = dict(provider.get("arguments", {}) or {})
            args = substitute(arguments, self.configuration, self.secrets)
            yield str(act.get("name", func)), func, dict(args)


def _ours(provider: Mapping[str, Any]) -> bool:
    module = str(provider.get("module", ""))
    return provider.get("type") == "python" and module.startswith("lambda_gameday.chaos")


def named_resources(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, object] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(activity name, substituted arguments) for every activity of this extension."""
    calls = _Experiment(experiment, configuration, secrets).calls(_ours)
    return [(name, args) for name, _, args in calls]


def _check(sc: Scope, name: str, args: Mapping[str, Any], seen: set[str]) -> None:
    lam, cw = sc.clients.lambda_(), sc.clients.cloudwatch()

    def once(key: str) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    fn = args.get("function_name")
    if isinstance(fn, str) and once("fn:" + fn):
        with aws_errors(f"{name}: function {fn}"):
            lam.get_function(FunctionName=fn)
    alias = args.get("alias")
    if isinstance(fn, str) and isinstance(alias, str) and once(f"alias:{fn}:{alias}"):
        with aws_errors(f"{name}: alias {fn}:{alias}"):
            lam.get_alias(FunctionName=fn, Name=alias)
    alarms = [args["alarm_name"]] if isinstance(args.get("alarm_name"), str) else []
    alarms += [a for a in args.get("stop_on_alarms", []) or [] if isinstance(a, str)]
    for alarm in alarms:
        if once("alarm:" + alarm):
            with aws_errors(f"{name}: alarm {alarm}"):
                got = cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
            if not got:
                raise ResourceNotFound(
                    f"{name}: alarm {alarm!r} does not exist on {sc.target.name}"
                )
    app, group = args.get("application"), args.get("deployment_group")
    if isinstance(app, str) and isinstance(group, str) and once(f"dg:{app}:{group}"):
        with aws_errors(f"{name}: deployment group {app}/{group}"):
            sc.clients.codedeploy().get_deployment_group(
                applicationName=app, deploymentGroupName=group
            )
    topic = args.get("topic")
    if isinstance(topic, str) and once("topic:" + topic):
        from .sns.actions import topic_arn

        topic_arn(sc, topic)
    dep = args.get("dependency")
    if isinstance(dep, str) and once("dep:" + dep):
        from .sandbox.actions import PARAMETER_PREFIX

        with aws_errors(f"{name}: dependency {dep}"):
            try:
                sc.clients.ssm().get_parameter(Name=PARAMETER_PREFIX + dep)
            except sc.clients.ssm().exceptions.ParameterNotFound:
                raise ResourceNotFound(
                    f"{name}: dependency {dep!r} is not known to the target"
                    f" (no parameter {PARAMETER_PREFIX + dep})"
                ) from None


def check_experiment(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, object] | None = None,
    secrets: Mapping[str, Any] | None = None,
    *,
    allow_production: bool = False,
) -> None:
    """Raise SafetyError (production without a grant), ResourceNotFound (missing
    function, alias, alarm, group, topic or dependency), HookMissing (a failure-lambda
    fault on a function that is not wrapped: the plan skips the experiment) or TargetError
    (a wrapped function whose role may not read the parameter), before any injection.
    Production is granted by `allow_production` (the command line), the run's context, or
    GAMEDAY_ALLOW_PRODUCTION=1 — never by the experiment's configuration."""
    sc = scope(dict(configuration or {}))
    if extension_of(experiment)["destructive"] and not allow_production:
        refuse_unless_allowed(
            sc.target, sc.run, f"destructive experiment {experiment.get('title', '')!r}"
        )
    exp = _Experiment(experiment, configuration, secrets)
    seen: set[str] = set()
    for name, _, args in exp.calls(_ours):
        _check(sc, name, args, seen)
    _check_failure_lambda(sc, exp)
    _check_fis(sc, exp)


def _check_fis(sc: Scope, exp: _Experiment) -> None:
    """Faults that go through AWS FIS: each function ready for it (chaos/fis/setup.py),
    before the steady state is even probed."""
    from .fis.actions import check_ready
    from .fis.backend import resolve_backend

    def fis_capable(provider: Mapping[str, Any]) -> bool:
        return provider.get("func") in ("deploy_canary", "inject_fis_fault")

    for _, func, args in exp.calls(fis_capable, exp.method()):
        fn = args.get("function_name")
        if not isinstance(fn, str) or args.get("fault") == "none":
            continue
        if func == "inject_fis_fault":
            check_ready(sc, fn, str(args.get("alias", "production")))
            continue
        default: Backend = "extension" if args.get("fault") == "error_body" else "failure-lambda"
        backend = args.get("backend") if isinstance(args.get("backend"), str) else None
        if resolve_backend(exp.configuration, sc.target, default, backend) == "fis":
            check_ready(sc, fn, None)  # $LATEST: the canary is published from it


def _check_failure_lambda(sc: Scope, exp: _Experiment) -> None:
    """A failure-lambda canary needs a wrapped function whose role may read the parameter;
    otherwise the run would wait for an alarm that cannot fire and blame detection. The
    denylist (deny_hosts) is failure-lambda's too. A function with no wrapper at all raises
    HookMissing: the plan skips the experiment, naming the function."""
    from .failure_lambda import FAILURE_LAMBDA_FAULTS, check_failure_lambda
    from .fis.backend import resolve_backend

    def failure_lambda_writer(provider: Mapping[str, Any]) -> bool:
        return (provider.get("module"), provider.get("func")) in (
            ("lambda_gameday.chaos.awslambda.denylist", "deny_hosts"),
            ("lambda_gameday.chaos.awslambda.actions", "deploy_canary"),
        )

    checked: set[str] = set()
    for name, func, args in exp.calls(failure_lambda_writer):
        if func == "deny_hosts":
            for fn in args.get("function_names") or []:
                if isinstance(fn, str):
                    _check_denylist_hook(sc, name, fn)
            continue
        fn = args.get("function_name")
        fault = args.get("fault", "exception")
        backend = args.get("backend") if isinstance(args.get("backend"), str) else None
        if resolve_backend(exp.configuration, sc.target, "failure-lambda", backend) != (
            "failure-lambda"
        ):
            continue  # FIS or the extension delivers it: their own preflight applies
        if fault in FAILURE_LAMBDA_FAULTS and isinstance(fn, str) and fn not in checked:
            checked.add(fn)
            check_failure_lambda(sc, name, fn)


def _check_denylist_hook(sc: Scope, activity: str, function: str) -> None:
    """deny_hosts writes the function's own FAILURE_INJECTION_PARAM (denylist mode)."""
    from .failure_lambda import hook_missing
    from .names import HookMissing

    with aws_errors(f"{activity}: reading {function}'s configuration"):
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    if not cfg.get("Environment", {}).get("Variables", {}).get("FAILURE_INJECTION_PARAM"):
        raise HookMissing(sc.target.source, hook_missing(function, activity))
