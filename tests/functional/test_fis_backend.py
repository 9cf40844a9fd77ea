"""The FIS backend on the sandbox: the seed's experiments run with `backend = fis`, the
preflight names each missing item with its fix, cleanup leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import wait_until

from lambda_gameday.chaos.fis.setup import apply_changes, plan_changes
from lambda_gameday.chaos.runner import run_experiment
from lambda_gameday.config import Target, load_target, sandbox_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).parents[2]
FN = "hasivu-dev-health-liveness"
ALARM = f"{FN}-error-rate"
LOCATION = "arn:aws:s3:::gameday-fis-ft/FisConfigs/"
BUCKET, PREFIX = "gameday-fis-ft", "FisConfigs/"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(init_duration_ms=50.0, seed=11)) as sb:
        yield sb


def fis_target_file(sandbox: Sandbox, path: Path, backend: str | None = None) -> Path:
    """A target file as a team writes it for FIS: the seed's functions plus a [fis] table."""
    lines = [
        'name = "sandbox-fis"',
        'kind = "sandbox"',
        'environment = "dev"',
        f'region = "{sandbox.config.region}"',
        f'endpoint_url = "{sandbox.endpoint_url}"',
        f'api_url = "{sandbox.api_url}"',
        'application = "hasivu-dev"',
    ]
    if backend:
        lines.append(f'chaos_backend = "{backend}"')
    base = sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)
    for fn in base.functions:
        lines += [
            "[[functions]]",
            f'name = "{fn.name}"',
            f'path = "{fn.path}"',
            f"alarms = {json.dumps(list(fn.alarms))}",
            f'deployment_group = "{fn.deployment_group}"',
        ]
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/gameday-fis-experiments"
    lines += ["[fis]", f'role_arn = "{role}"', f'configuration_location = "{LOCATION}"']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def target_path(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fis_target_file(sandbox, tmp_path_factory.mktemp("fis") / "target.toml")


@pytest.fixture(scope="module")
def target(target_path: Path) -> Target:
    return load_target(target_path)


def test_preflight_names_each_missing_item_and_plan_applies_on_the_sandbox(
    sandbox: Sandbox, target: Target, tmp_path: Path
) -> None:
    from lambda_gameday.aws import Clients
    from lambda_gameday.chaos.fis.actions import FisNotReady, inject_fis_fault
    from lambda_gameday.chaos.runner import target_configuration

    clients = Clients(target)
    kinds = [c.kind for c in plan_changes(clients, target, FN)]
    assert kinds == ["layer", "env", "env", "bucket", "role-policy", "experiment-role"]
    # a fault on a function without the layer fails preflight, one line per item with its fix
    conf = {**target_configuration(target), "gameday_ledger": str(tmp_path / "l.jsonl")}
    with pytest.raises(FisNotReady) as info:
        inject_fis_fault(FN, configuration=conf)
    lines = info.value.one_line().splitlines()
    assert len(lines) == 1 + 6 and all("fix:" in line for line in lines[1:])
    assert "aws-fis-extension-x86_64" in lines[1]  # the layer from the public SSM parameter
    assert not (tmp_path / "l.jsonl").exists()  # nothing was recorded: nothing was injected
    done = apply_changes(clients, target, FN, plan_changes(clients, target, FN))
    assert len(done) == 4  # layer and environment are one configuration update
    assert plan_changes(clients, target, FN) == []


def test_error_drill_with_fis_runs_first(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    # the manual rollback drill promotes a failing version to 100 % (an error drill): it
    # runs before any other canary, since the seed's procedure takes Versions[-2]
    result = run_experiment(
        ROOT / "experiments" / "manual-rollback-drill.json",
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        extra_configuration={"gameday_backend_override": "fis"},
    )
    assert result.ok, result.failure()
    assert result.cleanup_problems == ()
    outs = [r["output"] for r in result.journal["run"] if isinstance(r.get("output"), dict)]
    assert any(o.get("backend") == "fis" for o in outs)
    assert sandbox_client("fis").list_experiment_templates()["experimentTemplates"] == []


def _quiet(client: Callable[[str], Any]) -> None:
    """Wait until the error alarm is OK and no error is left in its window, so no late
    evaluation of an earlier run can fire it (FIS refuses to start on a stop condition in
    ALARM, as AWS does)."""
    from datetime import UTC, datetime, timedelta

    cw = client("cloudwatch")

    def quiet() -> bool:
        state = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"]
        now = datetime.now(UTC)
        points = cw.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[
                {"Name": "FunctionName", "Value": FN},
                {"Name": "Resource", "Value": f"{FN}:production"},
            ],
            StartTime=now - timedelta(seconds=8),
            EndTime=now + timedelta(seconds=1),
            Period=1,
            Statistics=["Sum"],
        )["Datapoints"]
        return state == "OK" and sum(p["Sum"] for p in points) == 0

    wait_until(quiet, timeout=60, interval=0.2)


def _truth(sandbox: Sandbox, kind: str, subject: str, exp_id: str, **detail: object) -> float:
    for e in sandbox.truth.events(kind, subject):  # type: ignore[arg-type]
        if (kind == "experiment" or e.detail.get("experiment") == exp_id) and all(
            e.detail.get(k) == v for k, v in detail.items()
        ):
            return e.at
    raise AssertionError(f"no {kind} {subject} {detail} for {exp_id} in ground truth")


def _conf(target: Target) -> dict[str, object]:
    return {"gameday_backend_override": "fis"}


def test_faulty_canary_with_fis_passes_and_leaves_nothing(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    fis, s3 = sandbox_client("fis"), sandbox_client("s3")
    result = run_experiment(
        ROOT / "experiments" / "faulty-canary.json",
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        journal_path=tmp_path / "journal.json",
        extra_configuration=_conf(target),
    )
    assert result.ok, result.failure()
    assert result.cleanup_problems == ()
    runs = result.journal["run"]
    out = next(r["output"] for r in runs if r["activity"]["name"] == "deploy-faulty-canary")
    assert out["backend"] == "fis"
    exp_id = out["fis_experiment_id"]
    # the stock aws CLI shows the experiment completed or stopped
    env = {**os.environ, **sandbox.env()}
    aws = str(Path(sys.executable).parent / "aws")
    got = json.loads(
        subprocess.run(
            [aws, "fis", "get-experiment", "--id", exp_id, "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert got["experiment"]["state"]["status"] in ("completed", "stopped")
    listed = json.loads(
        subprocess.run(
            [aws, "fis", "list-experiments", "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert {e["id"]: e["state"]["status"] for e in listed["experiments"]}[exp_id] in (
        "completed",
        "stopped",
    )
    # the configuration prefix is empty and the template is gone
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0
    assert fis.list_experiment_templates()["experimentTemplates"] == []
    # the stop condition fired: the error alarm stopped the experiment, with its reason
    state = fis.get_experiment(id=exp_id)["experiment"]["state"]
    assert state["status"] == "stopped" and f"alarm:{ALARM}" in state["reason"], state
    # the timeline: requested, active (ramp-up) and the rest, within 1 s of ground truth
    tl = result.timeline
    assert tl is not None and tl.broken_phase is None
    m = tl.milestones
    written = _truth(sandbox, "fault", FN, exp_id, event="fis-config-written")
    applied = _truth(sandbox, "fault", FN, exp_id, event="fis-applied")
    removed = _truth(sandbox, "fault", FN, exp_id, event="fis-config-removed")
    stopped = _truth(sandbox, "experiment", exp_id, exp_id, status="stopped")
    alarm = next(e.at for e in sandbox.truth.events("alarm", ALARM) if e.at >= written)
    assert m.fault_requested == pytest.approx(written, abs=1.0)
    assert tl.fault_active == pytest.approx(applied, abs=1.0)
    assert tl.ramp_up is not None and tl.ramp_up >= 0
    assert m.alarm_fired == pytest.approx(alarm, abs=1.0)
    assert m.fault_removal_requested == pytest.approx(stopped, abs=1.0)
    assert removed >= stopped - 0.05
    assert tl.fault_inactive is not None and tl.ramp_down is not None
    assert m.fault_requested <= m.fault_injected <= tl.fault_active + 1.0
    text = "\n".join(tl.render())
    assert "fault requested" in text and "ramp-up" in text


@pytest.mark.parametrize("backend", ["fis", "extension", "failure-lambda"])
def test_timeout_regression_runs_on_every_backend_with_the_same_milestones(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path,
    backend: str,
) -> None:  # fmt: skip
    _quiet(sandbox_client)
    result = run_experiment(
        ROOT / "experiments" / "timeout-regression.json",
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        extra_configuration={"gameday_backend_override": backend},
    )
    assert result.ok, result.failure()
    assert result.cleanup_problems == ()
    outs = [r["output"] for r in result.journal["run"] if isinstance(r.get("output"), dict)]
    assert any(o.get("backend") == backend for o in outs)
    tl = result.timeline
    assert tl is not None and tl.milestones.fault_requested is not None
    assert tl.fault_active is not None and tl.ramp_up is not None
    assert tl.milestones.alarm_fired is not None and tl.milestones.alias_restored is not None
    fis, s3 = sandbox_client("fis"), sandbox_client("s3")
    assert fis.list_experiment_templates()["experimentTemplates"] == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0


def test_latency_canary_with_fis_finds_what_the_other_backends_find(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    # the seed's duration alarm (Average > 10 s over the alias) cannot see a 2 s canary:
    # test_experiments_sandbox shows it with failure-lambda; FIS must find the same
    exp = json.loads((ROOT / "experiments" / "latency-canary.json").read_text())
    for act in exp["method"]:
        if act["provider"].get("func") == "wait_for_alarm_state":
            act["provider"]["arguments"]["timeout_s"] = 10
    path = tmp_path / "latency-canary.json"
    path.write_text(json.dumps(exp))
    result = run_experiment(
        path,
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        extra_configuration={"gameday_backend_override": "fis"},
    )
    assert not result.ok
    assert result.timeline is not None and result.timeline.broken_phase == "detect"
    m = result.timeline.milestones
    assert m.fault_injected is not None
    slow = [r for r in result.probes if r.sent_at >= m.fault_injected and not r.ok]
    assert slow and all(r.done_at - r.sent_at >= 1.5 for r in slow)
    fis, s3 = sandbox_client("fis"), sandbox_client("s3")
    assert fis.list_experiment_templates()["experimentTemplates"] == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0


def _env(sandbox: Sandbox, ledger: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GAMEDAY_", "AWS_"))}
    out.update(sandbox.env())
    out.update(GAMEDAY_LEDGER=str(ledger), PYTHONUNBUFFERED="1")
    return out


def _state(client: Callable[[str], Any]) -> dict[str, Any]:
    """What a FIS fault could leave behind: configuration, aliases, templates, objects."""
    lam, fis, s3 = client("lambda"), client("fis"), client("s3")
    cfg = lam.get_function_configuration(FunctionName=FN)
    alias = lam.get_alias(FunctionName=FN, Name="production")
    return {
        "env": cfg.get("Environment", {}).get("Variables", {}),
        "layers": [x["Arn"] for x in cfg.get("Layers", [])],
        "timeout": cfg["Timeout"],
        "alias": (
            alias["FunctionVersion"],
            alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}),
        ),
        "templates": fis.list_experiment_templates()["experimentTemplates"],
        "objects": s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0),
    }


def test_sigkill_mid_experiment_then_cleanup_leaves_nothing(
    sandbox: Sandbox, target_path: Path, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    from lambda_gameday.chaos.ledger import Ledger

    baseline = _state(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_gameday.cli", "chaos",
         str(ROOT / "experiments" / "faulty-canary.json"), "--target", str(target_path),
         "--ledger", str(ledger), "--backend", "fis"],
        env=_env(sandbox, ledger), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    fis = sandbox_client("fis")

    def running() -> bool:
        assert proc.poll() is None, proc.communicate()[0]
        exps = fis.list_experiments()["experiments"]
        return any(e["state"]["status"] == "running" for e in exps) and any(
            e.injected_at for e in Ledger(ledger).entries()
        )

    deadline = time.monotonic() + 60
    while not running():
        assert time.monotonic() < deadline, "the experiment never ran"
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=10)
    running_ids = [
        e["id"] for e in fis.list_experiments()["experiments"] if e["state"]["status"] == "running"
    ]
    assert running_ids and _state(sandbox_client) != baseline  # the kill left it running
    # the deployment is in the ledger before the canary is marked injected: a kill at any
    # point after that mark leaves cleanup the deployment to stop before the alias goes back
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    canary = next(r["id"] for r in records if r["op"] == "fault" and r["kind"] == "canary")
    first_injected = next(
        i for i, r in enumerate(records) if r["op"] == "injected" and r["id"] == canary
    )
    kinds_before = [r.get("kind") for r in records[:first_injected] if r["op"] == "fault"]
    assert "deployment" in kinds_before, records
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "cleanup", "--ledger", str(ledger)],
        env=_env(sandbox, ledger), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for exp_id in running_ids:
        assert fis.get_experiment(id=exp_id)["experiment"]["state"]["status"] == "stopped"
    # no deployment of the canary (nor a rollback of it) is left to shift the alias later
    shifted = [e for e in sandbox.truth.events("deployment") if e.at >= started]
    assert shifted, "the canary went out through CodeDeploy"
    cd = sandbox_client("codedeploy")
    for dep_id in {e.subject for e in shifted}:
        status = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]["status"]
        assert status in ("Succeeded", "Failed", "Stopped"), (dep_id, status)
    assert _state(sandbox_client) == baseline
    assert Ledger(ledger).open_entries() == []


def test_stock_chaos_run_with_the_fis_backend(
    sandbox: Sandbox, target_path: Path, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    exp = json.loads((ROOT / "experiments" / "faulty-canary.json").read_text())
    exp["configuration"]["gameday_backend"] = "fis"  # the experiment's own setting
    exp["configuration"]["gameday_target"] = str(target_path)
    path = tmp_path / "faulty-canary-fis.json"
    path.write_text(json.dumps(exp))
    ledger = tmp_path / "ledger.jsonl"
    chaos = str(Path(sys.executable).parent / "chaos")
    done = subprocess.run(
        [chaos, "--log-file", str(tmp_path / "chaos.log"), "run", str(path),
         "--journal-path", str(tmp_path / "journal.json"), "--rollback-strategy", "always"],
        env=_env(sandbox, ledger), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["status"] == "completed", done.stdout + done.stderr
    assert not journal["deviated"]
    out = next(
        r["output"] for r in journal["run"] if r["activity"]["name"] == "deploy-faulty-canary"
    )
    assert out["backend"] == "fis"
    assert sandbox_client("fis").list_experiment_templates()["experimentTemplates"] == []


STARTUP = "hasivu-dev-health-startup"


def test_a_fault_that_never_reaches_traffic_fails_as_such(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    """GIVEN the startup function's production version carries the FIS extension with a
    slow poll far past the ramp-up bound, and is already warm; WHEN an error drill runs;
    THEN the run fails as "fault never reached traffic", not as a detection failure."""
    from lambda_gameday.aws import Clients

    lam = sandbox_client("lambda")
    path = fis_target_file(sandbox, tmp_path / "target.toml")
    path.write_text(path.read_text() + "ramp_up_bound_s = 3\n")
    target = load_target(path)
    clients = Clients(target)
    apply_changes(clients, target, STARTUP, plan_changes(clients, target, STARTUP))
    cfg = lam.get_function_configuration(FunctionName=STARTUP)
    env = cfg["Environment"]["Variables"] | {"AWS_FIS_SLOW_POLL_INTERVAL_SECONDS": "3600"}
    lam.update_function_configuration(FunctionName=STARTUP, Environment={"Variables": env})
    version = lam.publish_version(FunctionName=STARTUP)["Version"]
    stable = lam.get_alias(FunctionName=STARTUP, Name="production")["FunctionVersion"]
    lam.update_alias(FunctionName=STARTUP, Name="production", FunctionVersion=version)
    traffic = {
        "name": "gameday-traffic",
        "provider": {
            "type": "python",
            "module": "lambda_gameday.chaos.controls.traffic",
            "arguments": {"paths": ["/health/startup"], "interval_s": 0.1, "max_duration_s": 60},
        },
    }
    experiment = {
        "version": "1.0.0",
        "title": "An error drill on the startup function through FIS",
        "description": "FIS invocation errors on the production alias; the alarm must fire.",
        "tags": ["fis"],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "extensions": [
            {"name": "gameday", "destructive": True,
             "timeline": {"expect_alarm": True, "expect_rollback": False, "sustain": 5}}
        ],
        "controls": [traffic],
        "steady-state-hypothesis": {
            "title": "startup answers",
            "probes": [
                {"type": "probe", "name": "startup-answers", "tolerance": True,
                 "provider": {"type": "python", "module": "lambda_gameday.chaos.http.probes",
                              "func": "endpoint_healthy",
                              "arguments": {"path": "/health/startup", "requests": 5}}}
            ],
        },
        "method": [
            {"type": "action", "name": "fis-error-drill",
             "provider": {"type": "python", "module": "lambda_gameday.chaos.fis.actions",
                          "func": "inject_fis_fault",
                          "arguments": {"function_name": STARTUP, "alias": "production",
                                        "fault": "error", "duration_s": 60}}},
            {"type": "probe", "name": "error-alarm-fires",
             "provider": {"type": "python", "module": "lambda_gameday.chaos.cloudwatch.probes",
                          "func": "wait_for_alarm_state",
                          "arguments": {"alarm_name": f"{STARTUP}-error-rate", "state": "ALARM",
                                        "timeout_s": 6}}},
        ],
        "rollbacks": [
            {"type": "action", "name": "stop-fis",
             "provider": {"type": "python", "module": "lambda_gameday.chaos.fis.actions",
                          "func": "stop_fis_experiments", "arguments": {}}}
        ],
    }  # fmt: skip
    exp_path = tmp_path / "fis-error-drill.json"
    exp_path.write_text(json.dumps(experiment))
    try:
        result = run_experiment(exp_path, target, ledger_path=tmp_path / "ledger.jsonl")
    finally:
        lam.update_alias(FunctionName=STARTUP, Name="production", FunctionVersion=stable)
    assert not result.ok
    tl = result.timeline
    assert tl is not None and tl.broken_phase == "reach", tl.problems
    assert "fault never reached traffic" in result.failure()
    assert "detect" not in [p for p, _ in tl.problems]
    assert tl.milestones.fault_requested is not None and tl.fault_active is None
    # ground truth: FIS wrote the configuration, the extension never applied it
    events = [e.detail.get("event") for e in sandbox.truth.events("fault", STARTUP)]
    assert "fis-config-written" in events and "fis-applied" not in events
    assert result.cleanup_problems == ()
    assert sandbox_client("fis").list_experiment_templates()["experimentTemplates"] == []


def test_sigterm_mid_experiment_stops_it_and_removes_everything(
    sandbox: Sandbox, target_path: Path, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    import signal

    from lambda_gameday.chaos.ledger import Ledger

    baseline = _state(sandbox_client)
    ledger = tmp_path / "ledger.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_gameday.cli", "chaos",
         str(ROOT / "experiments" / "faulty-canary.json"), "--target", str(target_path),
         "--ledger", str(ledger), "--backend", "fis"],
        env=_env(sandbox, ledger), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    fis = sandbox_client("fis")
    deadline = time.monotonic() + 60
    while not any(e["state"]["status"] == "running" for e in fis.list_experiments()["experiments"]):
        assert proc.poll() is None and time.monotonic() < deadline, "the experiment never ran"
        time.sleep(0.05)
    running = [
        e["id"] for e in fis.list_experiments()["experiments"] if e["state"]["status"] == "running"
    ]
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    for exp_id in running:
        assert fis.get_experiment(id=exp_id)["experiment"]["state"]["status"] == "stopped"
    assert _state(sandbox_client) == baseline
    assert Ledger(ledger).open_entries() == []


def test_gameday_fis_plan_lists_changes_and_changes_nothing(
    sandbox: Sandbox, target_path: Path, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    lam = sandbox_client("lambda")
    fn = "hasivu-dev-health-comprehensive"
    before = lam.get_function_configuration(FunctionName=fn)
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "fis", "plan", "--target", str(target_path),
         "--function", "health-comprehensive"],
        env=_env(sandbox, tmp_path / "l.jsonl"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "layer:aws-fis-extension-x86_64" in done.stdout
    assert "AWS_LAMBDA_EXEC_WRAPPER=/opt/aws-fis/bootstrap" in done.stdout
    assert '"actionId": "aws:lambda:invocation-error"' in done.stdout
    assert "nothing was changed" in done.stdout
    after = lam.get_function_configuration(FunctionName=fn)
    assert after.get("Layers") == before.get("Layers")
    assert after.get("Environment") == before.get("Environment")
    # --apply is refused on an AWS target (exit 5), before anything is read or changed
    aws = tmp_path / "aws.toml"
    aws.write_text(
        target_path.read_text().replace('kind = "sandbox"', 'kind = "aws"\nallow_loopback = true')
    )
    refused = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "fis", "plan", "--target", str(aws),
         "--apply"],
        env=_env(sandbox, tmp_path / "l.jsonl"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 5 and "--apply works on a sandbox only" in refused.stderr


def test_dry_run_uses_skip_all_and_injects_nothing(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    from lambda_gameday.chaos.fis.actions import inject_fis_fault, stop_fis_experiments
    from lambda_gameday.chaos.runner import target_configuration

    conf = {
        **target_configuration(target),
        "gameday_ledger": str(tmp_path / "l.jsonl"),
        "gameday_run_id": "dry",
    }
    lam = sandbox_client("lambda")
    version = lam.publish_version(FunctionName=FN)["Version"]  # $LATEST carries the extension
    lam.create_alias(FunctionName=FN, Name="fis-dry", FunctionVersion=version)
    out = inject_fis_fault(FN, alias="fis-dry", fault="error", dry_run=True, configuration=conf)
    fis = sandbox_client("fis")
    exp = fis.get_experiment(id=out["fis_experiment_id"])["experiment"]
    assert exp["experimentOptions"]["actionsMode"] == "skip-all"
    assert exp["state"]["status"] == "completed"
    assert exp["actions"]["fault"]["state"]["status"] == "skipped"
    events = [
        e for e in sandbox.truth.events("fault", FN) if e.detail.get("experiment") == exp["id"]
    ]
    assert events == []
    stop_fis_experiments(configuration=conf)
    assert fis.list_experiment_templates()["experimentTemplates"] == []


def test_a_game_day_plan_runs_its_chaos_phase_through_fis(
    sandbox: Sandbox, target_path: Path, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    _quiet(sandbox_client)
    plan = tmp_path / "fis.yml"
    plan.write_text(
        "name: fis-drill\nphases:\n  - phase: chaos\n    experiments: [faulty-canary]\n"
        "    backend: fis\n"
    )
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "run", "--plan", str(plan),
         "--target", str(target_path), "--report-dir", str(reports), "--no-history"],
        env=_env(sandbox, tmp_path / "ledger.jsonl"), cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    journal = json.loads((run_dir / "journals" / "faulty-canary.json").read_text())
    out = next(
        r["output"] for r in journal["run"] if r["activity"]["name"] == "deploy-faulty-canary"
    )
    assert out["backend"] == "fis"
    assert journal["gameday"]["timeline"]["ramp_up_s"] is not None
    assert sandbox_client("fis").list_experiment_templates()["experimentTemplates"] == []
