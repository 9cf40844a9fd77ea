"""Keeping secrets out of journals and logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "redact", "redact_journal"]

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|api[_-]?key|credential|webhook|auth)", re.I
)
_URL_USERINFO = re.compile(r"(https?://)[^/@\s]+@")


def _secret_values(secrets: Mapping[str, Any] | None) -> set[str]:
    values: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for v in node.values():
                walk(v)
        elif isinstance(node, str) and len(node) >= 4:
            values.add(node)

    walk(secrets or {})
    return values


def redact(node: Any, values: set[str]) -> Any:
    """A copy with secret values, values under secret-looking keys, and URL passwords masked."""
    if isinstance(node, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str)
                else redact(v, values)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [redact(v, values) for v in node]
    if isinstance(node, str):
        for secret in values:
            node = node.replace(secret, REDACTED)
        return _URL_USERINFO.sub(r"\1***@", node)
    return node


def redact_journal(journal: dict[str, Any], secrets: Mapping[str, Any] | None) -> None:
    """Redact a journal in place (the stock `chaos run` writes the same object)."""
    values = _secret_values(secrets)
    experiment = journal.get("experiment")
    if isinstance(experiment, dict) and "secrets" in experiment:
        experiment["secrets"] = _mask_all(experiment["secrets"])
    for key in list(journal):
        journal[key] = redact(journal[key], values)


def _mask_all(node: Any) -> Any:
    if isinstance(node, Mapping):
        # Keep references to where a secret comes from ({"type": "env", "key": ...}).
        if node.get("type") in ("env", "vault"):
            return dict(node)
        return {k: _mask_all(v) for k, v in node.items()}
    return REDACTED
