"""Before anything is injected: is this allowed, and does everything the experiment names exist?

Arguments of this extension's activities name resources by convention: `function_name`
(+ `alias`), `alarm_name`, `stop_on_alarms`, `application` + `deployment_group`,
`topic`, `dependency`. Each is checked on the target; the first missing one fails the
run with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..aws import aws_errors
from ..config import Backend
from ..exceptions import ResourceNotFound
from .faults import Scope, scope
from .guard import refuse_unless_allowed
from .milestones import extension_of

__all__ = ["check_experiment", "named_resources"]


def _activities(experiment: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from experiment.get("steady-state-hypothesis", {}).get("probes", []) or []
    yield from experiment.get("method", []) or []
    yield from experiment.get("rollbacks", []) or []
    yield from experiment.get("controls", []) or []


def named_resources(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, object] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(activity name, substituted arguments) for every activity of this extension."""
    from chaoslib import substitute

    found = []
    for act in _activities(experiment):
        provider = act.get("provider", {})
        if provider.get("type") != "python":
            continue
        if not str(provider.get("module", "")).startswith("lambda_gameday.chaos"):
            continue
        args = substitute(dict(provider.get("arguments", {}) or {}), configuration, secrets)
        found.append((str(act.get("name", provider.get("func", "?"))), dict(args)))
    return found


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
    seen: set[str] = set()
    for name, args in named_resources(experiment, configuration, secrets):
        _check(sc, name, args, seen)
    _check_failure_lambda(sc, experiment, configuration, secrets)
    _check_fis(sc, experiment, configuration, secrets)


def _check_fis(
    sc: Scope,
    experiment: Mapping[str, Any],
    configuration: Mapping[str, object] | None,
    secrets: Mapping[str, Any] | None,
) -> None:
    """Faults that go through AWS FIS: each function ready for it (chaos/fis/setup.py),
    before the steady state is even probed."""
    from chaoslib import substitute

    from .fis.actions import check_ready
    from .fis.backend import resolve_backend

    for act in experiment.get("method", []) or []:
        provider = act.get("provider", {}) if isinstance(act, Mapping) else {}
        func = provider.get("func")
        if func not in ("deploy_canary", "inject_fis_fault"):
            continue
        args = substitute(dict(provider.get("arguments", {}) or {}), configuration, secrets)
        fn = args.get("function_name")
        if not isinstance(fn, str) or args.get("fault") == "none":
            continue
        if func == "inject_fis_fault":
            check_ready(sc, fn, str(args.get("alias", "production")))
            continue
        default: Backend = "extension" if args.get("fault") == "error_body" else "failure-lambda"
        backend = args.get("backend") if isinstance(args.get("backend"), str) else None
        if resolve_backend(configuration, sc.target, default, backend) == "fis":
            check_ready(sc, fn, None)  # $LATEST: the canary is published from it


def _check_failure_lambda(
    sc: Scope,
    experiment: Mapping[str, Any],
    configuration: Mapping[str, object] | None,
    secrets: Mapping[str, Any] | None,
) -> None:
    """A failure-lambda canary needs a wrapped function whose role may read the parameter;
    otherwise the run would wait for an alarm that cannot fire and blame detection. The
    denylist (deny_hosts) is failure-lambda's too. A function with no wrapper at all raises
    HookMissing: the plan skips the experiment, naming the function."""
    from chaoslib import substitute

    from .failure_lambda import FAILURE_LAMBDA_FAULTS, check_failure_lambda
    from .fis.backend import resolve_backend

    checked: set[str] = set()
    for act in _activities(experiment):
        provider = act.get("provider", {})
        module, func = provider.get("module"), provider.get("func")
        args = substitute(dict(provider.get("arguments", {}) or {}), configuration, secrets)
        if (module, func) == ("lambda_gameday.chaos.awslambda.denylist", "deny_hosts"):
            for fn in args.get("function_names") or []:
                if isinstance(fn, str):
                    _check_denylist_hook(sc, str(act.get("name", func)), fn)
            continue
        if (module, func) != ("lambda_gameday.chaos.awslambda.actions", "deploy_canary"):
            continue
        fn = args.get("function_name")
        fault = args.get("fault", "exception")
        backend = args.get("backend") if isinstance(args.get("backend"), str) else None
        if resolve_backend(configuration, sc.target, "failure-lambda", backend) != (
            "failure-lambda"
        ):
            continue  # FIS or the extension delivers it: their own preflight applies
        if fault in FAILURE_LAMBDA_FAULTS and isinstance(fn, str) and fn not in checked:
            checked.add(fn)
            check_failure_lambda(sc, str(act.get("name", "deploy_canary")), fn)


def _check_denylist_hook(sc: Scope, activity: str, function: str) -> None:
    """deny_hosts writes the function's own FAILURE_INJECTION_PARAM (denylist mode)."""
    from .failure_lambda import hook_missing
    from .names import HookMissing

    with aws_errors(f"{activity}: reading {function}'s configuration"):
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    if not cfg.get("Environment", {}).get("Variables", {}).get("FAILURE_INJECTION_PARAM"):
        raise HookMissing(sc.target.source, hook_missing(function, activity))
