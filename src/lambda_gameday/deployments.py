"""Deployment metrics from recorded deployments: success rate, frequency and duration.

The seed tracks three numbers in the `HASIVU/Deployment` namespace — DeploymentFrequency,
DeploymentDuration and DeploymentSuccessRate — and promises a success rate above 95 %.
Records come from CodeDeploy on the target (`collect_deployments`) and are kept in the
history store, so the rate covers every deployment seen, not just today's.
Automatic rollbacks (creator `codeDeployRollback`) are not counted as deployments:
they are the consequence of one that failed. Nor are game-day drills (creator
`gameday-drill`: deployments a chaos phase made on purpose, and their rollbacks).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from .aws import Clients, aws_errors

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef
    from mypy_boto3_codedeploy.type_defs import DeploymentInfoTypeDef

__all__ = [
    "DRILL_CREATOR",
    "NAMESPACE",
    "DeploymentMetrics",
    "DeploymentRecord",
    "collect_deployments",
    "deployment_metrics",
    "mark_drills",
    "publish_metrics",
]

NAMESPACE = "HASIVU/Deployment"
DRILL_CREATOR = "gameday-drill"
_FINAL = {"Succeeded", "Failed", "Stopped"}


@dataclass(frozen=True)
class DeploymentRecord:
    deployment_id: str
    target: str
    application: str
    group: str
    status: str  # CodeDeploy status: Created, InProgress, Succeeded, Failed, Stopped, ...
    created_at: float  # epoch seconds
    completed_at: float | None = None
    creator: str = "user"
    rollback_of: str | None = None  # for a rollback deployment: the one it rolled back
    error_code: str | None = None  # e.g. ALARM_ACTIVE

    @property
    def is_drill(self) -> bool:
        return self.creator == DRILL_CREATOR

    @property
    def is_rollback(self) -> bool:
        return self.creator == "codeDeployRollback" or self.rollback_of is not None

    @property
    def duration_s(self) -> float | None:
        return None if self.completed_at is None else self.completed_at - self.created_at


@dataclass(frozen=True)
class DeploymentMetrics:
    """Counted over finished, non-rollback deployments within the window."""

    deployments: int
    succeeded: int
    success_rate: float | None  # None when no deployment finished in the window
    per_day: float
    mean_duration_s: float | None
    window_s: float


def mark_drills(
    records: Sequence[DeploymentRecord], windows: Sequence[tuple[float, float]]
) -> list[DeploymentRecord]:
    """Records created inside one of `windows` (chaos phases) become drills."""
    return [
        replace(r, creator=DRILL_CREATOR)
        if any(start <= r.created_at <= end for start, end in windows)
        else r
        for r in records
    ]


def deployment_metrics(
    records: Sequence[DeploymentRecord], *, window_s: float = 7 * 86400, now: float | None = None
) -> DeploymentMetrics:
    """Success rate, frequency (per day) and mean duration over the last `window_s`."""
    now = time.time() if now is None else now
    recent = [
        r
        for r in records
        if not r.is_rollback
        and not r.is_drill
        and r.status in _FINAL
        and r.created_at >= now - window_s
    ]
    ok = [r for r in recent if r.status == "Succeeded"]
    durations = [d for r in recent if (d := r.duration_s) is not None]
    return DeploymentMetrics(
        deployments=len(recent),
        succeeded=len(ok),
        success_rate=len(ok) / len(recent) if recent else None,
        per_day=len(recent) / (window_s / 86400),
        mean_duration_s=sum(durations) / len(durations) if durations else None,
        window_s=window_s,
    )


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _record(target: str, info: DeploymentInfoTypeDef) -> DeploymentRecord:
    rollback = info.get("rollbackInfo", {})
    error = info.get("errorInformation", {})
    created = _epoch(info.get("createTime")) or 0.0
    return DeploymentRecord(
        deployment_id=info.get("deploymentId", ""),
        target=target,
        application=info.get("applicationName", ""),
        group=info.get("deploymentGroupName", ""),
        status=info.get("status", "Created"),
        created_at=created,
        completed_at=_epoch(info.get("completeTime")),
        creator=info.get("creator", "user"),
        rollback_of=(
            rollback.get("rollbackTriggeringDeploymentId")
            if info.get("creator") == "codeDeployRollback"
            else None
        ),
        error_code=error.get("code"),
    )


def collect_deployments(clients: Clients, *, limit: int = 200) -> list[DeploymentRecord]:
    """Every deployment of the target's application and groups that CodeDeploy reports."""
    target = clients.target
    if not target.application:
        return []
    cd = clients.codedeploy()
    ids: list[str] = []
    # only the target's own groups, by name; every page (newest first) up to `limit`
    with aws_errors(f"listing deployments of {target.application}"):
        for group in target.deployment_groups:
            for page in cd.get_paginator("list_deployments").paginate(
                applicationName=target.application, deploymentGroupName=group
            ):
                ids.extend(page.get("deployments", []))
                if len(ids) >= limit:
                    break
            if len(ids) >= limit:
                break
    records: list[DeploymentRecord] = []
    for start in range(0, min(len(ids), limit), 25):
        with aws_errors("reading deployments"):
            batch = cd.batch_get_deployments(deploymentIds=ids[start : start + 25])
        records += [_record(target.name, d) for d in batch.get("deploymentsInfo", [])]
    # CodeDeploy stamps with AWS's clock; game-day windows are on the local one
    records = [
        replace(
            r,
            created_at=clients.clock.to_local(r.created_at),
            completed_at=None if r.completed_at is None else clients.clock.to_local(r.completed_at),
        )
        for r in records
    ]
    return sorted(records, key=lambda r: r.created_at)


def publish_metrics(clients: Clients, metrics: DeploymentMetrics) -> int:
    """Put the three seed metrics into HASIVU/Deployment. Returns how many were sent."""
    data: list[MetricDatumTypeDef] = [
        {"MetricName": "DeploymentFrequency", "Value": float(metrics.deployments), "Unit": "Count"}
    ]
    if metrics.success_rate is not None:
        data.append(
            {
                "MetricName": "DeploymentSuccessRate",
                "Value": metrics.success_rate * 100,
                "Unit": "Percent",
            }
        )
    if metrics.mean_duration_s is not None:
        data.append(
            {
                "MetricName": "DeploymentDuration",
                "Value": metrics.mean_duration_s,
                "Unit": "Seconds",
            }
        )
    with aws_errors(f"publishing deployment metrics to {NAMESPACE}"):
        clients.cloudwatch().put_metric_data(Namespace=NAMESPACE, MetricData=data)
    return len(data)
