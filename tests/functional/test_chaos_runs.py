"""Two experiments one after another in one process share nothing: the first trips a stop
condition with a drill subscription open and an alarm transition seen; the second starts
with none of that, is not interrupted, and records only its own traffic. Both through
`run_experiment` and through chaoslib's own runner, as the stock `chaos run` does."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import run_experiment as ctk_run

from lambda_gameday.chaos.cloudwatch.probes import alarm_state, wait_for_alarm_state
from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.chaos.run import current_run
from lambda_gameday.chaos.runner import run_experiment, target_configuration
from lambda_gameday.chaos.sns.actions import force_alarm_state
from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.sandbox import Sandbox

FN = "hasivu-dev-health-liveness"
PATH = "/health/live"
ALARM = f"{FN}-error-rate"
TOPIC = "hasivu-dev-alerts"


def activity(kind: str, name: str, module: str, func: str, **args: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "provider": {"type": "python", "module": module, "func": func, "arguments": args},
    }


def experiment(title: str, method: list[dict[str, Any]], **safety: Any) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "title": title,
        "description": "run-context isolation",
        "extensions": [
            {
                "name": "gameday",
                "timeline": {"expect_alarm": False, "expect_rollback": False},
            }
        ],
        "controls": [
            {
                "name": "gameday-safety",
                "provider": {
                    "type": "python",
                    "module": "lambda_gameday.chaos.controls.safety",
                    "arguments": safety,
                },
            },
            {
                "name": "gameday-traffic",
                "provider": {
                    "type": "python",
                    "module": "lambda_gameday.chaos.controls.traffic",
                    "arguments": {"paths": [PATH], "interval_s": 0.05, "max_duration_s": 60},
                },
            },
        ],
        "method": method,
        "rollbacks": [
            activity("action", "remove", "lambda_gameday.chaos.awslambda.actions", "remove_faults"),
        ],
    }


SPY = activity("probe", "run-state", "run_spy", "run_state")

# Run 1: open a drill subscription, see an alarm transition, then throttle the function
# users call: availability falls below the floor and the safety control stops the run
# while it waits for a recovery that cannot come. Nothing clears the run's subscriptions
# (no remove_subscription; remove_faults and the safety control remove the queue).
STOPPED = experiment(
    "stopped",
    [
        activity("action", "subscribe", "lambda_gameday.chaos.sns.actions", "subscribe_queue",
                 topic=TOPIC),
        activity("action", "force-alarm", "lambda_gameday.chaos.sns.actions",
                 "force_alarm_state", alarm_name=ALARM, state="ALARM"),
        activity("probe", "alarm-fires", "lambda_gameday.chaos.cloudwatch.probes",
                 "wait_for_alarm_state", alarm_name=ALARM, state="ALARM", timeout_s=20),
        SPY,
        activity("action", "throttle", "lambda_gameday.chaos.awslambda.actions", "throttle",
                 function_name=FN, reserved=0),
        activity("probe", "never-recovers", "lambda_gameday.chaos.http.probes",
                 "wait_for_user_recovery", path=PATH, consecutive=5, timeout_s=40),
    ],
    availability_floor=0.9,
    min_probes=5,
    check_interval_s=0.1,
)  # fmt: skip

# Run 2: benign; it must run to the end, seeing users served.
CALM = experiment(
    "calm",
    [
        activity("probe", "users-served", "lambda_gameday.chaos.http.probes",
                 "wait_for_user_recovery", path=PATH, consecutive=5, timeout_s=20),
        SPY,
    ],
    availability_floor=0.5,
    min_probes=5,
    check_interval_s=0.1,
)  # fmt: skip


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


def spy_output(journal: dict[str, Any]) -> dict[str, Any]:
    (out,) = [r["output"] for r in journal["run"] if r["activity"]["name"] == "run-state"]
    assert isinstance(out, dict)
    return out


def run_gameday(exp: dict[str, Any], target: Target, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"{exp['title']}.json"
    path.write_text(json.dumps(exp))
    result = run_experiment(path, target, ledger_path=tmp_path / "ledger.jsonl")
    journal = dict(result.journal)
    journal["_aborted_by"] = result.aborted_by
    journal["_probes"] = [p.sent_at for p in result.probes]
    return journal


def run_stock(exp: dict[str, Any], target: Target, tmp_path: Path) -> dict[str, Any]:
    """What `chaos run` does: chaoslib's runner, no harness around it."""
    exp = copy.deepcopy(exp)
    exp["configuration"] = {
        **target_configuration(target),
        "gameday_ledger": str(tmp_path / "ledger.jsonl"),
    }
    settings = {"runtime": {"rollbacks": {"strategy": "always"}}}
    journal: dict[str, Any] = dict(ctk_run(exp, settings=settings))
    journal["_aborted_by"] = journal.get("gameday", {}).get("stopped_by")
    journal["_probes"] = None
    return journal


@pytest.mark.parametrize("runner", [run_gameday, run_stock], ids=["run_experiment", "stock"])
def test_two_runs_in_one_process_share_nothing(
    sandbox: Sandbox, target: Target, tmp_path: Path, runner: Any
) -> None:
    # GIVEN a first run stopped by a stop condition, with a subscription and a seen alarm
    first = runner(STOPPED, target, tmp_path)
    assert first["status"] == "interrupted", first["status"]
    assert str(first["_aborted_by"]).startswith("availability"), first["_aborted_by"]
    spied1 = spy_output(first)
    assert spied1["in_run"] and spied1["aborted_by"] is None
    assert [a.rsplit(":", 1)[-1] for a in spied1["subscriptions"]] == [TOPIC]
    assert spied1["seen_alarms"] == [ALARM]
    assert spied1["ledger_run_id"] == spied1["run_id"]
    # AND the first run's faults are gone (its entries carry its own run id)
    ledger = Ledger(tmp_path / "ledger.jsonl")
    assert {e.run_id for e in ledger.entries()} == {spied1["run_id"]}
    assert ledger.open_entries() == []
    # WHEN a second experiment runs in the same process
    started = time.time()
    second = runner(CALM, target, tmp_path)
    # THEN it ran to the end: the first run's stop condition does not reach it
    assert second["status"] == "completed", second.get("gameday")
    assert second["_aborted_by"] is None
    assert "stopped_by" not in second.get("gameday", {})
    # AND its context holds nothing of the first run's
    spied2 = spy_output(second)
    assert spied2["run_id"] != spied1["run_id"] and spied2["aborted_by"] is None
    assert spied2["subscriptions"] == [] and spied2["seen_alarms"] == []
    assert spied2["first_probe_at"] is not None and spied2["first_probe_at"] >= started
    if second["_probes"] is not None:  # run_experiment reports the run's own traffic only
        assert second["_probes"] and min(second["_probes"]) >= started
        assert not set(second["_probes"]) & set(first["_probes"])
    # AND once the runs are over this thread holds no run
    assert current_run() is None


def test_a_forced_alarm_already_set_back_still_reads_as_entered(
    target: Target, tmp_path: Path
) -> None:
    # GIVEN an alarm forced to ALARM and already set back by its own next evaluation (one
    # Period later) before anyone polls it - what a starved machine's late poll sees
    conf = {
        **target_configuration(target),
        "gameday_ledger": str(tmp_path / "ledger.jsonl"),
        "gameday_run_id": "forced",
    }
    before = time.time()
    force_alarm_state(ALARM, "ALARM", configuration=conf)
    deadline = time.monotonic() + 60
    while alarm_state(ALARM, configuration=conf) != "OK":
        assert time.monotonic() < deadline, "the alarm's evaluation never set it back"
        time.sleep(0.05)
    # WHEN the harness waits for the alarm to have entered ALARM
    got = wait_for_alarm_state(ALARM, "ALARM", timeout_s=0, after=before, configuration=conf)
    # THEN the transition the target recorded counts, stamped when the target made it
    assert got["source"] == "history" and got["state"] == "ALARM"
    assert before - 1 <= got["at"] <= time.time()
