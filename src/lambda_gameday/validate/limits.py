"""The bounds every input the harness reads is held to (one place, so docs and tests agree)."""

from __future__ import annotations

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_ITEMS",
    "MAX_NAME_CHARS",
    "MAX_NODES",
    "MAX_SHOWN_CHARS",
    "MAX_TEXT_CHARS",
]

# A target, plan, experiment or check file is a few kB; 4 MiB is generous and still parses
# in well under a second.
MAX_FILE_BYTES = 4 * 1024 * 1024
# Names (targets, functions, alarms, phases, ...): AWS's longest is 256 (an alarm name).
MAX_NAME_CHARS = 256
# Free text (descriptions, titles, URLs, bodies).
MAX_TEXT_CHARS = 8192
# Lists in a file (functions, phases, experiments, thresholds...).
MAX_ITEMS = 1000
# Nesting of tables/lists: real files use < 10; the parsers recurse per level.
MAX_DEPTH = 32
# Values in one parsed document, counting every expansion of a YAML alias.
MAX_NODES = 100_000
# How much of an offending value an error line quotes.
MAX_SHOWN_CHARS = 60
