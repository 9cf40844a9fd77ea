"""The alarm-notification drill: a temporary SQS subscription on the alert topic, ledgered
so it is removed afterwards however the run ends.

SNS delivers to an SQS queue only if the queue's policy lets `sns.amazonaws.com` call
`sqs:SendMessage` for that topic (condition `aws:SourceArn`); without it the message is
silently dropped (SNS developer guide, "Fanout to Amazon SQS queues": "Give permission to
the Amazon SNS topic to send messages to the Amazon SQS queue"). The drill queue gets
exactly that policy; the ledger removes it, the subscription and the queue afterwards."""

from __future__ import annotations

import json
import time
import uuid
from typing import TypedDict

from ...aws import aws_errors
from ...exceptions import GamedayError, ResourceNotFound
from ..faults import Scope, inject, scope, undo_faults
from ..guard import refuse_unless_allowed
from ..run import run_of

__all__ = [
    "AlarmMessage",
    "Subscription",
    "force_alarm_state",
    "queue_policy",
    "remove_subscription",
    "subscribe_queue",
    "topic_arn",
    "wait_for_alarm_message",
]


class Subscription(TypedDict):
    topic_arn: str
    queue_url: str
    queue_arn: str
    subscription_arn: str
    ledger_id: str


class AlarmMessage(TypedDict):
    alarm: str
    new_state: str
    old_state: str
    subject: str
    state_change_time: str
    received_at: float


def topic_arn(sc: Scope, topic: str) -> str:
    """The ARN of a topic given by name or ARN; ResourceNotFound if absent."""
    sns = sc.clients.sns()
    with aws_errors(f"finding topic {topic}"):
        if topic.startswith("arn:"):
            sns.get_topic_attributes(TopicArn=topic)
            return topic
        for page in sns.get_paginator("list_topics").paginate():
            for t in page["Topics"]:
                if t["TopicArn"].rsplit(":", 1)[-1] == topic:
                    return t["TopicArn"]
    raise ResourceNotFound(f"topic {topic!r} does not exist on {sc.target.name}")


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """The least policy that lets the topic deliver to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "gameday-drill-from-topic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def subscribe_queue(topic: str, configuration: dict[str, object] | None = None) -> Subscription:
    """Create a temporary SQS queue and subscribe it to the topic (raw delivery off, so
    messages keep SNS's Notification envelope). Undo: `remove_subscription`."""
    sc = scope(configuration)
    arn = topic_arn(sc, topic)
    sqs, sns = sc.clients.sqs(), sc.clients.sns()
    name = f"gameday-drill-{uuid.uuid4().hex[:8]}"
    made: dict[str, str] = {}

    def make() -> None:
        with aws_errors(f"creating queue {name}"):
            made["url"] = sqs.create_queue(QueueName=name)["QueueUrl"]
            made["arn"] = sqs.get_queue_attributes(
                QueueUrl=made["url"], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        with aws_errors(f"allowing {arn} to send to queue {name}"):
            sqs.set_queue_attributes(
                QueueUrl=made["url"], Attributes={"Policy": queue_policy(made["arn"], arn)}
            )
        with aws_errors(f"subscribing {name} to {arn}"):
            made["sub"] = sns.subscribe(
                TopicArn=arn, Protocol="sqs", Endpoint=made["arn"], ReturnSubscriptionArn=True
            )["SubscriptionArn"]

    entry, _, _ = inject(
        sc,
        "subscription",
        arn,
        f"drill queue {name} subscribed to {arn}",
        [
            {"op": "unsubscribe", "topic_arn": arn, "queue_name": name},
            {"op": "restore_queue_policy", "queue_name": name, "policy": None},
            {"op": "delete_queue", "queue_name": name},
        ],
        make,
    )
    result = Subscription(
        topic_arn=arn,
        queue_url=made["url"],
        queue_arn=made["arn"],
        subscription_arn=made["sub"],
        ledger_id=entry.id,
    )
    sc.run.subscriptions[arn] = result
    return result


def force_alarm_state(
    alarm_name: str,
    state: str = "ALARM",
    reason: str = "gameday notification drill",
    configuration: dict[str, object] | None = None,
) -> float:
    """`set-alarm-state`, the documented way to test an alarm's actions. The alarm's own
    evaluation sets it back at its next evaluation. Returns when the call completed."""
    sc = scope(configuration)
    sc.run.check_abort()
    # not undoable (the alarm re-evaluates), but it fires the alarm's actions: guarded
    refuse_unless_allowed(sc.target, sc.run, f"set-alarm-state on {alarm_name}")
    with aws_errors(f"setting alarm {alarm_name} to {state}"):
        sc.clients.cloudwatch().set_alarm_state(
            AlarmName=alarm_name,
            StateValue=state,  # type: ignore[arg-type]
            StateReason=reason,
        )
    return time.time()


def wait_for_alarm_message(
    alarm_name: str,
    state: str = "ALARM",
    topic: str | None = None,
    timeout_s: float = 60.0,
    configuration: dict[str, object] | None = None,
) -> AlarmMessage:
    """Wait until the drill queue receives the alarm's notification for `state`."""
    sc = scope(configuration)
    subs = [s for arn, s in sc.run.subscriptions.items() if topic is None or arn.endswith(topic)]
    if not subs:
        raise GamedayError("no drill subscription in this run: call subscribe_queue first")
    sqs = sc.clients.sqs()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sc.run.check_abort()
        with aws_errors("receiving from the drill queue"):
            got = sqs.receive_message(
                QueueUrl=subs[-1]["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
        for msg in got.get("Messages", []):
            try:
                envelope = json.loads(msg["Body"])
                body = json.loads(envelope.get("Message", "{}"))
            except (json.JSONDecodeError, TypeError):
                continue
            if body.get("AlarmName") == alarm_name and body.get("NewStateValue") == state:
                return AlarmMessage(
                    alarm=alarm_name,
                    new_state=state,
                    old_state=str(body.get("OldStateValue")),
                    subject=str(envelope.get("Subject", "")),
                    state_change_time=str(body.get("StateChangeTime", "")),
                    received_at=time.time(),
                )
    raise GamedayError(
        f"no {state} notification for {alarm_name} reached the alert topic's subscriber"
        f" within {timeout_s:g}s"
    )


def remove_subscription(configuration: dict[str, object] | None = None) -> list[str]:
    """Rollback: unsubscribe and delete the drill queue."""
    run_of(configuration).subscriptions.clear()
    return undo_faults(scope(configuration), kind="subscription")
