"""The one error every stack reader raises: one line naming the file and the place in it."""

from __future__ import annotations

from ..errors import SandboxError

__all__ = ["StackFileError"]


class StackFileError(SandboxError):
    """A stack file cannot be read, or lacks what the sandbox and the harness need.

    The message is one line: `<file>: <path in the file>: <problem>`."""
