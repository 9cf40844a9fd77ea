"""Every reach into moto's private internals, in one place.

Checked against moto 5.2.5 (pyproject pins `moto[server]>=5.1,<5.3` for these). Everything
else in the sandbox uses moto's public backend methods (`list_functions`, `get_function_by_arn`,
`list_versions_by_function`, `list_aliases`, ...) and public model attributes. When moto is
upgraded, these functions are the ones to re-check; each says what it reads and why moto
offers no public way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "deployment_group_info",
    "install_sqs_delivery_gate",
    "remove_sqs_delivery_gate",
    "reset_account_backends",
    "reset_all_backends",
    "ssm_parameter_names",
]

_GATE_LOCK = threading.Lock()


def reset_all_backends() -> None:
    """Reset every moto backend in this process (moto's backends are process-wide).

    moto's public reset is the HTTP call `POST /moto-api/reset`; in-process it is
    `moto_api._internal.models.moto_api_backend.reset()` (checked: moto 5.2.5)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def reset_account_backends(account_id: str) -> None:
    """Reset one account's state in every moto backend, leaving other accounts' alone.

    moto resets only everything at once; this walks `BackendDict._instances` (checked: moto
    5.2.5, the class-level list of every service's BackendDict, keyed by account id)."""
    from moto.core.base_backend import BackendDict

    instances: list[Any] = list(getattr(BackendDict, "_instances"))  # noqa: B009
    for backend_dict in instances:
        account = backend_dict.get(account_id)
        if account is not None:
            account.reset()
            backend_dict.pop(account_id, None)


def ssm_parameter_names(backend: Any) -> list[str]:
    """Every parameter name the SSM backend holds.

    The public `describe_parameters`/`get_parameters_by_path` page, filter and copy; the
    watcher only needs the names, several times a second (checked: moto 5.2.5,
    `SimpleSystemManagerBackend._parameters` is a dict keyed by name)."""
    return list(backend._parameters)


def deployment_group_info(group: Any) -> dict[str, Any]:
    """moto's own GetDeploymentGroup body for `group` (moto's module-private
    `codedeploy.responses._deployment_group_info`, checked: moto 5.2.5), so the sandbox's
    answer carries every field moto's does."""
    from moto.codedeploy.responses import _deployment_group_info

    info: dict[str, Any] = _deployment_group_info(group)
    return info


# account id -> gate(topic ARN, queue ARN) -> deliver?
_SQS_GATES: dict[str, Callable[[str, str], bool]] = {}
_ORIGINAL_SUBSCRIPTION_PUBLISH: Any = None


def install_sqs_delivery_gate(account_id: str, gate: Callable[[str, str], bool]) -> None:
    """Make moto's SNS ask `gate(topic_arn, queue_arn)` before each delivery to an SQS
    queue from a topic of `account_id`; False drops the message.

    moto has no delivery hook: this wraps `moto.sns.models.Subscription.publish` (checked:
    moto 5.2.5, signature `(self, message, message_id, subject=None, ...)`, attributes
    `protocol`, `endpoint`, `topic.arn`). Process-wide, dispatched per account."""
    global _ORIGINAL_SUBSCRIPTION_PUBLISH
    from moto.sns.models import Subscription

    with _GATE_LOCK:
        _SQS_GATES[account_id] = gate
        if _ORIGINAL_SUBSCRIPTION_PUBLISH is not None:
            return
        original = _ORIGINAL_SUBSCRIPTION_PUBLISH = Subscription.publish

        def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> Any:
            gate = _SQS_GATES.get(str(self.topic.arn).split(":")[4])
            if (
                self.protocol == "sqs"
                and gate is not None
                and not gate(self.topic.arn, self.endpoint)
            ):
                return None
            return original(self, message, message_id, *args, **kwargs)

        Subscription.publish = publish  # type: ignore[method-assign]


def remove_sqs_delivery_gate(account_id: str) -> None:
    global _ORIGINAL_SUBSCRIPTION_PUBLISH
    from moto.sns.models import Subscription

    with _GATE_LOCK:
        _SQS_GATES.pop(account_id, None)
        if not _SQS_GATES and _ORIGINAL_SUBSCRIPTION_PUBLISH is not None:
            Subscription.publish = _ORIGINAL_SUBSCRIPTION_PUBLISH  # type: ignore[method-assign]
            _ORIGINAL_SUBSCRIPTION_PUBLISH = None
