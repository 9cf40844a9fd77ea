"""A deliberately small JSON path syntax for check assertions.

    path     := ["$" ] segment*          e.g.  status
    segment  := ["."] name | "[" index "]" | "[" quoted "]"
                                          checks.database:responseTime[0].observedValue
    name     := any characters except . [ ]   (so `component:measurement` keys work)
    index    := a whole number (0 is the first element; negative counts from the end)
    quoted   := "..." or '...'            checks["memory:utilization"][0].status

A path resolves to exactly one value or to "missing"; there are no wildcards.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MISSING", "JsonPath", "PathSyntaxError", "parse_path"]


class PathSyntaxError(ValueError):
    """The path text does not follow the syntax above."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_TOKEN = re.compile(
    r"""
    \[\s*(?P<index>-?\d+)\s*\]
  | \[\s*(?P<quote>["'])(?P<quoted>.*?)(?P=quote)\s*\]
  | \.?(?P<name>[^.\[\]]+)
    """,
    re.VERBOSE,
)


class JsonPath:
    """A parsed path; `resolve(document)` returns the value or MISSING."""

    def __init__(self, text: str, segments: tuple[str | int, ...]):
        self.text = text
        self.segments = segments

    def resolve(self, document: object) -> object:
        node = document
        for seg in self.segments:
            if isinstance(seg, int):
                if not isinstance(node, list) or not -len(node) <= seg < len(node):
                    return MISSING
                node = node[seg]
            else:
                if not isinstance(node, dict) or seg not in node:
                    return MISSING
                node = node[seg]
        return node

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


def parse_path(text: str) -> JsonPath:
    """Parse `text`; raises PathSyntaxError naming the position of the problem."""
    rest = text.strip()
    if rest.startswith("$"):
        rest = rest[1:]
    if not rest:
        return JsonPath(text, ())
    segments: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None or m.end() == pos:
            raise PathSyntaxError(f"bad JSON path {text!r} at character {pos + 1}")
        if m.group("index") is not None:
            segments.append(int(m.group("index")))
        elif m.group("quote") is not None:
            segments.append(m.group("quoted"))
        else:
            segments.append(m.group("name"))
        pos = m.end()
    return JsonPath(text, tuple(segments))
