"""The seed's CloudWatch dashboard, extended with the SLOs the harness measures.

The seed's `hasivu-deployment-metrics` dashboard has two widgets (deployment metrics in
`HASIVU/Deployment`, Lambda health in `AWS/Lambda`). `dashboard_body()` keeps both as
they are and adds one widget per SLO, each with its budget drawn as a horizontal
annotation: health latency p95 per function, cold starts (Init Duration is not a metric,
so the harness publishes what it measured to `HASIVU/SLO`), availability, MTTR, and
deployment success rate. `publish_run_metrics()` writes a game day's numbers there.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .aws import Clients, aws_errors
from .config import Target
from .gameday.model import RunResult

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

__all__ = [
    "SLO_NAMESPACE",
    "dashboard_body",
    "dashboard_json",
    "publish_run_metrics",
    "put_dashboard",
]

SLO_NAMESPACE = "HASIVU/SLO"
DEFAULT_NAME = "hasivu-deployment-metrics"


def _metric_widget(
    title: str, metrics: list[list[Any]], region: str, *, stat: str, period: int
) -> dict[str, Any]:
    """One CloudWatch metric widget, its properties in the seed's order."""
    return {
        "type": "metric",
        "properties": {
            "metrics": metrics,
            "period": period,
            "stat": stat,
            "region": region,
            "title": title,
        },
    }


def _seed_widgets(region: str) -> list[dict[str, Any]]:
    """The two widgets of the seed's deployment-dashboard.json, unchanged."""
    return [
        _metric_widget(
            "Deployment Metrics (Last 7 Days)",
            [
                ["HASIVU/Deployment", "DeploymentFrequency", {"stat": "Sum"}],
                [".", "DeploymentDuration", {"stat": "Average"}],
                [".", "DeploymentSuccessRate", {"stat": "Average"}],
            ],
            region,
            stat="Average",
            period=86400,
        ),
        _metric_widget(
            "Lambda Health Metrics",
            [
                ["AWS/Lambda", "Errors", {"stat": "Sum"}],
                [".", "Throttles", {"stat": "Sum"}],
                [".", "Duration", {"stat": "Average"}],
            ],
            region,
            stat="Sum",
            period=300,
        ),
    ]


def _slo_widget(
    title: str,
    metrics: list[list[Any]],
    region: str,
    budget: float,
    label: str,
    *,
    stat: str = "Average",
    period: int = 300,
) -> dict[str, Any]:
    """A metric widget with the SLO's budget drawn as a horizontal annotation."""
    widget = _metric_widget(title, metrics, region, stat=stat, period=period)
    widget["properties"]["annotations"] = {"horizontal": [{"label": label, "value": budget}]}
    return widget


def dashboard_body(target: Target) -> dict[str, Any]:
    """The dashboard JSON (as a dict) for `target`: the seed's widgets plus the SLOs."""
    s, region = target.slos, target.region
    latency = [
        [
            "AWS/Lambda",
            "Duration",
            "FunctionName",
            fn.name,
            "Resource",
            f"{fn.name}:{fn.alias}",
            {"stat": "p95", "label": fn.path},
        ]
        for fn in target.functions
    ]
    synthetic = [
        [SLO_NAMESPACE, "HealthLatencyP95", "Endpoint", fn.path, {"label": f"probe p95 {fn.path}"}]
        for fn in target.functions
    ]
    cold = [
        [SLO_NAMESPACE, "ColdStartMs", "Endpoint", fn.path, {"stat": "Maximum"}]
        for fn in target.functions
    ]
    avail = [[SLO_NAMESPACE, "Availability", "Endpoint", fn.path] for fn in target.functions]
    widgets = [
        *_seed_widgets(region),
        _slo_widget(
            "Health latency p95 (ms)",
            latency + synthetic,
            region,
            s.health_latency_ms,
            f"budget {s.health_latency_ms:g} ms",
        ),
        _slo_widget(
            "Cold start (ms)",
            cold,
            region,
            s.cold_start_ms,
            f"budget {s.cold_start_ms:g} ms",
            stat="Maximum",
        ),
        _slo_widget(
            "Availability (%)",
            avail,
            region,
            s.availability * 100,
            f"target {s.availability * 100:g} %",
            stat="Minimum",
        ),
        _slo_widget(
            "MTTR per game-day experiment (s)",
            [[SLO_NAMESPACE, "MTTRSeconds", {"stat": "Maximum"}]],
            region,
            s.mttr_s,
            f"budget {s.mttr_s:g} s",
            stat="Maximum",
            period=86400,
        ),
        _slo_widget(
            "Deployment success rate (%)",
            [["HASIVU/Deployment", "DeploymentSuccessRate", {"stat": "Average"}]],
            region,
            s.deployment_success * 100,
            f"target {s.deployment_success * 100:g} %",
            period=86400,
        ),
    ]
    return {"widgets": widgets}


def dashboard_json(target: Target) -> str:
    return json.dumps(dashboard_body(target), indent=2) + "\n"


def put_dashboard(clients: Clients, name: str = DEFAULT_NAME) -> None:
    """Create or replace the dashboard on the target's account."""
    with aws_errors(f"putting dashboard {name}"):
        clients.cloudwatch().put_dashboard(
            DashboardName=name, DashboardBody=json.dumps(dashboard_body(clients.target))
        )


def publish_run_metrics(clients: Clients, run: RunResult) -> int:
    """Publish a game day's SLO measurements to HASIVU/SLO. Returns how many data points."""
    data: list[MetricDatumTypeDef] = []
    for phase in run.phases:
        if phase.kind != "synthetics" and phase.kind != "coldstart":
            continue
        for e in phase.endpoints:
            dims: list[DimensionTypeDef] = [{"Name": "Endpoint", "Value": e.path}]
            if e.samples and phase.kind == "synthetics":
                data.append(
                    {
                        "MetricName": "HealthLatencyP95",
                        "Dimensions": dims,
                        "Value": e.p95_ms,
                        "Unit": "Milliseconds",
                    }
                )
            if e.availability is not None and phase.kind == "synthetics":
                data.append(
                    {
                        "MetricName": "Availability",
                        "Dimensions": dims,
                        "Value": e.availability * 100,
                        "Unit": "Percent",
                    }
                )
            if e.cold_p50_ms is not None:
                data.append(
                    {
                        "MetricName": "ColdStartMs",
                        "Dimensions": dims,
                        "Value": e.cold_p50_ms,
                        "Unit": "Milliseconds",
                    }
                )
    for t in run.timelines():
        if t.mttr_s is not None:
            data.append(
                {
                    "MetricName": "MTTRSeconds",
                    "Value": t.mttr_s,
                    "Unit": "Seconds",
                    "Dimensions": [{"Name": "Experiment", "Value": t.experiment}],
                }
            )
            data.append({"MetricName": "MTTRSeconds", "Value": t.mttr_s, "Unit": "Seconds"})
    for start in range(0, len(data), 20):
        with aws_errors(f"publishing SLO metrics to {SLO_NAMESPACE}"):
            clients.cloudwatch().put_metric_data(
                Namespace=SLO_NAMESPACE, MetricData=data[start : start + 20]
            )
    return len(data)
