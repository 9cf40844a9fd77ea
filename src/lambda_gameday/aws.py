"""The one place boto3 clients are made: each from the target, never a process-wide session.

Errors from botocore are translated at this edge by `aws_errors()` into TargetError or
ResourceNotFound with a one-line reason, so no caller ever shows a botocore traceback.

Every client also:
* paces its calls inside the account's API quotas (pacing.py) before they are sent;
* measures the offset between AWS's clock and the local one from the `Date` header of
  every response (`ClockOffset`): alarm transitions and deployment times are stamped by
  AWS's clock, the harness's own probes by the local one, and MTTR needs one clock.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from botocore.config import Config

from .config import Target
from .exceptions import ResourceNotFound, TargetError
from .pacing import PACER, SANDBOX_SHARE, Pacer

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

__all__ = [
    "AccessDenied",
    "Clients",
    "ClockOffset",
    "Throttled",
    "aws_errors",
    "clock_offset_for",
    "watching_denials",
]

# The sandbox accepts any credentials; these keep boto3 from searching the machine for real ones.
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RateExceeded",
}
_NOT_FOUND_CODES = {
    "ResourceNotFoundException",
    "ResourceNotFound",
    "NotFound",
    "NoSuchKey",
    "ParameterNotFound",
    "DeploymentGroupDoesNotExistException",
    "ApplicationDoesNotExistException",
    "DeploymentDoesNotExistException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NoSuchEntity",  # IAM
}


_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",  # SNS
    "AuthorizationErrorException",
    "UnauthorizedOperation",
}
_DENIED_RE = re.compile(r"not authorized to perform:? (\S+) on resource:? (\S+)")


class AccessDenied(TargetError):
    """The credentials' IAM policy does not allow a call: the target is unusable as given
    (exit 3), whatever phase met it. `action` and `resource` as AWS named them."""

    def __init__(self, message: str, action: str = "", resource: str = ""):
        super().__init__(message)
        self.action, self.resource = action, resource


_watchers: list[list[AccessDenied]] = []
_watchers_lock = threading.Lock()


@contextlib.contextmanager
def watching_denials() -> Iterator[list[AccessDenied]]:
    """Every AccessDenied raised (in any thread) while the block runs, in order. A chaos
    activity's error reaches its runner only as chaoslib's ActivityFailed text; this is
    how the runner learns that the run stopped on a permission, not on the platform."""
    seen: list[AccessDenied] = []
    with _watchers_lock:
        _watchers.append(seen)
    try:
        yield seen
    finally:
        with _watchers_lock:
            _watchers.remove(seen)


def _denied(what: str, code: str, message: str) -> AccessDenied:
    m = _DENIED_RE.search(message)
    if m is None:
        exc = AccessDenied(f"{what}: access denied ({code}: {message or 'no reason given'})")
    else:
        action, resource = m.group(1), m.group(2)
        exc = AccessDenied(
            f"{what}: access denied: {action} on {resource} is not allowed by the"
            " credentials' IAM policy (`gameday iam-policy` prints what the plan needs)",
            action,
            resource,
        )
    with _watchers_lock:
        for seen in _watchers:
            seen.append(exc)
    return exc


class Throttled(TargetError):
    """AWS kept throttling a call after botocore's retries. Pollers treat it as "not yet"
    and keep polling until their own deadline: a throttle is never a game-day failure."""


class ClockOffset:
    """How far AWS's clock runs ahead of the local one (seconds; negative: behind).

    Each response's `Date` header (whole seconds) was stamped at some AWS instant in
    [date, date + 1) while the local clock was between the request's send and the
    response's arrival, so the offset lies in [date - received, date + 1 - sent]. The
    intersection of those intervals over many calls narrows to well under a second; when a
    sample falls outside it (the local clock was stepped), the estimate starts over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lo: float | None = None
        self._hi: float | None = None
        self.samples = 0

    def add(self, date_epoch: float, sent: float, received: float) -> None:
        lo, hi = date_epoch - received, date_epoch + 1.0 - sent
        with self._lock:
            self.samples += 1
            if self._lo is None or self._hi is None or lo > self._hi or hi < self._lo:
                self._lo, self._hi = lo, hi
            else:
                self._lo, self._hi = max(self._lo, lo), min(self._hi, hi)

    @property
    def known(self) -> bool:
        return self._lo is not None

    @property
    def seconds(self) -> float:
        """The best estimate (0.0 before any response was seen)."""
        with self._lock:
            if self._lo is None or self._hi is None:
                return 0.0
            return (self._lo + self._hi) / 2

    @property
    def uncertainty(self) -> float:
        """Half the width of the interval the offset is known to lie in."""
        with self._lock:
            if self._lo is None or self._hi is None:
                return float("inf")
            return (self._hi - self._lo) / 2

    def to_local(self, aws_epoch: float) -> float:
        """An instant stamped by AWS's clock, on the local clock."""
        return aws_epoch - self.seconds

    def to_aws(self, local_epoch: float) -> float:
        return local_epoch + self.seconds


_offsets: dict[tuple[str | None, str, str | None], ClockOffset] = {}
_offsets_lock = threading.Lock()


def clock_offset_for(target: Target) -> ClockOffset:
    """One offset per AWS endpoint, shared by every Clients of that target."""
    key = (target.endpoint_url, target.region, target.profile)
    with _offsets_lock:
        if key not in _offsets:
            _offsets[key] = ClockOffset()
        return _offsets[key]


class Clients:
    """Builds boto3 clients for one target; cached per service. Safe to share between
    threads (the chaos safety watcher polls alarms while activities run): the session
    and each client are made once, under a lock. boto3 documents clients as thread-safe
    once made, sessions as not (boto3 guide, "Session": multithreading or
    multiprocessing with sessions; "Low-level clients": multithreading)."""

    def __init__(
        self,
        target: Target,
        *,
        max_attempts: int = 8,
        read_timeout: float = 30.0,
        pacer: Pacer | None = None,
    ):
        self.target = target
        self.pacer = pacer or PACER
        self.clock = clock_offset_for(target)
        self._account = f"{target.endpoint_url or 'aws'}|{target.region}|{target.profile}"
        self._sent = threading.local()
        # adaptive: botocore's client-side rate limiter backs off on throttling errors
        self._config = Config(
            region_name=target.region,
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=read_timeout,
        )
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    @cached_property
    def session(self) -> boto3.session.Session:
        if self.target.kind == "sandbox":
            return boto3.session.Session(
                aws_access_key_id=SANDBOX_CREDENTIALS["aws_access_key_id"],
                aws_secret_access_key=SANDBOX_CREDENTIALS["aws_secret_access_key"],
                region_name=self.target.region,
            )
        try:
            return boto3.session.Session(
                profile_name=self.target.profile, region_name=self.target.region
            )
        except botocore.exceptions.ProfileNotFound:
            raise TargetError(
                f"{self.target.source}: AWS profile {self.target.profile!r} is not configured"
            ) from None

    def client(self, service: str) -> Any:
        found = self._cache.get(service)
        if found is not None:
            return found
        with self._lock:
            if service not in self._cache:
                # session is a cached_property: it is also first made under the lock
                made = self.session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.target.endpoint_url,
                    config=self._config,
                )
                events = made.meta.events
                events.register("before-call", self._pace)
                events.register("before-send", self._stamp_sent)
                events.register("after-call", self._read_date)
                self._cache[service] = made
            return self._cache[service]

    def poll_interval(self, fast: float) -> float:
        """How long a poller waits between control-plane reads: `fast` on the sandbox, at
        least a second on AWS (the pacer keeps the rate inside quotas either way; this
        keeps one poller from using the whole share)."""
        return fast if self.target.kind == "sandbox" else max(fast, 1.0)

    # --- event hooks (botocore calls them in the calling thread) ----------------------

    def _pace(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            service = model.service_model.endpoint_prefix
            service = {"monitoring": "cloudwatch"}.get(service, service)
            share = SANDBOX_SHARE if self.target.kind == "sandbox" else None
            self.pacer.acquire(self._account, service, model.name, share)

    def _stamp_sent(self, **_: Any) -> None:
        self._sent.at = time.time()  # must return None: a value here replaces the response

    def _read_date(self, http_response: Any = None, **_: Any) -> None:
        sent = getattr(self._sent, "at", None)
        received = time.time()
        date = None if http_response is None else http_response.headers.get("Date")
        if sent is None or not date:
            return
        try:
            stamp = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self.clock.add(stamp, sent, received)

    def lambda_(self) -> LambdaClient:
        return self.client("lambda")  # type: ignore[no-any-return]

    def cloudwatch(self) -> CloudWatchClient:
        return self.client("cloudwatch")  # type: ignore[no-any-return]

    def logs(self) -> CloudWatchLogsClient:
        return self.client("logs")  # type: ignore[no-any-return]

    def codedeploy(self) -> CodeDeployClient:
        return self.client("codedeploy")  # type: ignore[no-any-return]

    def sns(self) -> SNSClient:
        return self.client("sns")  # type: ignore[no-any-return]

    def sqs(self) -> SQSClient:
        return self.client("sqs")  # type: ignore[no-any-return]

    def ssm(self) -> SSMClient:
        return self.client("ssm")  # type: ignore[no-any-return]

    def s3(self) -> S3Client:
        return self.client("s3")  # type: ignore[no-any-return]


@contextlib.contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate botocore failures while doing `what` into one-line harness errors."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError:
        raise TargetError(
            f"{what}: no AWS credentials found (set a profile in the target file or AWS_PROFILE)"
        ) from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise TargetError(
            f"{what}: cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url')}"
        ) from None
    except (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError) as exc:
        raise TargetError(f"{what}: the AWS endpoint timed out ({exc})") from None
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "Unknown"), err.get("Message", "")
        if code in _THROTTLE_CODES:
            raise Throttled(
                f"{what}: AWS API throttled ({code}) after retries; try again later"
            ) from None
        if code in _DENIED_CODES:
            raise _denied(what, code, message) from None
        if code in _NOT_FOUND_CODES:
            raise ResourceNotFound(f"{what}: {message or code}") from None
        raise TargetError(f"{what}: {code}: {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise TargetError(f"{what}: {exc}") from None
