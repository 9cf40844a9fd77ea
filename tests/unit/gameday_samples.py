"""Hand-built game-day results for the pure tests of plans, history and reports."""

from __future__ import annotations

from lambda_gameday.findings import Finding
from lambda_gameday.gameday.model import (
    EndpointStats,
    MinuteStat,
    PhaseResult,
    RunResult,
    SLOResult,
    Timeline,
    TimelineEvent,
)

T0 = 1_767_000_000.0  # a fixed instant, so reports are reproducible


def endpoint(path: str = "/health", p95: float = 42.0, failures: int = 0) -> EndpointStats:
    return EndpointStats(
        path=path,
        samples=200,
        failures=failures,
        p50_ms=10.0,
        p90_ms=30.0,
        p95_ms=p95,
        p99_ms=p95 + 5,
        max_ms=p95 + 20,
        cold_starts=2,
        cold_p50_ms=160.0,
        warm_p50_ms=9.5,
        availability=(200 - failures) / 200,
        availability_lower=0.985,
        probes_needed=400,
        histogram=((5.0, 20), (10.0, 100), (50.0, 70), (200.0, 10)),
        minutes=(MinuteStat(T0, 100, p95 - 10), MinuteStat(T0 + 60, 100, p95)),
        versions=(("1", 150), ("2", 50)),
    )


def timeline(mttr: float | None = 42.0, passed: bool = True) -> Timeline:
    events = (
        TimelineEvent("fault injected", T0, "harness"),
        TimelineEvent("first failed request", T0 + 2.0, "probe"),
        TimelineEvent("alarm ALARM", T0 + 20.0, "target"),
        TimelineEvent("rollback started", T0 + 21.0, "target"),
        TimelineEvent("alias restored", T0 + 30.0 if passed else None, "target"),
    )
    probes = tuple(
        (T0 + i * 0.5, not (4 <= i < 60), 12.0 if not (4 <= i < 60) else 300.0) for i in range(100)
    )
    return Timeline(
        experiment="faulty-canary",
        events=events,
        budget_s=120.0,
        mttr_s=mttr,
        time_to_detect_s=20.0,
        time_to_rollback_s=10.0,
        time_to_recover_s=12.0,
        failed_requests=56,
        total_requests=100,
        passed=passed,
        broken_phase=None if passed else "alias restored never happened",
        probes=probes,
    )


def run(
    *,
    run_id: str = "20260101T000000Z-0001",
    p95: float = 42.0,
    mttr: float | None = 42.0,
    started: float = T0,
    with_error: bool = False,
) -> RunResult:
    stats = endpoint(p95=p95)
    slos = (
        SLOResult.check("latency_p95", "/health", p95, 100.0, "<", "ms", 200, label="p95"),
        SLOResult.check(
            "availability",
            "/health",
            1.0,
            0.995,
            ">=",
            "%",
            200,
            label="availability",
            lower_bound=0.985,
        ),
    )
    chaos_passed = mttr is not None and mttr < 120
    phases = [
        PhaseResult(
            "conformance",
            "conformance",
            "passed",
            started,
            started + 1,
            findings=(
                Finding(
                    "warning",
                    "hasivu-dev-health-startup",
                    "no provisioned concurrency",
                    "set provisioned concurrency on the production alias",
                ),
            ),
        ),
        PhaseResult(
            "synthetics",
            "synthetics",
            "passed" if p95 < 100 else "failed",
            started + 1,
            started + 5,
            slos=slos,
            endpoints=(stats,),
        ),
        PhaseResult(
            "chaos",
            "chaos",
            "passed" if chaos_passed else "failed",
            started + 5,
            started + 90,
            slos=(
                SLOResult.check("mttr", "faulty-canary", mttr, 120.0, "<", "s", 1, label="MTTR"),
            ),
            timelines=(timeline(mttr, chaos_passed),),
        ),
    ]
    if with_error:
        phases.append(
            PhaseResult(
                "load",
                "load",
                "error",
                started + 90,
                started + 91,
                message="locust failed to start: <bad> & 'quoted'",
            )
        )
    return RunResult(
        run_id=run_id,
        plan="default",
        target="sandbox-dev",
        target_kind="sandbox",
        environment="dev",
        started_at=started,
        finished_at=started + 95,
        phases=tuple(phases),
    )
