"""Every experiment in experiments/ (beyond faulty-canary, see test_chaos_canary.py) run
through the chaos runner against the in-process sandbox: each hypothesis is checked on
the evidence it names, target times agree with the sandbox's ground truth within 1 s, and
no fault is left behind — the function configurations, aliases, reserved concurrency,
SSM parameters, subscriptions and queues are back to what they were before the run.

latency-canary is expected to FAIL at the detect phase: the seed's DurationAlarm
(Average > 10 000 ms over the whole alias) cannot see a 2 s canary. That is the finding.

The manual rollback drill runs first: the seed's procedure takes `Versions[-2]`, which is
the previous version only while no other version was published since (the last test
shows what happens after an earlier canary).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import env, wait_until
from sandbox_helpers import snapshot as function_snapshot

from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.chaos.runner import ExperimentResult, run_experiment
from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.load import read_results
from lambda_gameday.sandbox import Sandbox

EXPERIMENTS = Path(__file__).parents[2] / "experiments"
LIVENESS = "hasivu-dev-health-liveness"
STARTUP = "hasivu-dev-health-startup"
ERROR_ALARM = f"{LIVENESS}-error-rate"
DURATION_ALARM = f"{LIVENESS}-duration"
Client = Callable[[str], Any]


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


def snapshot(client: Client) -> dict[str, Any]:
    """Everything a fault could leave behind: functions, aliases, concurrency, SSM
    parameters (test_chaos_process's snapshot) plus SNS subscriptions and SQS queues."""
    state = function_snapshot(client)
    state["subscriptions"] = sorted(
        (s["TopicArn"], s["Protocol"], s["Endpoint"])
        for s in client("sns").list_subscriptions()["Subscriptions"]
    )
    state["queues"] = sorted(client("sqs").list_queues().get("QueueUrls", []))
    return state


@pytest.fixture
def before(sandbox_client: Client) -> dict[str, Any]:
    """GIVEN a quiet stack (no alarm firing, e.g. after the previous experiment's errors):
    its state, to compare with after the run."""
    cw = sandbox_client("cloudwatch")

    def quiet() -> bool:
        alarms = cw.describe_alarms()["MetricAlarms"]
        return all(a["StateValue"] != "ALARM" for a in alarms)

    wait_until(quiet, timeout=30, interval=0.1)
    return snapshot(sandbox_client)


def run(
    name: str, target: Target, tmp_path: Path, experiment: dict[str, Any] | None = None
) -> ExperimentResult:
    path = EXPERIMENTS / f"{name}.json"
    if experiment is not None:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(experiment))
    return run_experiment(
        path,
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        journal_path=tmp_path / "journal.json",
    )


def nothing_left(
    result: ExperimentResult, client: Client, before: dict[str, Any], tmp: Path
) -> None:
    assert result.cleanup_problems == ()
    assert Ledger(tmp / "ledger.jsonl").open_entries() == []
    assert snapshot(client) == before


def output(result: ExperimentResult, activity: str) -> Any:
    for r in result.journal["run"]:
        if r["activity"]["name"] == activity:
            assert r["status"] == "succeeded", r.get("exception")
            return r["output"]
    raise AssertionError(f"no activity {activity!r} in the journal")


def truth_at(sandbox: Sandbox, kind: str, subject: str, after: float, **detail: Any) -> float:
    for e in sandbox.truth.events(kind, subject):  # type: ignore[arg-type]
        if e.at >= after and all(e.detail.get(k) == v for k, v in detail.items()):
            return e.at
    raise AssertionError(f"no {kind} {subject} {detail} in ground truth after {after}")


def published_versions(client: Client, fn: str) -> list[str]:
    versions = client("lambda").list_versions_by_function(FunctionName=fn)["Versions"]
    return [v["Version"] for v in versions]


def test_manual_rollback_drill_restores_the_previous_version_in_budget(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN the seed's stack, where only the stable version 1 was ever published
    assert published_versions(sandbox_client, LIVENESS) == ["$LATEST", "1"]
    # WHEN the drill promotes a faulty version and runs the seed's manual procedure
    result = run("manual-rollback-drill", target, tmp_path)
    # THEN users were hurt, the alias serves only the previous version again, in budget
    assert result.ok, result.failure()
    drill = output(result, "manual-rollback")
    assert drill["to_version"] == drill["expected_version"] == "1"
    assert drill["matches_previous"] is True and drill["from_version"] != "1"
    assert output(result, "alias-serves-previous-version")["weights"] == {}
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None and tl.blast_radius.failed >= 3
    # AND the drill's own time is on the timeline
    m = tl.milestones
    assert m.rollback_started == drill["started_at"] and m.alias_restored == drill["finished_at"]
    assert 0 < drill["duration_s"] < target.slos.mttr_s
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    assert m.fault_injected is not None
    alias = f"{LIVENESS}:production"
    faulty = drill["from_version"]
    assert m.fault_injected == pytest.approx(
        truth_at(sandbox, "alias", alias, m.fault_injected - 5, version=faulty), abs=1.0
    )
    assert m.alias_restored == pytest.approx(
        truth_at(sandbox, "alias", alias, m.fault_injected, version="1", weights={}), abs=1.0
    )
    nothing_left(result, sandbox_client, before, tmp_path)


def test_throttling_is_seen_by_users_counted_and_restored(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # WHEN the startup function's reserved concurrency drops to 0, then is restored
    result = run("throttling", target, tmp_path)
    # THEN users saw 500s, Lambda counted Throttles, and the restore brought users back
    assert result.ok, result.failure()
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None
    m = tl.milestones
    # no alias changed: the method's restore step removed the fault, so the timeline says
    # "recovered by harness rollback" and makes no platform MTTR claim
    assert m.alias_restored is None and m.rollback_started is None
    assert m.fault_injected is not None and m.fault_removed_by_harness is not None
    assert tl.recovered_by_harness and tl.mttr is None
    assert "recovered by harness rollback" in "\n".join(tl.render())
    removed = m.fault_removed_by_harness
    statuses = {r.status for r in result.probes if m.fault_injected <= r.sent_at < removed}
    assert 500 in statuses
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    cw = sandbox_client("cloudwatch")
    injected, restored = m.fault_injected, removed

    def throttles() -> float:
        points = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Throttles",
            Dimensions=[{"Name": "FunctionName", "Value": STARTUP}],
            StartTime=datetime.fromtimestamp(injected - 60, UTC),
            EndTime=datetime.fromtimestamp(restored + 60, UTC),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return float(sum(p["Sum"] for p in points))

    wait_until(lambda: throttles() >= 3, timeout=10)  # published by the sandbox's flush
    # AND the sandbox saw the concurrency change when the ledger says
    assert m.fault_injected == pytest.approx(
        truth_at(sandbox, "fault", STARTUP, m.fault_injected - 5), abs=1.0
    )
    assert removed == pytest.approx(
        truth_at(sandbox, "fault", STARTUP, m.fault_injected + 0.001), abs=1.0
    )
    nothing_left(result, sandbox_client, before, tmp_path)


def test_dependency_outage_fails_readiness_and_recovers(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # WHEN the readiness and health functions are cut off from their database (failure-lambda
    # denylist on the host their DATABASE_HOST names, as on AWS) and then reconnected
    result = run("dependency-outage", target, tmp_path)
    # THEN readiness failed, /health reported the database as fail, liveness kept answering,
    # and readiness recovered in budget
    assert result.ok, result.failure()
    assert isinstance(output(result, "comprehensive-reports-database"), str)
    assert output(result, "liveness-unaffected") is True
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None
    m = tl.milestones
    assert m.fault_injected is not None and m.fault_removed_by_harness is not None
    assert m.alias_restored is None and tl.recovered_by_harness and tl.mttr is None
    # AND the readiness function's denylist came and went when the timeline says
    ready = "hasivu-dev-health-readiness"
    down = truth_at(
        sandbox, "fault", ready, m.fault_injected - 5, fault="failure_lambda", value=["denylist"]
    )
    up = truth_at(sandbox, "fault", ready, down, fault="failure_lambda", value=None)
    # the database itself never went down: only those functions' lookups of its host failed
    assert not [e for e in sandbox.truth.events("dependency", "database") if e.at >= down]
    # AND only readiness requests sent while the database was down failed
    failed = [r for r in result.probes if not r.ok]
    assert len(failed) >= 3 and {r.path for r in failed} == {"/health/ready"}
    # (the twin records the parameter change when its watcher sees it, while each
    # invocation reads the parameter itself: the two agree within the 1 s used throughout)
    assert all(down - 1.0 <= r.sent_at <= up + 1.0 for r in failed), (down, up, failed)
    assert tl.first_sustained_success is not None and tl.first_sustained_success >= up - 0.2
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    assert m.fault_injected == pytest.approx(down, abs=1.0)
    assert m.fault_removed_by_harness == pytest.approx(up, abs=1.0)
    nothing_left(result, sandbox_client, before, tmp_path)


def test_timeout_regression_gives_502s_then_is_rolled_back(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # WHEN a canary whose work outlasts its timeout ships through CodeDeploy
    result = run("timeout-regression", target, tmp_path)
    # THEN the canary's requests got 502s, the error alarm fired, the automatic rollback
    # restored the alias and users were served again, within budget
    assert result.ok, result.failure()
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None
    m = tl.milestones
    assert m.alarm == ERROR_ALARM and m.faulty_version is not None
    assert m.fault_injected is not None and m.alias_restored is not None
    bad = [r for r in result.probes if not r.ok]
    assert bad and {r.status for r in bad} == {502}
    assert all(r.sent_at < m.alias_restored for r in bad)
    assert tl.time_to_recover is not None and tl.time_to_recover < target.slos.mttr_s
    # AND each target time agrees with the ground truth within 1 s
    alias = f"{LIVENESS}:production"
    shift = next(
        e.at
        for e in sandbox.truth.events("alias", alias)
        if e.at >= m.fault_injected - 5 and m.faulty_version in e.detail.get("weights", {})  # type: ignore[operator]
    )
    fired = truth_at(sandbox, "alarm", ERROR_ALARM, m.fault_injected, new="ALARM")
    assert m.fault_injected == pytest.approx(shift, abs=1.0)
    assert m.alarm_fired == pytest.approx(fired, abs=1.0)
    assert m.alias_restored == pytest.approx(
        truth_at(sandbox, "alias", alias, fired, weights={}), abs=1.0
    )
    assert m.alarm_ok == pytest.approx(
        truth_at(sandbox, "alarm", ERROR_ALARM, fired, new="OK"), abs=1.0
    )
    nothing_left(result, sandbox_client, before, tmp_path)


def test_alarm_notification_reaches_a_temporary_subscriber_that_is_removed(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # WHEN the drill subscribes a queue to the alert topic and sets the alarm to ALARM
    result = run("alarm-notification-drill", target, tmp_path)
    # THEN the ALARM message reached the queue, and the alarm evaluated itself back to OK
    assert result.ok, result.failure()
    sub = output(result, "subscribe-drill-queue")
    message = output(result, "alarm-message-arrives")
    assert message["alarm"] == ERROR_ALARM and message["new_state"] == "ALARM"
    assert message["subject"].startswith(f'ALARM: "{ERROR_ALARM}"')
    # AND the forced transition and the message's StateChangeTime match the ground truth
    forced = output(result, "force-alarm")
    truth = truth_at(
        sandbox, "alarm", ERROR_ALARM, forced - 5, new="ALARM", reason="gameday notification drill"
    )
    assert forced == pytest.approx(truth, abs=1.0)
    changed = datetime.strptime(message["state_change_time"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert changed.timestamp() == pytest.approx(truth, abs=1.0)
    assert output(result, "alarm-returns-to-ok")["state"] == "OK"
    # AND the subscription and the queue are gone
    subs = sandbox_client("sns").list_subscriptions()["Subscriptions"]
    assert sub["subscription_arn"] not in {s["SubscriptionArn"] for s in subs}
    assert sub["queue_url"] not in sandbox_client("sqs").list_queues().get("QueueUrls", [])
    nothing_left(result, sandbox_client, before, tmp_path)


def shortened_detect(name: str, timeout_s: float) -> dict[str, Any]:
    """The experiment with the deadline of its alarm waits cut to `timeout_s`."""
    exp: dict[str, Any] = json.loads((EXPERIMENTS / f"{name}.json").read_text())
    for act in exp["method"]:
        if act["provider"].get("func") == "wait_for_alarm_state":
            act["provider"]["arguments"]["timeout_s"] = timeout_s
    return exp


def test_latency_canary_is_not_detected_by_the_seeds_duration_alarm(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN the latency canary with its detect deadline cut to 10 s: 2.5 times the fastest
    # detection of the sandbox's duration alarm (Period 2 s x 2 periods in fast timing)
    exp = shortened_detect("latency-canary", 10)
    # WHEN it runs
    result = run("latency-canary", target, tmp_path, exp)
    # THEN it fails at the detect phase: users were slowed, the duration alarm never fired
    assert not result.ok
    assert result.timeline is not None and result.timeline.broken_phase == "detect"
    assert "phase detect broke" in result.failure()
    m = result.timeline.milestones
    assert m.fault_injected is not None and m.faulty_version is not None
    slow = [r for r in result.probes if r.sent_at >= m.fault_injected and not r.ok]
    assert slow and all(r.done_at - r.sent_at >= 1.5 for r in slow)
    assert not [
        e
        for e in sandbox.truth.events("alarm", DURATION_ALARM)
        if e.at >= m.fault_injected and e.detail.get("new") == "ALARM"
    ]
    # AND the harness's rollbacks still removed the fault: stable alias, no deployment left
    cd = sandbox_client("codedeploy")
    running = cd.list_deployments(
        applicationName="hasivu-dev",
        deploymentGroupName=LIVENESS,
        includeOnlyStatuses=["Created", "Queued", "InProgress", "Baking", "Ready"],
    )["deployments"]
    assert running == []
    nothing_left(result, sandbox_client, before, tmp_path)


def test_after_an_earlier_canary_the_seeds_manual_procedure_picks_the_wrong_version(
    sandbox: Sandbox, target: Target, sandbox_client: Client, before: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a version published since the stable one that never became stable (earlier
    # experiments of this module left some; run alone, one drill leaves one)
    if len(published_versions(sandbox_client, LIVENESS)) < 3:
        assert run("manual-rollback-drill", target, tmp_path / "first").ok
        before = snapshot(sandbox_client)
    # WHEN the drill runs again (alias check deadline cut: update-alias is synchronous)
    exp = json.loads((EXPERIMENTS / "manual-rollback-drill.json").read_text())
    for act in exp["method"]:
        if act["provider"].get("func") == "wait_for_alias_version":
            act["provider"]["arguments"]["timeout_s"] = 2
    result = run("manual-rollback-drill", target, tmp_path, exp)
    # THEN Versions[-2] was not the previous version: the drill fails on the alias check
    assert not result.ok
    assert "'alias-serves-previous-version' failed" in result.failure()
    drill = output(result, "manual-rollback")
    assert drill["matches_previous"] is False and drill["expected_version"] == "1"
    versions = published_versions(sandbox_client, LIVENESS)
    assert drill["to_version"] == versions[-2] != "1" and drill["from_version"] == versions[-1]
    # AND the harness's rollback put the stable version back
    nothing_left(result, sandbox_client, before, tmp_path)


def test_gameday_chaos_drives_load_through_the_experiment(
    sandbox: Sandbox,
    sandbox_client: Client,
    target_file: Path,
    before: dict[str, Any],
    tmp_path: Path,
) -> None:
    # WHEN `gameday chaos dependency-outage --load-users 2` runs (a subprocess, as users do)
    journal = tmp_path / "journal.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambda_gameday.cli",
            "chaos",
            "dependency-outage",
            "--target",
            str(target_file),
            "--ledger",
            str(tmp_path / "ledger.jsonl"),
            "--journal",
            str(journal),
            "--load-users",
            "2",
        ],
        env=env(sandbox, tmp_path / "ledger.jsonl"),
        cwd=EXPERIMENTS.parent,
        capture_output=True,
        text=True,
        timeout=90,
    )
    # THEN the hypothesis held under load, and the load's counts follow the timeline
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    load_line = next(i for i, line in enumerate(lines) if line.startswith("under load (2 users)"))
    assert load_line > next(i for i, line in enumerate(lines) if "fault injected" in line)
    match = re.search(r"([\d,]+) requests, ([\d,]+) failed", lines[load_line])
    assert match is not None, lines[load_line]
    requests = int(match[1].replace(",", ""))
    failed = int(match[2].replace(",", ""))
    assert requests > 0 and 0 <= failed <= requests
    # AND the load's results are next to the journal, matching the printed counts
    results = read_results(tmp_path / "dependency-outage-load.json")
    assert results.status == "complete"
    assert (results.count, results.failures) == (requests, failed)
    assert snapshot(sandbox_client) == before
