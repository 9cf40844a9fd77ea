"""The sandbox's own errors, in a module of their own so every component can raise them
without importing `core` (which imports the components)."""

from __future__ import annotations

__all__ = ["SandboxError"]


class SandboxError(Exception):
    """The sandbox could not start or was used wrongly (port in use, bad config)."""
