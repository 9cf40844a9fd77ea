"""Lint a stack file (SAM, CloudFormation, Serverless) before it is deployed.

The stack's alarms and deployment groups go through the same rules as a live target
(`chaos.lint`: periods, detection over the MTTR budget, wrong dimensions, bake time), and
the file adds what only it shows:

* `deployment-unguarded`  a DeploymentPreference / deploymentSettings without alarms:
                          unguarded, it rolls back only on hook failure.
* `hook-never-reports`    a lifecycle hook whose code (found in the repository next to the
                          file) never calls PutLifecycleEventHookExecutionStatus: every
                          deployment waits for it, times out and rolls back.
* `route-latest`          an API route integrated with the unqualified function ($LATEST):
                          a canary shifts an alias's weights, which this route never sees.

Every finding names the place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..findings import Finding
from .lint import AlarmSpec, DeploymentGroupSpec, LintInputs, lint

if TYPE_CHECKING:
    from ..sandbox.serverless_stack import FunctionDef, StackSpec

__all__ = ["lint_stack"]

_REPORTS = re.compile(
    r"PutLifecycleEventHookExecutionStatus|put_lifecycle_event_hook_execution_status"
    r"|putLifecycleEventHookExecutionStatus",
    re.IGNORECASE,
)
_CODE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".go", ".rb", ".java", ".cs")
_PERCENTILE = re.compile(r"^(p|tm|wm|tc|ts)\d{1,2}(\.\d+)?$")


def _alarm_spec(a: object) -> AlarmSpec:
    from ..sandbox.serverless_stack import AlarmDef

    assert isinstance(a, AlarmDef)
    extended = a.statistic if _PERCENTILE.match(a.statistic) else None
    return AlarmSpec(
        name=a.name,
        namespace=a.namespace,
        metric=a.metric,
        period=a.period,
        evaluation_periods=a.evaluation_periods,
        threshold=a.threshold,
        comparison=a.comparison,
        statistic=None if extended else a.statistic,
        extended_statistic=extended,
        dimensions=a.dimensions,
        treat_missing=a.treat_missing_data,
    )


def _hook_code(stack: StackSpec, fn: FunctionDef) -> Path | None:
    """The file holding the hook's handler, when it is in the repository next to the
    stack file: `<code dir>/<module>.<ext>` (SAM CodeUri, CDK asset) or `<module>.<ext>`
    (Serverless handler path)."""
    base = Path(stack.source).parent
    module = fn.handler.rsplit(".", 1)[0] if "." in fn.handler else fn.handler
    candidates: list[Path] = []
    if fn.code_path and stack.format != "serverless":
        candidates.append(base / fn.code_path / module)
    candidates.append(base / module)
    for stem in candidates:
        for suffix in _CODE_SUFFIXES:
            path = stem.with_name(stem.name + suffix)
            if path.is_file():
                return path
    return None


def lint_stack(stack: StackSpec, *, budget_s: float = 120.0) -> list[Finding]:
    """Findings for one stack file (see the module docstring)."""
    src = stack.source
    out: list[Finding] = []
    groups = [g for g in stack.groups if g.enabled]
    guarded = [g for g in groups if g.alarms]
    for g in groups:
        if g.alarms:
            continue
        hooks = [h for h in (g.pre_traffic_hook, g.post_traffic_hook) if h]
        out.append(
            Finding(
                "warning",
                f"{src}: {g.where or g.name}",
                f"{g.config} deployment of {g.function}:{g.alias} has no alarms — unguarded: "
                "rolls back only on hook failure"
                + (f" ({', '.join(hooks)})" if hooks else " (and it has no hooks)")
                + "; a faulty canary that passes its hooks is promoted.",
                "add the function's error alarm on the alias (Resource=<fn>:<alias>) to the "
                "preference's Alarms / deploymentSettings.alarms.",
                rule="deployment-unguarded",
            )
        )
    by_name = {f.name: f for f in stack.functions}
    for g in groups:
        for event, hook in (
            ("PreTraffic", g.pre_traffic_hook),
            ("PostTraffic", g.post_traffic_hook),
        ):
            fn = by_name.get(hook or "")
            if fn is None:
                continue
            code = _hook_code(stack, fn)
            if code is None:
                continue
            try:
                text = code.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if not _REPORTS.search(text):
                out.append(
                    Finding(
                        "error",
                        f"{src}: {g.where or g.name}",
                        f"{event} hook {fn.name} ({code}) never calls "
                        "PutLifecycleEventHookExecutionStatus: every deployment waits for it, "
                        "times out and rolls back.",
                        "report Succeeded or Failed with the DeploymentId and "
                        "LifecycleEventHookExecutionId the hook receives.",
                        rule="hook-never-reports",
                    )
                )
    for fn in stack.functions:
        for r in fn.routes:
            if r.alias is None:
                out.append(
                    Finding(
                        "warning",
                        f"{src}: route {r.method} {r.path}",
                        f"the {r.api} API invokes {fn.name} unqualified ($LATEST), not an "
                        "alias: a canary deployment shifts an alias and never reaches this "
                        "route, and every publish changes what it serves at once.",
                        "integrate the route with the alias (SAM AutoPublishAlias, the canary "
                        "plugin's deploymentSettings, or the alias ARN in the integration URI).",
                        rule="route-latest",
                    )
                )
    specs = [_alarm_spec(a) for a in stack.alarms]
    inputs = LintInputs(
        alarms=specs,
        groups=[
            DeploymentGroupSpec(
                name=g.name,
                application=g.application or stack.application,
                config_name=g.config,
                alarms=g.alarms,
                auto_rollback_events=g.rollback_events,
                function=g.function,
            )
            for g in guarded
        ],
        function_alarms=_function_alarms(stack, guarded),
        budget_s=budget_s,
        on_aws=True,
    )
    out += [
        Finding(f.severity, f"{src}: {f.resource}", f.message, f.fix, f.rule, f.checked)
        for f in lint(inputs)
    ]
    return out


def _function_alarms(stack: StackSpec, groups: Sequence[object]) -> dict[str, tuple[str, ...]]:
    from ..sandbox.serverless_stack import GroupDef

    out: dict[str, tuple[str, ...]] = {}
    for g in groups:
        assert isinstance(g, GroupDef)
        out[g.function] = tuple(dict.fromkeys((*out.get(g.function, ()), *g.alarms)))
    return out
