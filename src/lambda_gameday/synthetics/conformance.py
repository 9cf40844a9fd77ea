"""A read-only check of a target's setup against the seed's week-1 checklist.

For every function the target names:
  versions      it has at least one published version;
  aliases       each declared alias (production, canary) exists and points at a published
                version, not `$LATEST`;
  provisioned   where the target declares provisioned concurrency, the alias has a READY
                config with at least that many environments;
  alarms        its alarms exist, one watches `Errors` and one `Duration`, and each sends
                to the alert topic;
and once for the target:
  topic         the alert topic exists and has a confirmed subscription.

Every item yields a Finding — passes too, so nothing is skipped silently. A finding that
could not be checked (an API error) has status `error`. Nothing is changed on the target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..aws import Clients, aws_errors
from ..config import FunctionSpec, Target
from ..exceptions import ResourceNotFound, TargetError
from ..findings import Finding

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sns import SNSClient

__all__ = ["require_checked", "run_conformance"]

LATEST = "$LATEST"


def _pass(check: str, resource: str, message: str) -> Finding:
    return Finding("info", resource, message, rule=check)


def _fail(check: str, resource: str, message: str, fix: str) -> Finding:
    return Finding("error", resource, message, fix, rule=check)


def _unchecked(check: str, resource: str, exc: TargetError) -> Finding:
    return Finding(
        "error", resource, f"could not check: {exc.one_line()}", rule=check, checked=False
    )


def _guard(check: str, resource: str, fn: Callable[[], list[Finding]]) -> list[Finding]:
    try:
        return fn()
    except TargetError as exc:
        return [_unchecked(check, resource, exc)]


def _versions(lam: LambdaClient, fn: FunctionSpec) -> list[Finding]:
    versions: list[str] = []
    with aws_errors(f"listing versions of {fn.name}"):
        for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=fn.name):
            versions.extend(
                v["Version"] for v in page.get("Versions", []) if v["Version"] != LATEST
            )
    if not versions:
        return [
            _fail(
                "versions",
                fn.name,
                "no published versions: nothing to roll back to",
                f"aws lambda publish-version --function-name {fn.name} "
                "(Serverless: custom.versionFunctions: true)",
            )
        ]
    return [
        _pass("versions", fn.name, f"{len(versions)} published version(s), latest {versions[-1]}")
    ]


def _aliases(lam: LambdaClient, fn: FunctionSpec) -> list[Finding]:
    out = []
    for alias in fn.aliases:
        resource = f"{fn.name}:{alias}"
        try:
            with aws_errors(f"reading alias {resource}"):
                cfg = lam.get_alias(FunctionName=fn.name, Name=alias)
        except ResourceNotFound:
            out.append(
                _fail(
                    "aliases",
                    resource,
                    f"alias {alias!r} does not exist",
                    f"aws lambda create-alias --function-name {fn.name} --name {alias} "
                    "--function-version <published version>",
                )
            )
            continue
        version = cfg.get("FunctionVersion", "")
        if version == LATEST:
            out.append(
                _fail(
                    "aliases",
                    resource,
                    "alias points at $LATEST: traffic follows every unpublished change and "
                    "cannot be shifted or rolled back",
                    f"aws lambda update-alias --function-name {fn.name} --name {alias} "
                    "--function-version <published version>",
                )
            )
        else:
            out.append(_pass("aliases", resource, f"alias {alias!r} serves version {version}"))
    return out


def _provisioned(lam: LambdaClient, fn: FunctionSpec) -> list[Finding]:
    resource = f"{fn.name}:{fn.alias}"
    fix = (
        f"aws lambda put-provisioned-concurrency-config --function-name {fn.name} "
        f"--qualifier {fn.alias} --provisioned-concurrent-executions {fn.provisioned_concurrency}"
    )
    try:
        with aws_errors(f"reading provisioned concurrency of {resource}"):
            cfg = lam.get_provisioned_concurrency_config(FunctionName=fn.name, Qualifier=fn.alias)
    except ResourceNotFound:
        return [
            _fail(
                "provisioned",
                resource,
                f"target declares {fn.provisioned_concurrency} provisioned environments, "
                "none configured",
                fix,
            )
        ]
    status = cfg.get("Status")
    allocated = cfg.get("AllocatedProvisionedConcurrentExecutions", 0)
    if status != "READY" or allocated < fn.provisioned_concurrency:
        return [
            _fail(
                "provisioned",
                resource,
                f"provisioned concurrency {status}, {allocated} of "
                f"{fn.provisioned_concurrency} declared environments allocated",
                fix,
            )
        ]
    return [_pass("provisioned", resource, f"{allocated} provisioned environments READY")]


def _alarms(
    cw: CloudWatchClient, fn: FunctionSpec, target: Target, topic_arn: str | None
) -> list[Finding]:
    names = list(fn.alarms)
    if not names:
        return [
            _fail(
                "alarms",
                fn.name,
                "the target names no alarms for this function",
                "add its error and duration alarm names to the target file (functions.alarms)",
            )
        ]
    found: dict[str, Any] = {}
    with aws_errors(f"describing alarms of {fn.name}"):  # by name, every page
        for start in range(0, len(names), 100):
            for page in cw.get_paginator("describe_alarms").paginate(
                AlarmNames=names[start : start + 100]
            ):
                found |= {a["AlarmName"]: a for a in page.get("MetricAlarms", [])}
    out: list[Finding] = []
    for name in names:
        if name not in found:
            out.append(
                _fail(
                    "alarms",
                    name,
                    "alarm does not exist",
                    "create it (seed: ErrorRateAlarm / DurationAlarm in serverless.yml resources)",
                )
            )
            continue
        alarm = found[name]
        actions = list(alarm.get("AlarmActions", []))
        if topic_arn is None:
            out.append(
                _fail(
                    "alarms",
                    name,
                    "cannot verify alarm actions: the alert topic was not found",
                    "fix the topic first",
                )
            )
        elif topic_arn not in actions:
            out.append(
                _fail(
                    "alarms",
                    name,
                    f"alarm does not notify the alert topic (actions: {actions or 'none'})",
                    f"aws cloudwatch put-metric-alarm ... --alarm-actions {topic_arn}",
                )
            )
        else:
            out.append(
                _pass("alarms", name, f"{alarm.get('MetricName')} alarm notifies the alert topic")
            )
    metrics = {found[n].get("MetricName") for n in names if n in found}
    for metric in ("Errors", "Duration"):
        if metric not in metrics:
            out.append(
                _fail(
                    "alarms",
                    fn.name,
                    f"no alarm on AWS/Lambda {metric} among {', '.join(names)}",
                    f"add a {metric} alarm for {fn.name} (seed: "
                    f"{'ErrorRateAlarm' if metric == 'Errors' else 'DurationAlarm'})",
                )
            )
    return out


def _find_topic(sns: SNSClient, topic: str) -> str | None:
    if topic.startswith("arn:"):
        with aws_errors(f"reading topic {topic}"):
            try:
                sns.get_topic_attributes(TopicArn=topic)
            except sns.exceptions.NotFoundException:
                return None
        return topic
    with aws_errors("listing SNS topics"):
        for page in sns.get_paginator("list_topics").paginate():
            for t in page.get("Topics", []):
                if t["TopicArn"].rsplit(":", 1)[-1] == topic:
                    return t["TopicArn"]
    return None


def _topic(sns: SNSClient, target: Target, topic_arn: str | None) -> list[Finding]:
    name = target.alert_topic or "<none>"
    if target.alert_topic is None:
        return [
            _fail(
                "topic",
                name,
                "the target names no alert topic",
                "set alert_topic in the target file",
            )
        ]
    if topic_arn is None:
        return [
            _fail(
                "topic",
                name,
                "alert topic does not exist",
                f"aws sns create-topic --name {name} (seed: AlertTopic)",
            )
        ]
    subs: list[Any] = []
    with aws_errors(f"listing subscriptions of {topic_arn}"):
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            subs.extend(page.get("Subscriptions", []))
    confirmed = [s for s in subs if s.get("SubscriptionArn", "").startswith("arn:")]
    if not confirmed:
        pending = len(subs)
        return [
            _fail(
                "topic",
                topic_arn,
                f"no confirmed subscription ({pending} pending)" if pending else "no subscriptions",
                f"aws sns subscribe --topic-arn {topic_arn} --protocol email "
                "--notification-endpoint <on-call address>, then confirm it",
            )
        ]
    kinds = ", ".join(sorted({s.get("Protocol", "?") for s in confirmed}))
    return [_pass("topic", topic_arn, f"{len(confirmed)} confirmed subscription(s) ({kinds})")]


def run_conformance(target: Target, *, clients: Clients | None = None) -> list[Finding]:
    """Every checklist finding for `target`, passes included; never changes anything."""
    clients = clients or Clients(target)
    lam, cw, sns = clients.lambda_(), clients.cloudwatch(), clients.sns()
    topic_arn: str | None = None
    topic_findings: list[Finding] = []
    if target.alert_topic is not None:
        try:
            topic_arn = _find_topic(sns, target.alert_topic)
        except TargetError as exc:
            topic_findings = [_unchecked("topic", target.alert_topic, exc)]

    def per_function(fn: FunctionSpec) -> Iterator[Finding]:
        yield from _guard("versions", fn.name, lambda: _versions(lam, fn))
        yield from _guard("aliases", fn.name, lambda: _aliases(lam, fn))
        if fn.provisioned_concurrency > 0:
            yield from _guard("provisioned", fn.name, lambda: _provisioned(lam, fn))
        yield from _guard("alarms", fn.name, lambda: _alarms(cw, fn, target, topic_arn))

    findings = [f for fn in target.functions for f in per_function(fn)]
    findings += topic_findings or _guard(
        "topic", target.alert_topic or "<none>", lambda: _topic(sns, target, topic_arn)
    )
    return findings


def require_checked(findings: Sequence[Finding]) -> None:
    """TargetError (exit 3) when an item could not be checked (no credentials, unreachable,
    throttled): a verdict over an unreadable target would blame the setup for the harness's
    access. `gameday conformance` and the game day's conformance phase both ask this first."""
    unchecked = [f for f in findings if not f.checked]
    if unchecked:
        raise TargetError(
            f"{len(unchecked)} of {len(findings)} checklist items could not be checked; "
            f"first: {unchecked[0].resource}: {unchecked[0].message}"
        )
