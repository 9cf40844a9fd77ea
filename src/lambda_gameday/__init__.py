"""lambda-gameday: prove a serverless platform on AWS Lambda meets its SLOs.

The package's import is light on purpose: it never pulls in locust or gevent (Locust runs
in its own process), and heavy pieces load on first use.
"""

from .config import FunctionSpec, SLOs, Target, load_target, sandbox_target
from .exceptions import (
    ConfigError,
    GamedayError,
    ResourceNotFound,
    SafetyError,
    TargetError,
    VerdictFailed,
)

__version__ = "0.1.0"


def discover(discover_system: bool = True) -> dict[str, object]:
    """Chaos Toolkit discovery (`chaos discover lambda-gameday --no-install`): every
    activity of the extension in `lambda_gameday.chaos`. Imported lazily to keep
    `import lambda_gameday` light."""
    from .chaos import discover as _discover

    return _discover(discover_system)


__all__ = [
    "ConfigError",
    "FunctionSpec",
    "GamedayError",
    "ResourceNotFound",
    "SLOs",
    "SafetyError",
    "Target",
    "TargetError",
    "VerdictFailed",
    "__version__",
    "discover",
    "load_target",
    "sandbox_target",
]
