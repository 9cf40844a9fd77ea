"""The faulty-canary experiment on the sandbox, end to end: the alarm fires, CodeDeploy's
automatic rollback finishes, MTTR is under budget — and every time on the timeline agrees
with the sandbox's ground truth within 1 s. With the rollback disabled the same
experiment fails and names the phase that broke."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.chaos.runner import ExperimentResult, run_experiment
from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.sandbox import Sandbox

EXPERIMENT = Path(__file__).parents[2] / "experiments" / "faulty-canary.json"
FN = "hasivu-dev-health-liveness"
ALARM = f"{FN}-error-rate"


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


def run(target: Target, tmp_path: Path) -> ExperimentResult:
    return run_experiment(
        EXPERIMENT,
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        journal_path=tmp_path / "journal.json",
    )


def first(sandbox: Sandbox, kind: str, subject: str, after: float, **detail: Any) -> float:
    for e in sandbox.truth.events(kind, subject):  # type: ignore[arg-type]
        if e.at >= after and all(e.detail.get(k) == v for k, v in detail.items()):
            return e.at
    raise AssertionError(f"no {kind} {subject} {detail} in ground truth after {after}")


def test_faulty_canary_is_rolled_back_within_budget_and_matches_ground_truth(
    sandbox: Sandbox, target: Target, tmp_path: Path
) -> None:
    # GIVEN the seed's stack; WHEN the faulty-canary experiment runs
    result = run(target, tmp_path)
    # THEN the hypothesis held: alarm fired, rollback finished, users served again, in budget
    assert result.ok, result.failure()
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None
    m = tl.milestones
    assert m.alarm == ALARM and m.faulty_version is not None
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    assert tl.blast_radius.failed > 0
    # AND versions are only what the answers named (health+json releaseId): the faulty
    # version throws, so its answers are API Gateway's bare 502 and name no version — never
    # a guess (API Gateway returns no X-Amz-Executed-Version to HTTP clients)
    failed = [p for p in result.probes if not p.ok]
    served = [p for p in result.probes if p.ok]
    assert failed and all(p.version is None for p in failed)
    assert served and all(p.version is not None for p in served)
    assert tl.blast_radius.served_by_faulty == 0
    # AND each time agrees with what really happened, within 1 s
    assert m.fault_injected is not None
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
    # AND the journal carries the timeline, and no fault is left open
    journal = (tmp_path / "journal.json").read_text()
    assert '"timeline"' in journal and '"broken_phase": null' in journal
    assert result.cleanup_problems == ()


def test_without_automatic_rollback_the_experiment_fails_and_names_the_phase(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    cd = sandbox_client("codedeploy")
    info = cd.get_deployment_group(applicationName="hasivu-dev", deploymentGroupName=FN)[
        "deploymentGroupInfo"
    ]
    # GIVEN a deployment group like the seed's, with the same alarms, but no auto-rollback
    # (moto has no UpdateDeploymentGroup, so a twin group is created)
    cd.create_deployment_group(
        applicationName="hasivu-dev",
        deploymentGroupName=f"{FN}-no-rollback",
        deploymentConfigName=info["deploymentConfigName"],
        serviceRoleArn=info["serviceRoleArn"],
        alarmConfiguration=info["alarmConfiguration"],
        autoRollbackConfiguration={"enabled": False, "events": []},
        deploymentStyle=info["deploymentStyle"],
    )
    exp = json.loads(EXPERIMENT.read_text())
    for act in exp["method"]:
        args = act["provider"].get("arguments", {})
        if "deployment_group" in args:
            args["deployment_group"] += "-no-rollback"
    path = tmp_path / "faulty-canary-no-rollback.json"
    path.write_text(json.dumps(exp))
    # WHEN the same experiment runs against it
    result = run_experiment(path, target, ledger_path=tmp_path / "ledger.jsonl")
    # THEN it fails, saying which phase broke and which activity
    assert not result.ok
    why = result.failure()
    assert "phase rollback_start broke" in why
    assert "'automatic-rollback-finishes' failed" in why and "without an automatic rollback" in why
    # AND the harness's own rollback still put the alias back
    lam = sandbox_client("lambda")
    alias = lam.get_alias(FunctionName=FN, Name="production")
    assert alias["FunctionVersion"] == "1"
    assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
