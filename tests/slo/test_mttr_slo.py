"""The owner's MTTR SLO: a faulty canary is detected by its alarm and rolled back, and
users are served again within the budget (seed: 2 minutes). Destructive: refused against
production without --allow-production."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.pytest_plugin import assert_mttr

pytestmark = pytest.mark.gameday

EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "faulty-canary.json"


@pytest.mark.skipif(not EXPERIMENT.exists(), reason=f"{EXPERIMENT} not written yet")
def test_faulty_canary_recovers_within_the_mttr_budget(chaos_run: object) -> None:
    result = chaos_run(experiments=[str(EXPERIMENT)])  # type: ignore[operator]
    assert_mttr(result)
