"""The one place secrets are masked: reports, Chaos Toolkit journals, notifications and logs
all redact through this module, with one marker, `[REDACTED]`.

* `redact(text)` masks what looks like a credential in free text: AWS access key ids,
  session tokens, Slack webhook paths and tokens, bearer tokens, passwords in URLs, and
  `key=value` / `"key": "value"` pairs whose key names a secret;
* `redact_data(node, values)` masks a JSON-like structure: values under secret-looking
  keys, the declared secret `values` wherever they appear, then `redact` on every string;
* `redact_journal(journal, secrets)` does that in place to a journal, declared secrets
  included (their `env`/`vault` references are kept: they say where a secret comes from);
* `RedactingFilter` is a logging filter that redacts each record's message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Set
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "redact", "redact_data", "redact_journal"]

REDACTED = "[REDACTED]"

_SECRET_WORDS = r"secret|token|password|passwd|api[_-]?key|credential|webhook|auth"
_SECRET_KEY = re.compile(rf"({_SECRET_WORDS})", re.I)

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
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{6,}\b"), REDACTED),
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


def redact_data(node: Any, values: Set[str] = frozenset()) -> Any:
    """A copy of a JSON-like `node` with values under secret-looking keys, the secret
    `values` and credential-looking text masked."""
    if isinstance(node, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str)
                else redact_data(v, values)
            )
            for k, v in node.items()
        }
    if isinstance(node, list | tuple):
        return [redact_data(v, values) for v in node]
    if isinstance(node, str):
        for secret in values:
            node = node.replace(secret, REDACTED)
        return redact(node)
    return node


def _secret_values(secrets: Mapping[str, Any] | None) -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for v in node.values():
                walk(v)
        elif isinstance(node, str) and len(node) >= 4:
            found.add(node)

    walk(secrets or {})
    return found


def _mask_all(node: Any) -> Any:
    if isinstance(node, Mapping):
        # Keep references to where a secret comes from ({"type": "env", "key": ...}).
        if node.get("type") in ("env", "vault"):
            return dict(node)
        return {k: _mask_all(v) for k, v in node.items()}
    return REDACTED


def redact_journal(journal: dict[str, Any], secrets: Mapping[str, Any] | None) -> None:
    """Redact a Chaos Toolkit journal in place (the stock `chaos run` writes this object)."""
    values = _secret_values(secrets)
    experiment = journal.get("experiment")
    if isinstance(experiment, dict) and "secrets" in experiment:
        experiment["secrets"] = _mask_all(experiment["secrets"])
    for key in list(journal):
        journal[key] = redact_data(journal[key], values)


class RedactingFilter(logging.Filter):
    """Redacts each log record's message before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
