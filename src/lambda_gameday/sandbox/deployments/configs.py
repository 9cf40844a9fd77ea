"""CodeDeploy deployment configurations for the Lambda compute platform, and the traffic
steps each one produces.

Intervals are minutes on AWS. The sandbox multiplies them by `minute_s`: 60 in faithful
timing, 1 in fast timing (so `LambdaCanary10Percent5Minutes` holds 10 % for 5 s and custom
configs' intervals read as seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PREDEFINED", "DeploymentConfig", "TrafficStep", "traffic_steps"]

RoutingType = Literal["AllAtOnce", "TimeBasedCanary", "TimeBasedLinear"]


@dataclass(frozen=True)
class DeploymentConfig:
    name: str
    type: RoutingType
    percentage: int = 0
    interval_minutes: int = 0
    create_time: float = 0.0

    def to_api(self) -> dict[str, object]:
        routing: dict[str, object] = {"type": self.type}
        if self.type == "TimeBasedCanary":
            routing["timeBasedCanary"] = {
                "canaryPercentage": self.percentage,
                "canaryInterval": self.interval_minutes,
            }
        elif self.type == "TimeBasedLinear":
            routing["timeBasedLinear"] = {
                "linearPercentage": self.percentage,
                "linearInterval": self.interval_minutes,
            }
        return {
            "deploymentConfigId": f"sandbox-{self.name}",
            "deploymentConfigName": self.name,
            "createTime": self.create_time,
            "computePlatform": "Lambda",
            "trafficRoutingConfig": routing,
        }


def _predefined() -> dict[str, DeploymentConfig]:
    out = {
        "CodeDeployDefault.LambdaAllAtOnce": DeploymentConfig(
            "CodeDeployDefault.LambdaAllAtOnce", "AllAtOnce"
        )
    }
    for minutes in (5, 10, 15, 30):
        name = f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"
        out[name] = DeploymentConfig(name, "TimeBasedCanary", 10, minutes)
    for minutes in (1, 2, 3, 10):
        unit = "Minute" if minutes == 1 else "Minutes"
        name = f"CodeDeployDefault.LambdaLinear10PercentEvery{minutes}{unit}"
        out[name] = DeploymentConfig(name, "TimeBasedLinear", 10, minutes)
    return out


PREDEFINED = _predefined()


@dataclass(frozen=True)
class TrafficStep:
    """Route `weight` of the alias's traffic to the target version, then hold `hold_s`."""

    weight: float
    hold_s: float


def traffic_steps(config: DeploymentConfig, minute_s: float) -> list[TrafficStep]:
    """The weights the alias goes through before the final flip to the target version."""
    hold = config.interval_minutes * minute_s
    if config.type == "TimeBasedCanary":
        return [TrafficStep(config.percentage / 100.0, hold)]
    if config.type == "TimeBasedLinear":
        steps = []
        pct = config.percentage
        while pct < 100:
            steps.append(TrafficStep(pct / 100.0, hold))
            pct += config.percentage
        return steps
    return []
