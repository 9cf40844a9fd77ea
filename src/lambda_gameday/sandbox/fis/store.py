"""The S3 side of FIS's Lambda actions, read and written in-process on moto's S3 backend.

`AWS_FIS_CONFIGURATION_LOCATION` is an S3 ARN with a prefix,
`arn:aws:s3:::<bucket>/<prefix>/` (docs.aws.amazon.com/fis/latest/userguide/
use-lambda-actions.html): FIS writes under it, the extension reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ConfigLocation", "S3Store", "parse_location"]

_LOCATION = re.compile(r"^arn:aws[a-z-]*:s3:::(?P<bucket>[a-z0-9.-]{3,63})/(?P<prefix>.*)$")


@dataclass(frozen=True)
class ConfigLocation:
    bucket: str
    prefix: str  # ends with '/', or is empty (the bucket's root)


def parse_location(value: str | None) -> ConfigLocation | None:
    m = _LOCATION.match(value or "")
    if m is None:
        return None
    prefix = m["prefix"]
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return ConfigLocation(m["bucket"], prefix)


class S3Store:
    """moto's S3 for one account (S3 buckets are global to the partition)."""

    def __init__(self, account_id: str):
        self.account_id = account_id

    @property
    def backend(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self.account_id]["aws"]

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.backend.get_bucket(bucket)
        except Exception:  # moto raises MissingBucket
            return False
        return True

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.backend.put_object(bucket, key, data)

    def delete(self, bucket: str, key: str) -> None:
        self.backend.delete_object(bucket, key)

    def list(self, bucket: str, prefix: str) -> list[str]:
        try:
            found = self.backend.get_bucket(bucket)
        except Exception:
            return []
        return sorted(k for k in list(found.keys.keys()) if k.startswith(prefix))

    def get(self, bucket: str, key: str) -> bytes | None:
        try:
            obj = self.backend.get_object(bucket, key)
        except Exception:
            return None
        return None if obj is None else bytes(obj.value)
