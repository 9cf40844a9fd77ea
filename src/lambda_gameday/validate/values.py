"""Syntax of the values inputs name: URLs, AWS Regions, names. Each check returns the problem
as text (None when fine), so the caller can name the file and key it came from."""

from __future__ import annotations

import ipaddress
import math
import re
from urllib.parse import urlsplit

from .limits import MAX_NAME_CHARS, MAX_TEXT_CHARS

__all__ = [
    "REGION_SYNTAX",
    "is_loopback_url",
    "name_problem",
    "number_problem",
    "region_problem",
    "url_problem",
]

# Region codes as AWS publishes them: us-east-1, ap-southeast-4, us-gov-west-1,
# us-isob-east-1, eu-central-2. Botocore accepts any host label and builds a hostname from
# it, so 'not a region!!/..' must be refused here.
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
REGION_SYNTAX = re.compile(r"^[a-z]{2}(?:-[a-z]+){1,3}-\d{1,2}$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def region_problem(value: str) -> str | None:
    if not REGION_SYNTAX.match(value):
        return "an AWS Region code such as 'ap-south-1'"
    return None


def name_problem(value: str, limit: int = MAX_NAME_CHARS) -> str | None:
    """A name: 1..limit printable characters."""
    if not value:
        return "a non-empty name"
    if len(value) > limit:
        return f"a name of at most {limit} characters (got {len(value):,})"
    if not value.isprintable():
        return "a name of printable characters"
    return None


def number_problem(value: float) -> str | None:
    if math.isnan(value) or math.isinf(value):
        return "a finite number"
    return None


def _host_ok(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return bool(host) and all(_HOST_LABEL.match(label) for label in labels)


def url_problem(value: str) -> str | None:
    """An absolute http(s) URL with a valid host and port (no credentials, no spaces)."""
    expected = "an http(s) URL such as 'https://api.example.com/dev'"
    if len(value) > MAX_TEXT_CHARS or not value.isprintable() or any(c.isspace() for c in value):
        return expected
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on '::34977', 99999
        host = parts.hostname
    except ValueError:
        return expected
    if parts.scheme not in ("http", "https") or not host or not _host_ok(host):
        return expected
    if parts.username is not None or parts.password is not None:
        return "an http(s) URL without credentials in it"
    if port == 0:
        return expected
    return None


def is_loopback_url(value: str) -> bool:
    """True when the URL's host is a loopback address or `localhost`."""
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
