"""AWS's clock, as the twin stamps it: the local clock plus a configurable skew.

Every timestamp AWS would stamp (alarm transitions, deployment times, log and metric
timestamps, the `Date` header of AWS API responses, and — through `moto_adapter.aws_time`
around every call — what moto stamps itself: LastModified, alarm configuration times, SNS
message Timestamps) comes from here, so a harness that mixes its own clock with AWS's can be
caught (`gameday sandbox --clock-skew SECONDS`).
Ground truth stays on the local clock: it is what really happened, when.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["AwsClock"]


class AwsClock:
    def __init__(self, skew_s: float = 0.0):
        self.skew_s = float(skew_s)

    def now(self) -> float:
        """AWS's epoch seconds."""
        return time.time() + self.skew_s

    def to_aws(self, local_epoch: float) -> float:
        """A local-clock instant as AWS's clock reads it."""
        return local_epoch + self.skew_s

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)
