"""The least-privilege IAM policy for what a plan will do on a target.

Built from the plan and the target file alone (nothing is called): each phase adds the
actions its code calls, on the target's own resources by ARN — functions, aliases and
versions, alarms, deployment groups, the alert topic, the canary's SSM parameters, the
Region's chaos-lambda-extension layer. A plan of gates only (conformance, lint, synthetics,
load) gets a read-only policy; chaos phases add exactly the writes their experiments'
activities make, and their undo steps.

Actions without resource-level permissions (sns:ListTopics, sts:GetCallerIdentity) take
`*`; `cloudwatch:PutMetricData` (only with `--publish`) is limited by the
`cloudwatch:namespace` condition to the run's two namespaces.
The account is `*` unless given: the ARNs still name this target's resources only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chaos.names import PROBES as NAME_PROBES
from .config import Target
from .exceptions import ConfigError
from .gameday.plan import ChaosOptions, Plan
from .lock import LOCK_PARAMETER

__all__ = ["PolicyBuilder", "policy_for"]

_READ_FUNCTION = (
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetAlias",
    "lambda:ListVersionsByFunction",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:GetFunctionConcurrency",
)


# Activities whose calls the grants below cover: reads of what the phase already reads
# (functions, aliases, alarms, deployments, HTTP), and the undo of a fault the same
# experiment made (granted with the fault). An activity not listed here or handled in
# `chaos()` is refused: a policy that silently under-grants fails mid-run.
_COVERED = frozenset(
    {
        "",  # a control (the safety control): its stop_on_alarms are read below
        "remove_faults",
        "restore_alias",
        "allow_hosts",
        "remove_subscription",
        "wait_for_alarm_message",
        "wait_for_alias_version",
        "alarm_quiet",
        "alarm_state",
        "wait_for_alarm_quiet",
        "wait_for_alarm_state",
        "endpoint_healthy",
        "wait_for_health_check",
        "wait_for_sustained_success",
        "wait_for_user_impact",
        "wait_for_user_recovery",
        *NAME_PROBES,  # the target file's names (function_alarm reads: ReadAlarms)
    }
)
_HANDLED = frozenset(
    {
        "deploy_canary",
        "inject_latency",
        "inject_error",
        "throttle",
        "restore_concurrency",
        "manual_rollback",
        "deny_hosts",
        "subscribe_queue",
        "force_alarm_state",
        "wait_for_rollback",
        "wait_for_deployment",
    }
)


@dataclass
class PolicyBuilder:
    target: Target
    account: str = "*"
    # (sid, condition json) -> action -> resources
    grants: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict)

    # --- ARNs ----------------------------------------------------------------------------

    def _arn(self, service: str, rest: str) -> str:
        return f"arn:aws:{service}:{self.target.region}:{self.account}:{rest}"

    def function_arns(self, name: str) -> list[str]:
        base = self._arn("lambda", f"function:{name}")
        return [base, base + ":*"]  # the function and its versions / aliases

    def alarm_arn(self, name: str) -> str:
        return self._arn("cloudwatch", f"alarm:{name}")

    def alarm_arns(self, names: str) -> list[str]:
        """`a|b`: one of several alarms chosen at run time (names.function_alarm): all."""
        return [self.alarm_arn(n) for n in names.split("|")]

    def topic_arn(self, name: str) -> str:
        return name if name.startswith("arn:") else self._arn("sns", name)

    def group_arn(self, app: str, group: str) -> str:
        return self._arn("codedeploy", f"deploymentgroup:{app}/{group}")

    def parameter_arn(self, path: str) -> str:
        return self._arn("ssm", f"parameter{path}")

    # --- grants --------------------------------------------------------------------------

    def allow(
        self,
        sid: str,
        actions: Iterable[str],
        resources: Iterable[str],
        condition: Mapping[str, Any] | None = None,
    ) -> None:
        key = (sid, json.dumps(condition or {}, sort_keys=True))
        table = self.grants.setdefault(key, {})
        wanted = set(resources)
        for action in actions:
            table.setdefault(action, set()).update(wanted)

    def document(self) -> dict[str, Any]:
        statements: list[dict[str, Any]] = []
        for (sid, cond), table in sorted(self.grants.items()):
            # one statement per distinct resource set, actions sorted
            by_resources: dict[tuple[str, ...], list[str]] = {}
            for action, res in table.items():
                by_resources.setdefault(tuple(sorted(res)), []).append(action)
            for n, (arns, acts) in enumerate(sorted(by_resources.items())):
                st: dict[str, Any] = {
                    "Sid": f"{sid}{n if n else ''}",
                    "Effect": "Allow",
                    "Action": sorted(acts),
                    "Resource": list(arns) if len(arns) > 1 else arns[0],
                }
                if cond != "{}":
                    st["Condition"] = json.loads(cond)
                statements.append(st)
        return {"Version": "2012-10-17", "Statement": statements}

    # --- phases --------------------------------------------------------------------------

    def functions(self) -> list[str]:
        return [a for f in self.target.functions for a in self.function_arns(f.name)]

    def alarms(self) -> list[str]:
        names = {*self.target.alarms, *(a for f in self.target.functions for a in f.alarms)}
        return [self.alarm_arn(a) for a in sorted(names)]

    def groups(self) -> list[str]:
        app = self.target.application
        return [self.group_arn(app, g) for g in self.target.deployment_groups] if app else []

    def every_run(self) -> None:
        """What `gameday run` does whatever its phases: the run lock, a lease in one SSM
        parameter (lock.py: a coordination record, never the platform's state), and the
        caller's identity for the ledger (GetCallerIdentity needs no permission on AWS;
        granted so an explicit deny elsewhere is visible here)."""
        self.allow(
            "RunLock",
            ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
            [self.parameter_arn(LOCK_PARAMETER)],
        )
        self.allow("CallerIdentity", ["sts:GetCallerIdentity"], ["*"])

    def publish(self) -> None:
        """`gameday run --publish`: the run's SLO and deployment metrics, in their two
        namespaces only (PutMetricData has no resource level; the namespace key limits it)."""
        from .dashboard import SLO_NAMESPACE
        from .deployments import NAMESPACE

        self.allow(
            "PublishRunMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            {"StringEquals": {"cloudwatch:namespace": [NAMESPACE, SLO_NAMESPACE]}},
        )

    def conformance(self) -> None:
        self.allow("ReadFunctions", _READ_FUNCTION, self.functions())
        self.allow("ReadAlarms", ["cloudwatch:DescribeAlarms"], self.alarms())
        self.allow("FindTopic", ["sns:ListTopics"], ["*"])
        if self.target.alert_topic:
            self.allow(
                "ReadTopic",
                ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
                [self.topic_arn(self.target.alert_topic)],
            )

    def lint(self) -> None:
        self.allow("ReadAlarms", ["cloudwatch:DescribeAlarms"], self.alarms())
        if self.target.application:
            self.allow(
                "ReadDeploymentGroups",
                ["codedeploy:GetDeploymentGroup"],
                self.groups(),
            )

    def synthetics(self) -> None:
        return  # HTTP probes of the API only

    def load(self) -> None:
        return  # HTTP load of the API only

    def coldstart(self) -> None:
        fns = self.functions()
        self.allow("ReadFunctions", _READ_FUNCTION, fns)
        # a new execution environment is forced by a configuration change, then invoked
        self.allow(
            "ColdStarts", ["lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction"], fns
        )
        groups = [
            self._arn("logs", f"log-group:/aws/lambda/{f.name}:*") for f in self.target.functions
        ]
        self.allow("ReadColdStartLogs", ["logs:FilterLogEvents"], groups)

    def deployment_records(self) -> None:
        """After every run: the target's deployments, for the deployment metrics."""
        app = self.target.application
        if not app:
            return
        self.allow(
            "ReadDeployments",
            ["codedeploy:ListDeployments", "codedeploy:BatchGetDeployments"],
            [*self.groups(), self._arn("codedeploy", f"application:{app}")],
        )

    def chaos(self, experiments: Iterable[Mapping[str, Any]]) -> None:
        from .chaos.awslambda.layers import chaos_layer_for

        self.allow("ReadFunctions", _READ_FUNCTION, self.functions())
        self.allow("ReadAlarms", ["cloudwatch:DescribeAlarms"], self.alarms())
        for exp in experiments:
            for func, args in _activities(exp, self.target):
                if func not in _HANDLED and func not in _COVERED:
                    raise ConfigError(
                        f"experiment {exp.get('title', '?')!r}: no IAM policy known for "
                        f"activity {func!r}; refusing to print one that may under-grant"
                    )
                fn = args.get("function_name")
                fns = self.function_arns(fn) if isinstance(fn, str) else []
                if func in ("deploy_canary", "inject_latency", "inject_error"):
                    self.allow(
                        "ShipFaultyVersions",
                        [
                            "lambda:UpdateFunctionConfiguration",
                            "lambda:PublishVersion",
                            "lambda:UpdateAlias",
                            "lambda:ListVersionsByFunction",
                        ],
                        fns,
                    )
                    fault = args.get("fault", "exception")
                    if func != "deploy_canary" or fault == "error_body":
                        layer = chaos_layer_for(
                            self.target.region, override=self.target.chaos_layer
                        )
                        self.allow("UseExtensionLayer", ["lambda:GetLayerVersion"], [layer])
                    if func == "deploy_canary" and fault != "error_body" and isinstance(fn, str):
                        self.allow(
                            "CanaryFailureParameter",
                            ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                            [self.parameter_arn(f"/gameday/{fn}/canary-failure")],
                        )
                        # preflight: may the function's role read it?
                        self.allow(
                            "ReadFunctionRolePolicies",
                            [
                                "iam:ListRolePolicies",
                                "iam:GetRolePolicy",
                                "iam:ListAttachedRolePolicies",
                                "iam:GetPolicy",
                                "iam:GetPolicyVersion",
                            ],
                            [f"arn:aws:iam::{self.account}:role/*", "arn:aws:iam::*:policy/*"],
                        )
                    if args.get("via") == "codedeploy":
                        app, group = args.get("application"), args.get("deployment_group")
                        if isinstance(app, str) and isinstance(group, str):
                            self.allow(
                                "CanaryDeployments",
                                [
                                    "codedeploy:CreateDeployment",
                                    "codedeploy:GetDeployment",
                                    "codedeploy:GetDeploymentGroup",
                                    # cleanup finds a canary's deployment by its marker
                                    "codedeploy:ListDeployments",
                                    "codedeploy:StopDeployment",
                                ],
                                [self.group_arn(app, group)],
                            )
                            self.allow(
                                "CanaryDeploymentConfig",
                                ["codedeploy:GetDeploymentConfig"],
                                [self._arn("codedeploy", "deploymentconfig:*")],
                            )
                elif func in ("throttle", "restore_concurrency"):
                    self.allow(
                        "Throttle",
                        [
                            "lambda:PutFunctionConcurrency",
                            "lambda:DeleteFunctionConcurrency",
                            "lambda:GetFunctionConcurrency",
                        ],
                        fns,
                    )
                elif func == "manual_rollback":
                    self.allow(
                        "ManualRollback",
                        ["lambda:ListVersionsByFunction", "lambda:UpdateAlias"],
                        fns,
                    )
                elif func == "deny_hosts":
                    names = [n for n in args.get("function_names", []) if isinstance(n, str)]
                    arns = [a for n in names for a in self.function_arns(n)]
                    self.allow("ReadFunctions", _READ_FUNCTION, arns)
                    # the functions' own failure-lambda parameters (named in their
                    # environment, unknown until run time): restricted to this Region
                    self.allow(
                        "DenylistParameters",
                        # undo deletes a parameter the fault created
                        ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                        [self.parameter_arn("/*")],
                    )
                elif func in ("subscribe_queue",):
                    topic = args.get("topic")
                    if isinstance(topic, str):
                        self.allow(
                            "DrillSubscription",
                            ["sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic"],
                            [self.topic_arn(topic)],
                        )
                        self.allow("FindTopic", ["sns:ListTopics"], ["*"])
                    self.allow(
                        "DrillQueue",
                        [
                            "sqs:CreateQueue",
                            "sqs:GetQueueAttributes",
                            "sqs:SetQueueAttributes",
                            "sqs:GetQueueUrl",
                            "sqs:ReceiveMessage",
                            "sqs:DeleteQueue",
                        ],
                        [self._arn("sqs", "gameday-drill-*")],
                    )
                    self.allow("DrillUnsubscribe", ["sns:Unsubscribe"], ["*"])
                elif func == "force_alarm_state":
                    alarm = args.get("alarm_name")
                    if isinstance(alarm, str):
                        self.allow(
                            "DrillAlarmState", ["cloudwatch:SetAlarmState"], self.alarm_arns(alarm)
                        )
                for key in ("alarm_name",):
                    alarm = args.get(key)
                    if isinstance(alarm, str):
                        self.allow(
                            "WatchAlarms",
                            ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"],
                            self.alarm_arns(alarm),
                        )
                for alarm in args.get("stop_on_alarms", []) or []:
                    if isinstance(alarm, str):
                        self.allow(
                            "WatchAlarms", ["cloudwatch:DescribeAlarms"], self.alarm_arns(alarm)
                        )
                if func in ("wait_for_rollback", "wait_for_deployment"):
                    self.allow("WatchDeployments", ["codedeploy:GetDeployment"], self.groups())


def _activities(experiment: Mapping[str, Any], target: Target) -> list[tuple[str, dict[str, Any]]]:
    """(func, arguments with the target's names substituted) of this harness's activities."""
    from chaoslib import substitute

    from .chaos.lint_reader import _configuration

    conf = _configuration(experiment.get("configuration", {}) or {}, target)
    for key, value in (experiment.get("configuration", {}) or {}).items():
        if key not in conf and isinstance(value, Mapping) and value.get("type") == "probe":
            provider = value.get("provider") or {}
            if provider.get("func") == "function_alarm":
                conf[key] = _offline_alarm(target, provider.get("arguments") or {})
    out: list[tuple[str, dict[str, Any]]] = []
    sections = [
        experiment.get("steady-state-hypothesis", {}).get("probes", []) or [],
        experiment.get("method", []) or [],
        experiment.get("rollbacks", []) or [],
        experiment.get("controls", []) or [],  # the safety control's stop_on_alarms
    ]
    for acts in sections:
        for act in acts:
            provider = act.get("provider", {}) if isinstance(act, Mapping) else {}
            if not str(provider.get("module", "")).startswith("lambda_gameday.chaos"):
                continue
            args = substitute(dict(provider.get("arguments", {}) or {}), conf, {})
            out.append((str(provider.get("func", "")), dict(args)))
    return out


def _offline_alarm(target: Target, args: Mapping[str, Any]) -> str:
    """Without reading CloudWatch: every alarm the function lists may be the one chosen, so
    the policy names them all (an experiment's `${error_alarm}` becomes a wildcard-free
    list through WatchAlarms on each)."""
    fn = target.function(str(args.get("path", "")))
    return fn.alarms[0] if len(fn.alarms) == 1 else "|".join(fn.alarms)


def policy_for(
    plan: Plan,
    target: Target,
    *,
    account: str = "*",
    experiments_dir: str | Path = "experiments",
    publish: bool = False,
) -> dict[str, Any]:
    """The policy document for `plan` on `target` (`publish`: run with `--publish`)."""
    from .chaos.runner import resolve_experiment
    from .validate.experiment import load_experiment_file

    b = PolicyBuilder(target, account)
    b.every_run()
    if publish:
        b.publish()
    for spec in plan.phases:
        handler = getattr(b, spec.kind, None)
        if spec.kind == "chaos":
            opts = spec.options
            assert isinstance(opts, ChaosOptions)
            exps = [
                load_experiment_file(resolve_experiment(n, experiments_dir))
                for n in opts.experiments
            ]
            b.chaos(exps)
            b.deployment_records()
        elif handler is not None:
            handler()
        else:  # a phase kind this module does not know: refuse rather than under-grant
            raise ConfigError(f"{plan.source}: no IAM policy known for phase kind {spec.kind!r}")
    b.deployment_records()
    return b.document()
