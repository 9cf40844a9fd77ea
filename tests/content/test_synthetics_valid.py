"""Every synthetic check the owner ships loads, is unique, and points at a sandbox endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.config import sandbox_target
from lambda_gameday.synthetics.definitions import load_check, load_checks, resolve_url

SYNTHETICS = Path(__file__).resolve().parents[2] / "synthetics"
FILES = sorted(SYNTHETICS.glob("*.toml"))


def test_there_are_checks_for_every_health_endpoint() -> None:
    checks, errors = load_checks([SYNTHETICS])
    assert errors == []
    assert {c.endpoint for c in checks} >= {
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_check_file_is_valid(path: Path) -> None:
    check = load_check(path)
    target = sandbox_target("http://127.0.0.1:1/dev", "http://127.0.0.1:2")
    assert resolve_url(check, target).startswith("http://127.0.0.1:1/dev/")
    # a health endpoint must be held to the health contract and the seed's 100 ms budget
    assert check.expect.health
    budget = check.latency.resolved_failed_ms(target)
    assert budget is not None
    assert budget <= target.slos.health_latency_ms
    if check.latency.degraded_ms is not None:
        assert check.latency.degraded_ms < budget
