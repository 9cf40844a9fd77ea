"""The owner's cold-start SLO: a new execution environment answers within budget (seed:
500 ms). Forcing a cold start changes `$LATEST`'s configuration (and restores it), so
this is a `gameday` test: refused against production without --allow-production."""

from __future__ import annotations

import pytest

from lambda_gameday.config import Target
from lambda_gameday.pytest_plugin import assert_cold_start

pytestmark = pytest.mark.gameday


def test_cold_start_of_the_liveness_function_is_within_budget(
    coldstart_run: object, gameday_target: Target
) -> None:
    fn = gameday_target.function("/health/live")
    result = coldstart_run(functions=[fn.name], warm_requests=3)  # type: ignore[operator]
    assert_cold_start(result)
    stats = result.endpoints[0]
    assert stats.cold_starts == 1 and stats.warm_p50_ms is not None
    assert stats.warm_p50_ms < stats.cold_p50_ms  # type: ignore[operator]
