"""Keeping the harness's AWS API calls inside the account's request-rate quotas.

AWS counts API requests per account and Region, shared by everything in the account: the
Lambda control plane allows 15 requests/s in total (GetFunction 100/s, invocations not
counted), CloudWatch, CodeDeploy and SSM have per-API TPS quotas. A harness that polls
every 50 ms takes the whole quota and gets `TooManyRequestsException` /
`ThrottlingException`. So every call the harness makes through `aws.Clients` first takes a
token from a process-wide bucket for its (endpoint, quota) pair, filled at a *share* of
the documented default (half on AWS, so deploy pipelines and other teams keep the rest;
`SANDBOX_SHARE` on the sandbox, where nobody else calls but the twin enforces the same
quotas). A
throttle that still happens is retried by botocore's adaptive mode, and pollers treat a
throttle that outlives the retries as "not yet", never as a failure (`aws.Throttled`).

Defaults used (Service Quotas defaults, adjustable per account):
* Lambda: control plane 15/s; GetFunction 100/s (Lambda developer guide, "Lambda quotas",
  API request rates).
* CloudWatch: DescribeAlarms(ForMetric) 9/s; PutMetricAlarm, DeleteAlarms, SetAlarmState,
  DescribeAlarmHistory 3/s; GetMetricData 50/s; ListMetrics 25/s; GetMetricStatistics
  400/s; PutMetricData 500/s; anything else 3/s (modelled). CloudWatch user guide,
  "CloudWatch service quotas".
* CodeDeploy: no per-API number is published; 10/s (modelled).
* SSM: GetParameter(s)(ByPath) share 40/s, PutParameter 3/s (modelled) (Systems Manager
  endpoints and quotas, Parameter Store standard throughput).
* SNS / SQS: 30/s (modelled; their quotas are far higher).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_SHARE", "PACER", "SANDBOX_SHARE", "Bucket", "Pacer", "quota_for"]

DEFAULT_SHARE = 0.5
SANDBOX_SHARE = 0.9

Quota = tuple[str, float]  # (bucket name: calls with the same name share it, requests/s)


def _each(service: str, **rates: float) -> dict[tuple[str, str], Quota]:
    """Operations with a quota of their own, each its own bucket "service:Operation"."""
    return {(service, op): (f"{service}:{op}", rate) for op, rate in rates.items()}


def _pooled(service: str, bucket: str, rate: float, *ops: str) -> dict[tuple[str, str], Quota]:
    """Operations that share one quota; `*` stands for every operation not listed."""
    return {(service, op): (bucket, rate) for op in ops}


# (service, operation or "*") -> its quota
_QUOTAS: dict[tuple[str, str], Quota] = {
    **_each("lambda", GetFunction=100.0, Invoke=1000.0),  # Invoke: not a control-plane call
    **_pooled("lambda", "lambda:control-plane", 15.0, "*"),
    **_each(
        "cloudwatch",
        DescribeAlarms=9.0,
        DescribeAlarmsForMetric=9.0,
        DescribeAlarmHistory=3.0,
        SetAlarmState=3.0,
        PutMetricAlarm=3.0,
        DeleteAlarms=3.0,
        GetMetricData=50.0,
        ListMetrics=25.0,
        GetMetricStatistics=400.0,
        PutMetricData=500.0,
    ),
    **_pooled("cloudwatch", "cloudwatch:other", 3.0, "*"),  # modelled: the lowest listed
    **_pooled("codedeploy", "codedeploy", 10.0, "*"),  # modelled: no rate is published
    # Parameter Store, standard throughput: the Get* calls share 40 TPS
    **_pooled("ssm", "ssm:get", 40.0, "GetParameter", "GetParameters", "GetParametersByPath"),
    **_each("ssm", PutParameter=3.0),
    **_pooled("ssm", "ssm:other", 10.0, "*"),
    **_pooled("logs", "logs", 5.0, "*"),
}


def quota_for(service: str, operation: str) -> Quota | None:
    """The quota a call counts against, or None for services the harness does not pace."""
    return _QUOTAS.get((service, operation)) or _QUOTAS.get((service, "*"))


@dataclass
class Bucket:
    """A token bucket: `rate` tokens per second, at most `burst` saved up."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def reserve(self, now: float) -> float:
        """Take one token; returns how long the caller must wait before using it."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Pacer:
    """Process-wide buckets keyed by (account key, quota). Thread-safe; waiting happens
    outside the lock, so a thread that must wait does not block the others' reservations."""

    def __init__(
        self,
        share: float = DEFAULT_SHARE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < share <= 1:
            raise ValueError(f"share {share} must be in (0, 1]")
        self.share = share
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self.calls: dict[str, int] = {}  # per quota name: calls paced (for tests and bench)
        self.waited_s = 0.0

    def rate(self, service: str, operation: str) -> float | None:
        q = quota_for(service, operation)
        return None if q is None else q[1] * self.share

    def acquire(
        self, account: str, service: str, operation: str, share: float | None = None
    ) -> float:
        """Block until the call may be sent; returns the seconds waited. `share` (default:
        the pacer's) is fixed by the first call for an account."""
        q = quota_for(service, operation)
        if q is None:
            return 0.0
        name, per_s = q
        rate = per_s * (share or self.share)
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((account, name))
            if bucket is None:
                # no saved-up burst: any one-second window sees at most rate + 1 calls
                bucket = self._buckets[(account, name)] = Bucket(rate, 1.0, 1.0, now)
            wait = bucket.reserve(now)
            self.calls[name] = self.calls.get(name, 0) + 1
            self.waited_s += wait
        if wait > 0:
            self._sleep(wait)
        return wait


PACER = Pacer()
