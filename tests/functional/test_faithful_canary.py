"""The faulty-canary experiment on the sandbox's faithful timing, end to end (issue 12,
Build item 4): the seed's alarms (Errors Sum, 60 s periods, 2 of 2), AWS/Lambda metrics
published 60 s late, CodeDeploy's minute steps (Linear10PercentEvery3Minutes) and its
10 s alarm polling. Its MTTR is what the seed's alarms really give — minutes, not the
120 s budget — and every phase on the timeline agrees with the twin's ground truth within
1 s. The lint, run before, predicted the breach.

Slow by nature (a faithful alarm cannot fire in less than two minutes); it waits only on
the experiment's own conditions, never on fixed sleeps."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.chaos.context import clients_for
from lambda_gameday.chaos.lint import LintInputs, lint
from lambda_gameday.chaos.lint_reader import read_target
from lambda_gameday.chaos.runner import run_experiment
from lambda_gameday.cli.sandbox_cmd import target_toml
from lambda_gameday.config import Target, load_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.describe import describe

pytestmark = pytest.mark.slow

EXPERIMENT = Path(__file__).parents[2] / "experiments" / "faulty-canary.json"
FN = "hasivu-dev-health-liveness"
FAST_ALARM = "hasivu-${stage}-health-liveness-error-rate"  # the fast stack's per-function alarm
# Faithful waits (s): detection takes 2-4 minutes, the alarm clears 1-3 minutes after that.
WAITS = {
    "error-alarm-fires": 330.0,
    "automatic-rollback-finishes": 120.0,
    "error-alarm-clears": 240.0,
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(timing="faithful", init_duration_ms=50.0, seed=11)) as sb:
        yield sb


def faithful_target(sandbox: Sandbox, tmp_path: Path) -> Target:
    """The target file `gameday sandbox --target-out` writes for the faithful twin: the
    alarms its stack really has, from the sandbox's own facts (no naming guess)."""
    path = tmp_path / "faithful-target.toml"
    path.write_text(target_toml(describe(sandbox)), encoding="utf-8")
    return load_target(path)


def error_alarm(target: Target) -> str:
    """The faithful stack's error alarm guarding the function (its group also watches
    Duration)."""
    (alarm,) = [a for a in target.function(FN).alarms if a.endswith("-error-rate")]
    return alarm


def faithful_experiment(target: Target, tmp_path: Path) -> Path:
    """faulty-canary.json with the faithful stack's alarm and waits long enough for it."""
    alarm = error_alarm(target)
    exp: dict[str, Any] = json.loads(EXPERIMENT.read_text().replace(FAST_ALARM, alarm))
    for activity in exp["method"]:
        if activity["name"] in WAITS:
            activity["provider"]["arguments"]["timeout_s"] = WAITS[activity["name"]]
    for control in exp["controls"]:
        if control["name"] == "gameday-traffic":
            control["provider"]["arguments"]["max_duration_s"] = 720
    path = tmp_path / "faulty-canary-faithful.json"
    path.write_text(json.dumps(exp))
    return path


def start_early_in_a_ten_second_step() -> None:
    """Wait (at most 20 s) until the local clock is in the first second of a 10 s step, in
    the first 50 s of a minute. Only the test's wall time depends on it, no assertion does:
    the canary then ships early enough in its minute that the first period already breaches
    (ALARM two closed periods + the 60 s delay later), and CodeDeploy's 10 s alarm polls
    (from the deployment's start) see the ALARM within a few seconds, before the next period
    gathers enough errors to breach too — so the alarm clears one period later, not two.
    Unaligned, the experiment takes 250-370 s; aligned, about 260-300 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        phase = time.time() % 60
        if phase < 50 and phase % 10 < 1:
            return
        time.sleep(0.05)


def first(sandbox: Sandbox, kind: str, subject: str, after: float, **detail: Any) -> float:
    for e in sandbox.truth.events(kind, subject):  # type: ignore[arg-type]
        if e.at >= after and all(e.detail.get(k) == v for k, v in detail.items()):
            return e.at
    raise AssertionError(f"no {kind} {subject} {detail} in ground truth after {after}")


@pytest.mark.timeout(480)
def test_faithful_faulty_canary_mttr_is_minutes_as_the_lint_predicted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    target = faithful_target(sandbox, tmp_path)
    alarm = error_alarm(target)
    assert sandbox.dataplane is not None and sandbox.dataplane.telemetry.publish_delay_s == 60.0
    # GIVEN the lint's verdict on the seed's faithful alarms, before anything is injected
    alarms, groups = read_target(clients_for(target), target)
    findings = lint(
        LintInputs(
            alarms=alarms,
            groups=groups,
            function_alarms={f.name: f.alarms for f in target.functions},
            budget_s=target.slos.mttr_s,
            on_aws=False,
        )
    )
    over = [f for f in findings if f.rule == "detection-over-budget"]
    assert f"alarm {alarm}" in {f.resource for f in over}, findings
    # WHEN the faulty canary ships through CodeDeploy on faithful timing
    start_early_in_a_ten_second_step()
    result = run_experiment(
        faithful_experiment(target, tmp_path),
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        journal_path=tmp_path / "journal.json",
    )
    # THEN every phase happened — detection, rollback, recovery, alarm clear — but late:
    # the only broken phase is the budget, as the lint said
    tl = result.timeline
    assert tl is not None, result.failure()
    assert [phase for phase, _ in tl.problems] == ["budget"], result.failure()
    assert not result.ok and "phase budget broke" in result.failure()
    m = tl.milestones
    assert m.alarm == alarm and m.faulty_version is not None
    budget = target.slos.mttr_s
    assert tl.time_to_detect is not None and tl.time_to_detect >= budget  # detection alone
    assert tl.time_to_recover is not None and tl.time_to_recover > budget
    # users failed; the faulty canary failed every request it served, and a failed answer
    # names no version (API Gateway passes no version header, a 502 has no releaseId)
    assert tl.blast_radius.failed > 0 and tl.blast_radius.served_by_faulty == 0
    # AND each time agrees with what really happened, within 1 s
    assert m.fault_injected is not None
    start = m.fault_injected - 5
    alias = f"{FN}:production"
    truth_shift = next(
        e.at
        for e in sandbox.truth.events("alias", alias)
        if e.at >= start and m.faulty_version in e.detail.get("weights", {})  # type: ignore[operator]
    )
    truth_alarm = first(sandbox, "alarm", alarm, start, new="ALARM")
    truth_restore = next(
        e.at
        for e in sandbox.truth.events("alias", alias)
        if e.at >= truth_alarm and not e.detail.get("weights")
    )
    truth_ok = first(sandbox, "alarm", alarm, truth_alarm, new="OK")
    rollback_created = next(
        e.at
        for e in sandbox.truth.events("deployment")
        if e.at >= truth_alarm and e.detail.get("creator") == "codeDeployRollback"
    )
    assert m.fault_injected == pytest.approx(truth_shift, abs=1.0)
    assert m.alarm_fired == pytest.approx(truth_alarm, abs=1.0)
    assert m.rollback_started == pytest.approx(rollback_created, abs=1.0)
    assert m.alias_restored == pytest.approx(truth_restore, abs=1.0)
    assert m.alarm_ok == pytest.approx(truth_ok, abs=1.0)
    # AND the twin's own faithful rules hold: ALARM needs two closed 60 s periods that have
    # reached CloudWatch (one at least partly after the shift), so never within 2 minutes;
    # CodeDeploy notices within its 10 s alarm poll
    assert truth_alarm - truth_shift >= 60 + 60
    assert 0 <= rollback_created - truth_alarm <= 10 + 1
    assert result.cleanup_problems == ()
