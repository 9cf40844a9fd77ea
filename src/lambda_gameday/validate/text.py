"""Quoting user-supplied values in one-line errors: bounded, printable, never a crash."""

from __future__ import annotations

from .limits import MAX_SHOWN_CHARS

__all__ = ["has_lone_surrogate", "shown"]


def shown(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """`repr(value)` cut to about `limit` characters (a 2 MB name must not fill the terminal);
    non-ASCII is escaped so a lone surrogate can be printed."""
    if isinstance(value, str | bytes) and len(value) > limit:
        head = ascii(value[:limit])
        return f"{head}… ({len(value):,} {'chars' if isinstance(value, str) else 'bytes'})"
    if isinstance(value, list | dict | tuple) and len(value) > 20:
        return f"<{type(value).__name__} of {len(value):,} items>"
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + "…"


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a surrogate code point that is not part of a pair (JSON's
    `"\\udc80"`): it cannot be encoded as UTF-8, so it would crash any output later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
