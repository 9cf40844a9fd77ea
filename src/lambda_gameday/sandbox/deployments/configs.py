"""CodeDeploy deployment configurations for the Lambda compute platform, and the traffic
steps each one produces.

Intervals are minutes on AWS. The sandbox multiplies them by `minute_s`: 60 in faithful
timing, 1 in fast timing (so `LambdaCanary10Percent5Minutes` holds 10 % for 5 s and custom
configs' intervals read as seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PREDEFINED", "TIMED_ROUTING", "DeploymentConfig", "TrafficStep", "traffic_steps"]

RoutingType = Literal["AllAtOnce", "TimeBasedCanary", "TimeBasedLinear"]

# A timed type's trafficRoutingConfig member and its percentage and interval keys
# (CodeDeploy API: TrafficRoutingConfig, TimeBasedCanary, TimeBasedLinear).
TIMED_ROUTING: dict[RoutingType, tuple[str, str, str]] = {
    "TimeBasedCanary": ("timeBasedCanary", "canaryPercentage", "canaryInterval"),
    "TimeBasedLinear": ("timeBasedLinear", "linearPercentage", "linearInterval"),
}


@dataclass(frozen=True)
class DeploymentConfig:
    name: str
    type: RoutingType
    percentage: int = 0
    interval_minutes: int = 0
    create_time: float = 0.0

    @classmethod
    def from_routing(
        cls, name: str, routing: Mapping[str, Any], create_time: float
    ) -> DeploymentConfig | None:
        """The config a CreateDeploymentConfig `trafficRoutingConfig` describes (no type:
        AllAtOnce); None for a type CodeDeploy does not know. Values are not checked here."""
        kind = routing.get("type", "AllAtOnce")
        if kind == "AllAtOnce":
            return cls(name, "AllAtOnce", create_time=create_time)
        if kind not in TIMED_ROUTING:
            return None
        member, percentage, interval = TIMED_ROUTING[kind]
        timed = routing.get(member) or {}
        return cls(
            name, kind, int(timed.get(percentage, 0)), int(timed.get(interval, 0)), create_time
        )

    def routing(self) -> dict[str, object]:
        """Its `trafficRoutingConfig`, as the CodeDeploy API writes it."""
        out: dict[str, object] = {"type": self.type}
        if self.type in TIMED_ROUTING:
            member, percentage, interval = TIMED_ROUTING[self.type]
            out[member] = {percentage: self.percentage, interval: self.interval_minutes}
        return out

    def to_api(self) -> dict[str, object]:
        return {
            "deploymentConfigId": f"sandbox-{self.name}",
            "deploymentConfigName": self.name,
            "createTime": self.create_time,
            "computePlatform": "Lambda",
            "trafficRoutingConfig": self.routing(),
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
