"""Which function version served an HTTP answer — only as the platform itself says it.

The Lambda Invoke API returns `X-Amz-Executed-Version`; API Gateway does not pass it to
HTTP clients. Over HTTP a client learns the serving version only if the function says so,
in a header or a JSON field of its body (e.g. health+json `releaseId` read from
`AWS_LAMBDA_FUNCTION_VERSION`). The target file names where (`version_source =
"header:X-Release"` or `"json:releaseId"`, a dotted path for nested fields); without it,
or when an answer lacks it, the version is unknown — never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

__all__ = ["ENV_VAR", "UNKNOWN", "VersionReader", "version_reader"]

ENV_VAR = "GAMEDAY_VERSION_SOURCE"  # how a load worker process learns the target's setting
UNKNOWN = "unknown"

# (headers, body) -> version or None
VersionReader = Callable[[Mapping[str, str], Callable[[], bytes]], str | None]


def _none(headers: Mapping[str, str], body: Callable[[], bytes]) -> str | None:
    return None


def version_reader(source: str | None) -> VersionReader:
    """A reader for `source` ("header:NAME" | "json:FIELD[.FIELD...]" | None)."""
    if not source:
        return _none
    kind, _, name = source.partition(":")
    if kind == "header" and name:

        def from_header(headers: Mapping[str, str], body: Callable[[], bytes]) -> str | None:
            value = headers.get(name)
            return str(value) if value else None

        return from_header
    if kind == "json" and name:
        path = name.split(".")

        def from_json(headers: Mapping[str, str], body: Callable[[], bytes]) -> str | None:
            ctype = str(headers.get("content-type") or headers.get("Content-Type") or "")
            if "json" not in ctype:
                return None
            try:
                node: object = json.loads(body())
            except (ValueError, UnicodeDecodeError):
                return None
            for key in path:
                if not isinstance(node, dict):
                    return None
                node = node.get(key)
            return str(node) if isinstance(node, str | int) and not isinstance(node, bool) else None

        return from_json
    raise ValueError(f"version_source {source!r}: expected 'header:<name>' or 'json:<field>'")
