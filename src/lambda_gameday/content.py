"""Where the owner's content folders (experiments/, synthetics/, loadtests/) are found.

Relative paths are tried in the working directory first, so a team's own folders win;
then beside `src/` in this source checkout, so `gameday run` works from any directory
in a development install.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["content_path"]

_CHECKOUT = Path(__file__).resolve().parents[2]


def content_path(relative: str | Path) -> Path:
    """`relative` if it exists from the working directory, else in the source checkout,
    else `relative` unchanged (so error messages name what the user asked for)."""
    path = Path(relative)
    if path.is_absolute() or path.exists():
        return path
    candidate = _CHECKOUT / path
    return candidate if candidate.exists() else path
