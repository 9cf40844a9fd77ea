"""Optional parts of the install: the twin's server stack is the `sandbox` extra.

A CI gate that only talks to AWS installs the lean package; anything that would start the
twin asks `require_sandbox()` first so the user gets one line, not a ModuleNotFoundError.
"""

from __future__ import annotations

import importlib.util

from .exceptions import ConfigError

__all__ = ["SANDBOX_MODULES", "require_sandbox", "sandbox_installed"]

# What the twin imports that the lean package does not install.
SANDBOX_MODULES = ("moto", "werkzeug", "uvicorn", "httptools")


def _missing() -> list[str]:
    return [name for name in SANDBOX_MODULES if importlib.util.find_spec(name) is None]


def sandbox_installed() -> bool:
    return not _missing()


def require_sandbox() -> None:
    """Raise ConfigError (exit 2) naming the extra when the twin cannot start here."""
    missing = _missing()
    if missing:
        raise ConfigError(
            f"the embedded sandbox is not installed ({', '.join(missing)} missing): "
            "pip install 'lambda-gameday[sandbox]', or pass --target FILE to use a real target"
        )
