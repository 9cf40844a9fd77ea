"""Publishing to CloudWatch through the normal API on the sandbox endpoint: a game day's
SLO numbers (HASIVU/SLO), deployment metrics (HASIVU/Deployment), and the dashboard."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_gameday.aws import Clients
from lambda_gameday.config import sandbox_target
from lambda_gameday.dashboard import SLO_NAMESPACE, publish_run_metrics, put_dashboard
from lambda_gameday.deployments import (
    DeploymentRecord,
    collect_deployments,
    deployment_metrics,
    publish_metrics,
)
from lambda_gameday.sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from gameday_samples import T0, run


def test_slo_and_deployment_metrics_and_dashboard_reach_cloudwatch(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    target = sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)
    clients = Clients(target)
    cw = sandbox_client("cloudwatch")

    # GIVEN a finished game day WHEN its numbers are published THEN CloudWatch has them
    sent = publish_run_metrics(clients, run(mttr=42.0))
    assert sent >= 4
    names = {m["MetricName"] for m in cw.list_metrics(Namespace=SLO_NAMESPACE)["Metrics"]}
    assert {"HealthLatencyP95", "Availability", "MTTRSeconds"} <= names

    records = [
        DeploymentRecord("d-1", target.name, "app", "g", "Succeeded", T0, T0 + 30),
        DeploymentRecord("d-2", target.name, "app", "g", "Failed", T0 + 60, T0 + 70),
    ]
    assert publish_metrics(clients, deployment_metrics(records, now=T0 + 100)) == 3
    listed = cw.list_metrics(Namespace="HASIVU/Deployment")["Metrics"]
    assert {m["MetricName"] for m in listed} == {
        "DeploymentFrequency",
        "DeploymentSuccessRate",
        "DeploymentDuration",
    }

    put_dashboard(clients, "hasivu-deployment-metrics")
    body = json.loads(cw.get_dashboard(DashboardName="hasivu-deployment-metrics")["DashboardBody"])
    assert len(body["widgets"]) == 7

    # the sandbox's CodeDeploy answers; no deployment has run in this module yet
    assert collect_deployments(clients) == []
