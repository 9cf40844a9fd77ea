"""Every reach into moto's private internals, in one place.

Checked against moto 5.2.5 (pyproject pins `moto[server]>=5.1,<5.3` for these). Everything
else in the sandbox uses moto's public backend methods (`list_functions`, `get_function_by_arn`,
`list_versions_by_function`, `list_aliases`, ...) and public model attributes. When moto is
upgraded, these functions are the ones to re-check; each says what it reads and why moto
offers no public way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "aws_time",
    "aws_utcnow",
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


# -- AWS's clock inside moto ---------------------------------------------------------------

_AWS_TIME = threading.local()  # .clock: AWS's epoch-seconds clock for this thread's call
_AWS_TIME_LOCK = threading.Lock()
_AWS_TIME_INSTALLED = False

# module -> names it imported from moto.core.utils and stamps with (checked: moto 5.2.5):
# Lambda LastModified, CloudWatch alarm configuration/state times and PutMetricData's default
# Timestamp, SNS message Timestamp, CodeDeploy create times.
_STAMPERS: dict[str, tuple[str, ...]] = {
    "moto.awslambda.models": ("utcnow", "iso_8601_datetime_with_nanoseconds"),
    "moto.cloudwatch.models": ("utcnow",),
    "moto.sns.models": ("utcnow", "iso_8601_datetime_with_milliseconds"),
    "moto.codedeploy.models": ("utcnow",),
}


def aws_utcnow() -> datetime:
    """Now, as moto stamps it (naive UTC), on AWS's clock inside `aws_time`."""
    clock: Callable[[], float] | None = getattr(_AWS_TIME, "clock", None)
    if clock is None:  # not inside a sandbox's call: moto's own clock
        from moto.core.utils import utcnow

        return utcnow()
    return datetime.fromtimestamp(clock(), UTC).replace(tzinfo=None)  # moto: naive UTC


def _aws_iso_nanoseconds() -> str:
    return aws_utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def _aws_iso_milliseconds(value: datetime | None = None) -> str:
    return (value or aws_utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "utcnow": aws_utcnow,
    "iso_8601_datetime_with_nanoseconds": _aws_iso_nanoseconds,
    "iso_8601_datetime_with_milliseconds": _aws_iso_milliseconds,
}


def _install_aws_time() -> None:
    """moto stamps with `moto.core.utils.utcnow` and two ISO helpers, imported by name into
    each service's models module; rebinding those names there makes every stamp read AWS's
    clock when a sandbox's call is in progress on the thread (`aws_time`), and moto's own
    clock otherwise. Installed once per process, never observable outside a sandbox call."""
    global _AWS_TIME_INSTALLED
    import importlib

    with _AWS_TIME_LOCK:
        if _AWS_TIME_INSTALLED:
            return
        for module_name, names in _STAMPERS.items():
            module = importlib.import_module(module_name)
            for name in names:
                assert hasattr(module, name), f"moto changed: {module_name}.{name}"
                setattr(module, name, _REPLACEMENTS[name])
        _AWS_TIME_INSTALLED = True


@contextmanager
def aws_time(clock: Callable[[], float]) -> Iterator[None]:
    """Within the block, on this thread, every timestamp moto stamps is `clock()`'s (the
    sandbox's AWS clock, skewed on request) instead of the local clock's."""
    _install_aws_time()
    previous = getattr(_AWS_TIME, "clock", None)
    _AWS_TIME.clock = clock
    try:
        yield
    finally:
        _AWS_TIME.clock = previous
