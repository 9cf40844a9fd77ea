"""The dashboard JSON (the seed's widgets kept, SLO widgets added) and the history trend."""

from __future__ import annotations

from lambda_gameday.cli.history_cmd import sparkline, trend
from lambda_gameday.config import SLOs, sandbox_target
from lambda_gameday.dashboard import dashboard_body


def test_seed_widgets_are_kept_and_each_slo_has_a_widget_with_its_budget() -> None:
    target = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:2", region="ap-south-1")
    target = target.with_overrides(slos=SLOs(health_latency_ms=80.0))
    widgets = dashboard_body(target)["widgets"]
    first, second = widgets[0]["properties"], widgets[1]["properties"]
    assert first["title"] == "Deployment Metrics (Last 7 Days)"
    assert first["metrics"][0] == ["HASIVU/Deployment", "DeploymentFrequency", {"stat": "Sum"}]
    assert second["title"] == "Lambda Health Metrics"
    budgets = {
        w["properties"]["title"]: w["properties"]["annotations"]["horizontal"][0]["value"]
        for w in widgets[2:]
    }
    assert budgets == {
        "Health latency p95 (ms)": 80.0,
        "Cold start (ms)": 500.0,
        "Availability (%)": 99.5,
        "MTTR per game-day experiment (s)": 120.0,
        "Deployment success rate (%)": 95.0,
    }
    latency = widgets[2]["properties"]["metrics"]
    assert [
        "AWS/Lambda",
        "Duration",
        "FunctionName",
        "hasivu-dev-health-liveness",
        "Resource",
        "hasivu-dev-health-liveness:production",
        {"stat": "p95", "label": "/health/live"},
    ] in latency


def test_trend_says_better_or_worse_and_draws_gaps() -> None:
    assert trend("p95", [40.0, None, 60.0], "{:.0f} ms", True).startswith(
        "p95: 40 ms -> 60 ms (worse)"
    )
    assert "(better)" in trend("availability", [99.0, 99.9], "{:.1f} %", False)
    assert trend("MTTR", [None, None], "{:.0f}", True) == "MTTR: no data"
    assert sparkline([1.0, None, 3.0]) == "▁ █"
