"""Secrets never reach a report, a log line or a notification.

`redact()` masks what looks like a credential: AWS access key ids and secret keys,
session tokens, Slack webhook paths, bearer tokens, passwords in URLs, and `key=value`
pairs whose key names a secret.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack / generic webhook paths: keep the host, hide the path.
    (re.compile(r"(https://hooks\.slack\.com/)[^\s\"'<>]+"), r"\1" + REDACTED),
    # user:password@ in URLs
    (
        re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]+:)[^@\s/\"'<>]+@", re.I),
        r"\1" + REDACTED + "@",
    ),
    # AWS access key ids
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"), REDACTED),
    # Bearer tokens
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1" + REDACTED),
    # Slack bot/user tokens
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), REDACTED),
    # key=value / "key": "value" where the key names a secret
    (
        re.compile(
            r"""(?ix)
            (["']?\b[\w-]*(?:secret|password|passwd|token|api[_-]?key|webhook|credential)[\w-]*["']?
             \s*[:=]\s*["']?)
            ([^\s"',;}<>]{4,})
            """
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str) -> str:
    """`text` with every credential-looking substring replaced by [REDACTED]."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
