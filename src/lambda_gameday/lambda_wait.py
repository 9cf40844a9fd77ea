"""Waiting for a Lambda configuration update to finish, as AWS requires between changes.

While `LastUpdateStatus` is `InProgress`, another update of the same function is refused
(ResourceConflictException) and invocations may still run the old configuration
(https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html). Shared by the
chaos actions and their undo steps, and by the cold-start probe.
"""

from __future__ import annotations

import time

from .aws import Clients, aws_errors
from .exceptions import TargetError

__all__ = ["wait_function_updated"]


def wait_function_updated(
    clients: Clients, function: str, timeout_s: float = 30.0, poll_s: float = 0.2
) -> None:
    """Return once `function`'s last update is no longer InProgress. A Failed update, or
    one still in progress after `timeout_s`, leaves the function unusable: TargetError."""
    deadline = time.monotonic() + timeout_s
    lam = clients.lambda_()
    while True:
        with aws_errors(f"reading {function}'s configuration"):
            # GetFunction has its own quota (100/s), apart from the 15/s control plane
            cfg = lam.get_function(FunctionName=function)["Configuration"]
        status = cfg.get("LastUpdateStatus", "Successful")
        if status == "Failed":
            raise TargetError(
                f"{function}: the last configuration update failed "
                f"({cfg.get('LastUpdateStatusReason', 'no reason given')})"
            )
        if status != "InProgress":
            return
        if time.monotonic() >= deadline:
            raise TargetError(
                f"{function}: configuration update still in progress after {timeout_s:g} s"
            )
        # polling an external status, bounded by the deadline; at least 1 s apart on AWS
        time.sleep(clients.poll_interval(poll_s))
