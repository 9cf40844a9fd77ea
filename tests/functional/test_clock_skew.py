"""MTTR under a skewed AWS clock: the twin stamps alarm transitions, deployment times and
the `Date` header of every API response with AWS's clock running 3 s ahead or behind the
local one. The harness measures that offset from the responses and converts every AWS time
to the local clock, so each phase of the faulty-canary timeline stays within 1 s of what
really happened (ground truth is on the local clock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.chaos.context import clients_for
from lambda_gameday.chaos.runner import run_experiment
from lambda_gameday.config import sandbox_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig

EXPERIMENT = Path(__file__).parents[2] / "experiments" / "faulty-canary.json"
FN = "hasivu-dev-health-liveness"
ALARM = f"{FN}-error-rate"


@pytest.fixture(scope="module", params=[3.0, -3.0], ids=["aws-ahead-3s", "aws-behind-3s"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    config = SandboxConfig(
        init_duration_ms=100.0, seed=7, clock_skew_s=request.param, legacy=frozenset()
    )
    with Sandbox(config) as sb:
        yield sb


def first(sandbox: Sandbox, kind: str, subject: str | None, after: float, **detail: Any) -> float:
    events = sandbox.truth.events(kind, subject) if subject else sandbox.truth.events(kind)  # type: ignore[arg-type]
    for e in events:
        if e.at >= after and all(e.detail.get(k) == v for k, v in detail.items()):
            return e.at
    raise AssertionError(f"no {kind} {subject} {detail} in ground truth after {after}")


def test_every_phase_is_within_a_second_of_ground_truth(sandbox: Sandbox, tmp_path: Path) -> None:
    target = sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)
    result = run_experiment(EXPERIMENT, target, ledger_path=tmp_path / "ledger.jsonl")
    assert result.ok, result.failure()
    # the harness learned AWS's offset from the responses' Date header
    offset = clients_for(target).clock
    assert offset.seconds == pytest.approx(sandbox.config.clock_skew_s, abs=0.5)
    tl = result.timeline
    assert tl is not None
    m = tl.milestones
    assert m.fault_injected is not None and m.faulty_version is not None
    start = m.fault_injected - 5
    alias = f"{FN}:production"
    truth_shift = next(
        e.at
        for e in sandbox.truth.events("alias", alias)
        if e.at >= start and m.faulty_version in e.detail.get("weights", {})  # type: ignore[operator]
    )
    truth_alarm = first(sandbox, "alarm", ALARM, start, new="ALARM")
    truth_restore = next(
        e.at
        for e in sandbox.truth.events("alias", alias)
        if e.at >= truth_alarm and not e.detail.get("weights")
    )
    truth_ok = first(sandbox, "alarm", ALARM, truth_alarm, new="OK")
    rollback_created = first(sandbox, "deployment", None, truth_alarm, creator="codeDeployRollback")
    assert m.fault_injected == pytest.approx(truth_shift, abs=1.0)
    assert m.alarm_fired == pytest.approx(truth_alarm, abs=1.0)
    assert m.rollback_started == pytest.approx(rollback_created, abs=1.0)
    assert m.alias_restored == pytest.approx(truth_restore, abs=1.0)
    assert m.alarm_ok == pytest.approx(truth_ok, abs=1.0)
    # and so the MTTR itself: from the fault reaching users to users served again
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    assert result.cleanup_problems == ()
