"""AWS API request-rate quotas, per account and Region, counted per sandbox.

A token bucket per quota: `rate` tokens a second, holding at most one second's worth, so a
burst of `rate` calls passes and the next is throttled until a token refills. Deterministic
for a given clock (tests pass their own).

Quotas modelled (defaults, per account and Region):

* Lambda (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "API request
  quotas"): control plane 15/s, excluding invocation, GetFunction (100/s) and GetPolicy
  (15/s). Throttled: HTTP 429 TooManyRequestsException, Reason CallerRateLimitExceeded.
* CloudWatch (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html):
  DescribeAlarms and DescribeAlarmsForMetric 9 TPS; PutMetricAlarm, DeleteAlarms,
  SetAlarmState, DescribeAlarmHistory, Enable/DisableAlarmActions 3 TPS; GetMetricData 50;
  ListMetrics 25; GetMetricStatistics 400; PutMetricData 500. Throttled: HTTP 400 Throttling.
* SSM (docs.aws.amazon.com/general/latest/gr/ssm.html, "Parameter Store max throughput",
  standard throughput): GetParameter, GetParameters and GetParametersByPath share 40 TPS.
  Throttled: HTTP 400 ThrottlingException.
* CodeDeploy: its quotas page lists no API request rates, so none is modelled.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Response

from .awsapi import ApiCall, aws_error

__all__ = ["Quota", "RateLimiter", "TokenBucket", "quota_for"]

_REGION_RE = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/[^/]+/aws4_request")
_KEY_RE = re.compile(r"Credential=([^/]+)/")
PLATFORM_KEYS = frozenset({"sandbox"})  # the twin's own clients (see iam.EXEMPT_KEYS)
_ACCOUNT_HEADER = "X-Moto-Account-Id"


@dataclass(frozen=True)
class Quota:
    service: str
    name: str  # the bucket: calls with the same name share it
    rate: float  # per second


LAMBDA_CONTROL = Quota("lambda", "control-plane", 15)
LAMBDA_GET_FUNCTION = Quota("lambda", "GetFunction", 100)
LAMBDA_GET_POLICY = Quota("lambda", "GetPolicy", 15)

_CLOUDWATCH: dict[str, float] = {
    "DescribeAlarms": 9,
    "DescribeAlarmsForMetric": 9,
    "PutMetricAlarm": 3,
    "DeleteAlarms": 3,
    "SetAlarmState": 3,
    "DescribeAlarmHistory": 3,
    "EnableAlarmActions": 3,
    "DisableAlarmActions": 3,
    "GetMetricData": 50,
    "ListMetrics": 25,
    "GetMetricStatistics": 400,
    "PutMetricData": 500,
}
_SSM_GET = Quota("ssm", "GetParameter*", 40)

_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$|^/2014-11-13/functions/")
_GET_FUNCTION = re.compile(r"^/2015-03-31/functions/[^/]+/?$")
_GET_POLICY = re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$")


def quota_for(call: ApiCall) -> Quota | None:
    """The quota a call counts against, or None when it is not rate-limited here."""
    if call.service == "lambda":
        if _INVOKE.match(call.path):
            return None
        if call.method == "GET" and _GET_FUNCTION.match(call.path):
            return LAMBDA_GET_FUNCTION
        if call.method == "GET" and _GET_POLICY.match(call.path):
            return LAMBDA_GET_POLICY
        return LAMBDA_CONTROL
    if call.service == "monitoring" and call.operation in _CLOUDWATCH:
        return Quota("monitoring", call.operation, _CLOUDWATCH[call.operation])
    if call.service == "ssm" and call.operation in (
        "GetParameter",
        "GetParameters",
        "GetParametersByPath",
    ):
        return _SSM_GET
    return None


class TokenBucket:
    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.capacity = max(1.0, rate)  # one second's worth
        self.tokens = self.capacity
        self.last = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """`AwsApi.limit(limiter)`: answers a throttling error when a call's quota is spent."""

    def __init__(self, default_account: str, clock: Callable[[], float] = time.monotonic):
        self.default_account = default_account
        self.clock = clock
        self.enabled = False  # the sandbox switches it on once its own stack is provisioned
        self.throttled: dict[str, int] = {}  # quota name -> calls refused
        self._buckets: dict[tuple[str, str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def __call__(self, call: ApiCall) -> Response | None:
        if not self.enabled:
            return None
        quota = quota_for(call)
        if quota is None:
            return None
        # The quotas model the caller under test. The twin's platform (CloudFormation
        # provisioning a stack, CodeDeploy, the functions' stand-in code) signs as `sandbox`,
        # as in iam.py: AWS's own services retry their throttles and never fail a stack on
        # them, and a stand-in's per-invocation reads exist only because fast timing turns
        # failure-lambda's 60 s cache off.
        k = _KEY_RE.search(call.request.headers.get("Authorization", ""))
        if k is not None and k.group(1) in PLATFORM_KEYS:
            return None
        m = _REGION_RE.search(call.request.headers.get("Authorization", ""))
        region = m.group(1) if m else ""
        account = call.request.headers.get(_ACCOUNT_HEADER) or self.default_account
        key = (account, region, quota.service, quota.name)
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(quota.rate, now)
            if bucket.take(now):
                return None
            self.throttled[quota.name] = self.throttled.get(quota.name, 0) + 1
        return _throttled(call, quota)


def _throttled(call: ApiCall, quota: Quota) -> Response:
    if quota.service == "lambda":
        return Response(
            json.dumps(
                {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"}
            ),
            status=429,
            headers={"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "1"},
            content_type="application/json",
        )
    code = "Throttling" if quota.service == "monitoring" else "ThrottlingException"
    return aws_error(call, 400, code, "Rate exceeded")
