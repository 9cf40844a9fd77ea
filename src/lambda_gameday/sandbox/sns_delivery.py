"""SNS -> SQS delivery as AWS gates it: only into a queue whose policy lets
`sns.amazonaws.com` `sqs:SendMessage` for the topic (condition `aws:SourceArn`).

Otherwise SNS drops the message silently and counts it in the topic's
`AWS/SNS NumberOfNotificationsFailed` metric (docs.aws.amazon.com/sns/latest/dg/
subscribe-sqs-queue-to-sns-topic.html, "Give permission to the Amazon SNS topic to send
messages to the Amazon SQS queue"; sns-monitoring-using-cloudwatch.html for the metrics).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .clock import AwsClock

if TYPE_CHECKING:
    from .core import Sandbox

__all__ = ["SnsDelivery", "SqsDeliveryGate", "queue_allows_topic"]

_SNS = "sns.amazonaws.com"


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _principal_matches(principal: object) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if _SNS in _as_list(principal.get("Service")):
        return True
    return "*" in _as_list(principal.get("AWS"))


def _matches_any(patterns: Iterable[object], value: str) -> bool:
    return any(
        isinstance(p, str) and fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns
    )


def _condition_holds(condition: object, topic_arn: str) -> bool:
    """Only the condition keys SNS's request carries are known; any other key fails safe."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return False
    account = topic_arn.split(":")[4] if topic_arn.count(":") >= 5 else ""
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict):
            return False
        for key, expected in clauses.items():
            k = str(key).lower()
            if k == "aws:sourcearn":
                actual = topic_arn
            elif k == "aws:sourceaccount":
                actual = account
            else:
                return False
            wanted = _as_list(expected)
            if operator in ("ArnEquals", "StringEquals"):
                if actual not in wanted:
                    return False
            elif operator in ("ArnLike", "StringLike"):
                if not any(isinstance(w, str) and fnmatch.fnmatchcase(actual, w) for w in wanted):
                    return False
            else:
                return False
    return True


def queue_allows_topic(policy: str | None, queue_arn: str, topic_arn: str) -> bool:
    """Whether the queue policy (JSON text, or None) allows SNS to deliver from topic_arn."""
    if not policy:
        return False
    try:
        doc = json.loads(policy)
    except ValueError:
        return False
    allowed = False
    for st in _as_list(doc.get("Statement") if isinstance(doc, dict) else None):
        if not isinstance(st, dict) or not _principal_matches(st.get("Principal")):
            continue
        if not _matches_any(_as_list(st.get("Action")), "sqs:SendMessage"):
            continue
        if "Resource" in st and not _matches_any(_as_list(st.get("Resource")), queue_arn):
            continue
        if not _condition_holds(st.get("Condition"), topic_arn):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


class SqsDeliveryGate:
    """Decides each SNS -> SQS delivery for one account and Region and counts it."""

    def __init__(self, account_id: str, region: str, clock: AwsClock, *, enforce: bool = True):
        self.account_id, self.region, self.clock, self.enforce = account_id, region, clock, enforce
        self.dropped: list[tuple[str, str]] = []  # (topic ARN, queue ARN)

    def __call__(self, topic_arn: str, queue_arn: str) -> bool:
        allowed = not self.enforce or queue_allows_topic(
            self._queue_policy(queue_arn), queue_arn, topic_arn
        )
        if not allowed:
            self.dropped.append((topic_arn, queue_arn))
        self._count(
            topic_arn,
            "NumberOfNotificationsDelivered" if allowed else "NumberOfNotificationsFailed",
        )
        return allowed

    def _queue_policy(self, queue_arn: str) -> str | None:
        from moto.sqs.models import sqs_backends

        parts = queue_arn.split(":")
        try:
            queue = sqs_backends[parts[4]][parts[3]].get_queue(parts[5])
        except Exception:  # no such queue: SNS's delivery fails too
            return None
        policy = queue.policy
        return None if policy is None else str(policy)

    def _count(self, topic_arn: str, metric: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        topic_region = topic_arn.split(":")[3]
        cloudwatch_backends[self.account_id][topic_region].put_metric_data(
            "AWS/SNS",
            [
                {
                    "MetricName": metric,
                    "Value": 1.0,
                    "Unit": "Count",
                    "Timestamp": self.clock.datetime().replace(tzinfo=None),  # moto: naive UTC
                    "Dimensions": [{"Name": "TopicName", "Value": topic_arn.split(":")[5]}],
                }
            ],
        )


class SnsDelivery:
    """The sandbox component that installs the gate for the sandbox's account."""

    def __init__(self) -> None:
        self.gate: SqsDeliveryGate | None = None
        self._account: str | None = None

    def start(self, sandbox: Sandbox) -> None:
        from .moto_adapter import install_sqs_delivery_gate

        cfg = sandbox.config
        self.gate = SqsDeliveryGate(
            cfg.account_id,
            cfg.region,
            sandbox.clock,
            enforce=not cfg.relaxed("sns-sqs-without-policy"),
        )
        self._account = cfg.account_id
        install_sqs_delivery_gate(cfg.account_id, self.gate)

    def stop(self) -> None:
        from .moto_adapter import remove_sqs_delivery_gate

        if self._account is not None:
            remove_sqs_delivery_gate(self._account)
            self._account = None
