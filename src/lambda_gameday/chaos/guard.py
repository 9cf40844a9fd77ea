"""The production guard every fault passes: fail closed.

A fault is refused (SafetyError, exit 5) on a production target — which includes a
target with no declared class (see context.target_from) — unless production was granted
by the command line (`--allow-production`, carried by the run's context) or by the
environment (`GAMEDAY_ALLOW_PRODUCTION=1`). An experiment's or plan's own configuration
never grants it: a file must not be able to give itself permission.
"""

from __future__ import annotations

import os

from ..config import Target
from ..exceptions import SafetyError
from .run import RunContext

__all__ = ["ALLOW_ENV", "production_granted", "refuse_unless_allowed"]

ALLOW_ENV = "GAMEDAY_ALLOW_PRODUCTION"


def production_granted(run: RunContext | None = None) -> bool:
    """Whether the command line (through the run) or the environment granted production."""
    return os.environ.get(ALLOW_ENV) == "1" or (run is not None and run.allow_production)


def refuse_unless_allowed(target: Target, run: RunContext | None, what: str) -> None:
    """Raise SafetyError before `what` changes a production target without a grant."""
    if target.is_production and not production_granted(run):
        raise SafetyError(
            f"target {target.name} is production (or declares no class): refusing {what}; "
            f"pass --allow-production or set {ALLOW_ENV}=1"
        )
