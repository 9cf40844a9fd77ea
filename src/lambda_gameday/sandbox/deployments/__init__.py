"""CodeDeploy-style Lambda deployments for the sandbox: configs, AppSpec parsing and the
controller that shifts alias weights, watches alarms and rolls back."""

from .appspec import AppSpec, AppSpecError, LambdaTarget, parse_appspec
from .configs import PREDEFINED, DeploymentConfig, TrafficStep, traffic_steps
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
