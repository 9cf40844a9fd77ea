"""The embedded sandbox: a local twin of the HASIVU platform on moto.

It never imports harness code. See `core.Sandbox`.
"""

from .core import Sandbox, SandboxConfig
from .errors import SandboxError
from .truth import GroundTruth, TruthEvent

__all__ = ["GroundTruth", "Sandbox", "SandboxConfig", "SandboxError", "TruthEvent"]
