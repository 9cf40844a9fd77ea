"""Safe on a real account, shown on the sandbox (subprocesses, as users run the CLI):

* a cold-start probe killed mid-way leaves a ledger entry; `gameday cleanup` removes it;
* the ledger holds no environment values except the keys a fault changed;
* an undo restores a key only while it holds the fault's value (conflicts left alone);
* one destructive run per target: a second exits 5 while the first holds the lock, and
  after the first is SIGKILLed the next run starts;
* refusals: the stock `chaos run` against a production target file, `gameday load`
  against production (exit 5, one line, nothing changed);
* a phase name that would leave the report directory is refused before anything is
  written or deleted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import env, snapshot, wait_until

from lambda_gameday.chaos.awslambda import actions as lam_actions
from lambda_gameday.chaos.context import ledger_for
from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.lock import LOCK_PARAMETER
from lambda_gameday.sandbox import Sandbox

FN = "hasivu-dev-health-liveness"
SECRET = "s3cr3t-do-not-store-4711"

SLOW = {
    "version": "1.0.0",
    "title": "hold the target",
    "description": "one fault, then a pause long enough to be seen (and killed) in",
    "extensions": [
        {"name": "gameday", "timeline": {"expect_alarm": False, "expect_rollback": False}}
    ],
    "method": [
        {
            "type": "action",
            "name": "throttle",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "throttle",
                "arguments": {"function_name": "hasivu-dev-health-startup"},
            },
            "pauses": {"after": 20},
        }
    ],
    "rollbacks": [
        {
            "type": "action",
            "name": "unthrottle",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "restore_concurrency",
                "arguments": {"function_name": "hasivu-dev-health-startup"},
            },
        }
    ],
}


SAFETY_CONTROL = {
    "name": "gameday-safety",
    "provider": {"type": "python", "module": "lambda_gameday.chaos.controls.safety"},
}


def gameday(
    sandbox: Sandbox, ledger: Path, *args: str, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        env=env(sandbox, ledger),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn(sandbox: Sandbox, ledger: Path, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        env=env(sandbox, ledger),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def production_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "prod.toml"
    path.write_text(
        'name = "prod"\nkind = "sandbox"\nenvironment = "production"\n'
        f'region = "{sandbox.config.region}"\nendpoint_url = "{sandbox.endpoint_url}"\n'
        f'api_url = "{sandbox.api_url}"\n[[functions]]\nname = "{FN}"\npath = "/health/live"\n'
    )
    return path


def test_killed_coldstart_leaves_an_entry_and_cleanup_removes_the_touch(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    baseline = snapshot(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    # GIVEN a cold-start probe with many warm invocations (time to be killed in)
    proc = spawn(
        sandbox,
        ledger,
        "coldstart",
        "--target",
        str(target_file),
        "--function",
        FN,
        "--warm",
        "1000",
        "--ledger",
        str(ledger),
        "--out",
        str(tmp_path / "cold.jsonl"),
        cwd=tmp_path,
    )
    try:
        # WHEN it is SIGKILLed once the touch is on $LATEST
        wait_until(
            lambda: any(e.injected_at and e.open for e in Ledger(ledger).entries()), timeout=60
        )
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    # THEN the touch is still there, and the ledger says so
    (entry,) = Ledger(ledger).open_entries()
    assert entry.kind == "coldstart" and entry.resource == FN
    variables = snapshot(sandbox_client)[FN]["env"]
    assert "GAMEDAY_COLDSTART" in variables
    # WHEN the ledger also has a corrupt line, and `cleanup --check` looks first
    with ledger.open("r+") as f:
        lines = f.read().splitlines(keepends=True)
        f.seek(0)
        f.writelines([lines[0], '{"op": "fault", "id": "zz", "at": \n', *lines[1:]])
    check = gameday(
        sandbox, ledger, "cleanup", "--check", "--target", str(target_file),
        "--ledger", str(ledger), cwd=tmp_path,
    )  # fmt: skip
    # THEN it lists the entry, reports the line by number, and touches nothing
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"would remove: cold-start touch GAMEDAY_COLDSTART on {FN}" in check.stdout
    assert f"{ledger}:2: skipped not a ledger record" in check.stderr
    assert "GAMEDAY_COLDSTART" in snapshot(sandbox_client)[FN]["env"]
    assert [e.id for e in Ledger(ledger).open_entries()] == [entry.id]
    # WHEN `gameday cleanup` runs against the target
    done = gameday(
        sandbox, ledger, "cleanup", "--target", str(target_file), "--ledger", str(ledger),
        cwd=tmp_path,
    )  # fmt: skip
    # THEN the touch is gone and everything is as before (the stale lock released too)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed: cold-start touch GAMEDAY_COLDSTART on {FN}" in done.stdout
    assert snapshot(sandbox_client) == baseline
    assert Ledger(ledger).open_entries() == []


def test_ledger_keeps_only_the_changed_keys(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    lam = sandbox_client("lambda")
    original = lam.get_function_configuration(FunctionName=FN)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FN, Environment={"Variables": {**original, "DB_PASSWORD": SECRET}}
    )
    wait_until(
        lambda: lam.get_function_configuration(FunctionName=FN)["LastUpdateStatus"] != "InProgress"
    )
    try:
        conf = {
            "aws_region": sandbox.config.region,
            "gameday_endpoint_url": sandbox.endpoint_url,
            "gameday_api_url": sandbox.api_url,
            "gameday_ledger": str(tmp_path / "ledger.jsonl"),
            "gameday_run_id": "secrets",
        }
        lam_actions.inject_latency(FN, latency_s=1, configuration=conf)
        lam_actions.deploy_canary(FN, fault="exception", weight=0.5, configuration=conf)
        lam_actions.remove_faults(configuration=conf)
        text = (tmp_path / "ledger.jsonl").read_text()
        assert SECRET not in text and "DB_PASSWORD" not in text
        assert "S3_BUCKET" in original and "STAGE" in original
        # untouched variables are not stored either (the seed's functions are wrapped by
        # failure-lambda already: the canary changes FAILURE_INJECTION_PARAM, so it is stored)
        for key in original:
            if key != "FAILURE_INJECTION_PARAM":
                assert f'"{key}"' not in text, key
        for entry in ledger_for(conf).entries():
            for step in entry.undo:
                assert "environment" not in step
                for key, change in step.get("env", {}).items():
                    assert key.startswith(("CHAOS", "AWS_LAMBDA_EXEC", "FAILURE_INJECTION"))
                    assert change["before"] != change["after"], key  # only what changed
        variables = lam.get_function_configuration(FunctionName=FN)["Environment"]["Variables"]
        assert variables == {**original, "DB_PASSWORD": SECRET}
    finally:
        lam.update_function_configuration(FunctionName=FN, Environment={"Variables": original})
        wait_until(
            lambda: (
                lam.get_function_configuration(FunctionName=FN)["LastUpdateStatus"] != "InProgress"
            )
        )


def test_undo_leaves_a_key_changed_since_the_fault_alone(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    lam = sandbox_client("lambda")
    before = lam.get_function_configuration(FunctionName=FN)
    conf = {
        "aws_region": sandbox.config.region,
        "gameday_endpoint_url": sandbox.endpoint_url,
        "gameday_api_url": sandbox.api_url,
        "gameday_ledger": str(tmp_path / "ledger.jsonl"),
        "gameday_run_id": "conflict",
    }
    lam_actions.inject_latency(FN, latency_s=2, configuration=conf)
    # someone changes one of the fault's keys after the fault
    during = lam.get_function_configuration(FunctionName=FN)["Environment"]["Variables"]
    mine = {**during, "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": "7"}
    lam.update_function_configuration(FunctionName=FN, Environment={"Variables": mine})
    wait_until(
        lambda: lam.get_function_configuration(FunctionName=FN)["LastUpdateStatus"] != "InProgress"
    )
    try:
        (line,) = lam_actions.remove_faults(configuration=conf)
        assert "conflict" in line and "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE" in line
        after = lam.get_function_configuration(FunctionName=FN)
        variables = after["Environment"]["Variables"]
        # the changed key is left as that person set it; the fault's other keys are gone
        assert variables == {
            **before["Environment"]["Variables"],
            "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": "7",
        }
        assert [x["Arn"] for x in after.get("Layers", [])] == [
            x["Arn"] for x in before.get("Layers", [])
        ]
    finally:
        lam.update_function_configuration(
            FunctionName=FN, Environment={"Variables": before["Environment"]["Variables"]}
        )
        wait_until(
            lambda: (
                lam.get_function_configuration(FunctionName=FN)["LastUpdateStatus"] != "InProgress"
            )
        )


def test_one_destructive_run_per_target(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    baseline = snapshot(sandbox_client)
    experiment = tmp_path / "hold.json"
    experiment.write_text(json.dumps(SLOW))
    ledger = tmp_path / "ledger.jsonl"
    first = spawn(
        sandbox, ledger, "chaos", str(experiment), "--target", str(target_file),
        "--ledger", str(ledger), cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_until(lambda: any(e.injected_at for e in Ledger(ledger).entries()), timeout=60)
        # WHEN a second game day starts against the same target while the first holds it
        plan = tmp_path / "plan.yml"
        plan.write_text("name: second\nphases:\n  - phase: lint\n")
        second = gameday(
            sandbox, ledger, "run", "--plan", str(plan), "--target", str(target_file),
            "--report-dir", str(tmp_path / "reports"), "--no-history", cwd=tmp_path,
        )  # fmt: skip
        # THEN it is refused, in one line, naming the holder
        assert second.returncode == 5, second.stdout + second.stderr
        assert "is busy" in second.stderr and "chaos experiment 'hold the target'" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        reports = tmp_path / "reports"
        assert not reports.exists() or list(reports.iterdir()) == []  # no run started
        # the stock `chaos run` (with the safety control) is refused by the same lock
        stock = tmp_path / "stock.json"
        stock.write_text(json.dumps({**SLOW, "controls": [SAFETY_CONTROL]}))
        environ = env(sandbox, tmp_path / "stock-ledger.jsonl")
        environ["GAMEDAY_TARGET"] = str(target_file)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "chaos"), "--no-log-file", "run", str(stock)],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "is busy" in done.stdout + done.stderr, (done.stdout + done.stderr)[-3000:]
        assert Ledger(tmp_path / "stock-ledger.jsonl").entries() == []
    finally:
        # WHEN the first run is SIGKILLed (its lock and its fault stay behind)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert sandbox_client("ssm").get_parameter(Name=LOCK_PARAMETER)["Parameter"]["Value"]
    # THEN the next run starts: the dead holder's lock is released, its fault removed
    third = gameday(
        sandbox, ledger, "cleanup", "--target", str(target_file), "--ledger", str(ledger),
        cwd=tmp_path,
    )  # fmt: skip
    assert third.returncode == 0, third.stdout + third.stderr
    assert "removed: reserved concurrency 0 on hasivu-dev-health-startup" in third.stdout
    assert snapshot(sandbox_client) == baseline  # lock parameter included: released


def test_stock_chaos_run_refuses_a_production_target_file(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    baseline = snapshot(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    experiment = tmp_path / "hold.json"
    experiment.write_text(json.dumps({**SLOW, "controls": [SAFETY_CONTROL]}))
    environ = env(sandbox, ledger)
    environ.pop("AWS_ENDPOINT_URL")  # the target file alone says where to go
    environ["GAMEDAY_TARGET"] = str(production_file(sandbox, tmp_path))
    for controls in (True, False):  # with the safety control, and a bare experiment
        if not controls:
            experiment.write_text(json.dumps(SLOW))
        done = subprocess.run(
            [str(Path(sys.executable).parent / "chaos"), "--no-log-file", "run", str(experiment)],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = done.stdout + done.stderr
        assert "prod is production" in out and "GAMEDAY_ALLOW_PRODUCTION=1" in out, out[-3000:]
        assert snapshot(sandbox_client) == baseline
        assert Ledger(ledger).entries() == []


def test_gameday_load_refuses_production(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    out = tmp_path / "load.json"
    done = gameday(
        sandbox, tmp_path / "l.jsonl", "load", "--target", str(production_file(sandbox, tmp_path)),
        "-t", "2", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 5, done.stdout + done.stderr
    assert "prod is production" in done.stderr and "--allow-production" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists() and not Path(str(out) + ".log").exists()


@pytest.mark.parametrize("kind", ["load", "synthetics"])
def test_a_traversal_phase_name_writes_and_deletes_nothing_outside(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    from lambda_gameday.config import sandbox_target
    from lambda_gameday.exceptions import ConfigError
    from lambda_gameday.gameday.orchestrator import run_phase
    from lambda_gameday.gameday.phases.common import PhaseContext
    from lambda_gameday.gameday.plan import LoadOptions, PhaseSpec, SyntheticsOptions

    reports = tmp_path / "a" / "b" / "reports"
    reports.mkdir(parents=True)
    # a file the load runner would unlink first, where the traversal points
    victim = tmp_path / ("x-results.json" if kind == "load" else "x.jsonl")
    victim.write_text("keep me")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    target = sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)
    options = LoadOptions(duration_s=1, users=1) if kind == "load" else SyntheticsOptions()
    # built directly: the plan's own validation is not what is shown here
    spec = PhaseSpec(kind, "../../../x", options)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="outside the report directory"):
        run_phase(spec, PhaseContext(target, reports))
    assert victim.read_text() == "keep me"
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert os.listdir(reports) == []


def test_a_cleanup_that_fails_names_what_is_left_and_how_to_remove_it(
    sandbox: Sandbox, target_file: Path, tmp_path: Path
) -> None:
    from lambda_gameday.chaos.context import identity_of
    from lambda_gameday.config import load_target

    # GIVEN an open fault of this target whose undo cannot succeed (its function is gone)
    path = tmp_path / "ledger.jsonl"
    Ledger(path).record(
        "concurrency", "hasivu-dev-nope", "reserved concurrency 0 on hasivu-dev-nope",
        identity_of(load_target(target_file)),
        [{"op": "restore_concurrency", "function": "hasivu-dev-nope", "reserved": None}],
    )  # fmt: skip
    # WHEN cleanup runs
    done = gameday(
        sandbox, path, "cleanup", "--target", str(target_file), "--ledger", str(path),
        cwd=tmp_path,
    )  # fmt: skip
    # THEN it fails (exit 3) in one line: what may still be in place, and the manual undo
    assert done.returncode == 3, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "faults may still be in place: reserved concurrency 0 on hasivu-dev-nope" in done.stderr
    assert "aws lambda delete-function-concurrency --function-name hasivu-dev-nope" in done.stderr
    assert len(Ledger(path).open_entries()) == 1  # still open: nothing claims it was removed


def test_a_final_sweep_that_fails_makes_the_game_day_fail(
    sandbox: Sandbox, target_file: Path, tmp_path: Path
) -> None:
    from lambda_gameday.chaos.context import identity_of
    from lambda_gameday.config import load_target

    # GIVEN a ledger holding an open fault of this target whose undo cannot succeed (its
    # function is gone), and one of another account's target
    here = identity_of(load_target(target_file))
    ledger = Ledger(tmp_path / ".gameday" / "ledger.jsonl")
    ledger.record(
        "concurrency", "hasivu-dev-nope", "reserved concurrency 0 on hasivu-dev-nope", here,
        [{"op": "restore_concurrency", "function": "hasivu-dev-nope", "reserved": None}],
    )  # fmt: skip
    other = {**here, "account_id": "999999999999"}
    ledger.record(
        "concurrency", FN, f"reserved concurrency 0 on {FN}", other,  # type: ignore[arg-type]
        [{"op": "restore_concurrency", "function": FN, "reserved": None}],
    )  # fmt: skip
    plan = tmp_path / "plan.yml"
    plan.write_text("name: sweep\nphases:\n  - phase: lint\n")
    # WHEN a game day runs (its final sweep undoes this target's open entries)
    done = gameday(
        sandbox, tmp_path / ".gameday" / "ledger.jsonl", "run", "--plan", str(plan),
        "--target", str(target_file), "--report-dir", str(tmp_path / "reports"),
        "--no-history", cwd=tmp_path,
    )  # fmt: skip
    out = done.stdout + done.stderr
    # THEN the verdict is FAIL, naming what is left and how to remove it
    assert done.returncode == 1, out[-3000:]
    assert "faults may still be in place" in out
    assert "aws lambda delete-function-concurrency --function-name hasivu-dev-nope" in out
    # and the other account's entry is listed in the report, not undone
    (report,) = (tmp_path / "reports").glob("*/report.md")
    text = report.read_text()
    assert "faults may still be in place" in text and "hasivu-dev-nope" in text
    assert f"left alone (another target's): reserved concurrency 0 on {FN}" in text
    assert "account 999999999999" in text
    assert len(Ledger(tmp_path / ".gameday" / "ledger.jsonl").open_entries()) == 2
