"""CodeDeploy-style Lambda deployments for the sandbox: configs, AppSpec parsing and the
controller that shifts alias weights, watches alarms and rolls back."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .appspec import AppSpec, AppSpecError, LambdaTarget, parse_appspec
from .configs import PREDEFINED, DeploymentConfig, TrafficStep, traffic_steps

if TYPE_CHECKING:
    from .controller import DeploymentController, DeploymentSettings

__all__ = [
    "PREDEFINED",
    "AppSpec",
    "AppSpecError",
    "DeploymentConfig",
    "DeploymentController",
    "DeploymentSettings",
    "LambdaTarget",
    "TrafficStep",
    "parse_appspec",
    "traffic_steps",
]


def __getattr__(name: str) -> Any:
    # The controller needs the twin's server stack; configs and AppSpecs are pure, and the
    # stack readers use them on a lean install.
    if name in ("DeploymentController", "DeploymentSettings"):
        return getattr(importlib.import_module(".controller", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
