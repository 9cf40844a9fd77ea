"""The owner's latency and availability SLOs (read-only gates).

Runs on an embedded sandbox by default and unchanged against a real target:
    pytest tests/slo --gameday-target targets/staging.toml
"""

from __future__ import annotations

import pytest

from lambda_gameday.config import Target
from lambda_gameday.gameday.model import PhaseResult
from lambda_gameday.pytest_plugin import assert_availability, assert_latency

pytestmark = pytest.mark.gate


@pytest.fixture(scope="module")
def probes(synthetic_run: object) -> PhaseResult:
    """One bounded synthetic run shared by the gates of this module."""
    return synthetic_run(probes=120, max_seconds=60)  # type: ignore[operator, no-any-return]


def paths(target: Target) -> list[str]:
    return [fn.path for fn in target.functions]


def test_every_health_endpoint_meets_the_latency_slo(
    probes: PhaseResult, gameday_target: Target
) -> None:
    # THEN p95 of each endpoint is under the target's health latency SLO (seed: 100 ms)
    for path in paths(gameday_target):
        assert_latency(probes, path)


def test_every_health_endpoint_is_available(probes: PhaseResult, gameday_target: Target) -> None:
    for path in paths(gameday_target):
        assert_availability(probes, path)


def test_every_probe_was_counted(probes: PhaseResult, gameday_target: Target) -> None:
    # a gate over zero samples would pass silently; make sure each endpoint was measured
    measured = {e.path: e.samples for e in probes.endpoints}
    assert all(measured.get(p, 0) >= 100 for p in paths(gameday_target)), measured
