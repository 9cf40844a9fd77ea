"""The one place boto3 clients are made: each from the target, never a process-wide session.

Errors from botocore are translated at this edge by `aws_errors()` into TargetError or
ResourceNotFound with a one-line reason, so no caller ever shows a botocore traceback.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from botocore.config import Config

from .config import Target
from .exceptions import ResourceNotFound, TargetError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

__all__ = ["Clients", "aws_errors"]

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


class Clients:
    """Builds boto3 clients for one target; cached per service. Safe to share between
    threads (the chaos safety watcher polls alarms while activities run): the session
    and each client are made once, under a lock. boto3 documents clients as thread-safe
    once made, sessions as not (boto3 guide, "Session": multithreading or
    multiprocessing with sessions; "Low-level clients": multithreading)."""

    def __init__(self, target: Target, *, max_attempts: int = 5, read_timeout: float = 30.0):
        self.target = target
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
                self._cache[service] = self.session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.target.endpoint_url,
                    config=self._config,
                )
            return self._cache[service]

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
            raise TargetError(
                f"{what}: AWS API throttled ({code}) after retries; try again later"
            ) from None
        if code in _NOT_FOUND_CODES:
            raise ResourceNotFound(f"{what}: {message or code}") from None
        raise TargetError(f"{what}: {code}: {message}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise TargetError(f"{what}: {exc}") from None
