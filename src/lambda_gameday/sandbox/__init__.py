"""The embedded sandbox: a local twin of a Lambda platform on moto.

It never imports harness code. See `core.Sandbox`.

The twin's server stack (moto, werkzeug, uvicorn) is the `sandbox` extra, so the names
below are imported on first use: the pure parts (`stacks`, `serverless_stack`, `errors`)
must stay importable on a lean install, where the harness reads stack files with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Sandbox, SandboxConfig
    from .errors import SandboxError
    from .truth import GroundTruth, TruthEvent

__all__ = ["GroundTruth", "Sandbox", "SandboxConfig", "SandboxError", "TruthEvent"]

_HOME = {
    "Sandbox": ".core",
    "SandboxConfig": ".core",
    "SandboxError": ".errors",
    "GroundTruth": ".truth",
    "TruthEvent": ".truth",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
