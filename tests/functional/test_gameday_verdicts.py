"""Verdicts that need evidence, end to end as a user runs them (a subprocess per command):

* an unreachable target (refused, DNS) stops the game day within 10 s with exit 3, one
  line, and no SLO row that reads PASS;
* a sandbox started as its own `gameday sandbox` process and killed (SIGKILL) during a
  phase stops the run with exit 3 "target became unusable during PHASE": neither PASS nor
  FAIL, no SLO judged on connection errors, and faults that could not be removed listed
  once under "faults NOT removed" with the `gameday cleanup` command;
* an unreachable Slack webhook is a warning in the report and exit 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from inherited_signals import sigint_ignored_in_children

from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.synthetics.coldstart import COLDSTART_VARIABLE

GAMEDAY = [sys.executable, "-m", "lambda_gameday.cli"]
REGION = "ap-south-1"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port: int = server.getsockname()[1]
    return port


def target_toml(target: Target) -> str:
    """A target file for `target` (what `gameday sandbox --target-out` will write)."""
    lines = [
        f'name = "{target.name}"',
        f'kind = "{target.kind}"',
        f'environment = "{target.environment}"',
        f'region = "{target.region}"',
        f'api_url = "{target.api_url}"',
        f'application = "{target.application}"',
        f'alert_topic = "{target.alert_topic}"',
    ]
    if target.endpoint_url:
        lines.append(f'endpoint_url = "{target.endpoint_url}"')
    for fn in target.functions:
        lines += [
            "",
            "[[functions]]",
            f'name = "{fn.name}"',
            f'path = "{fn.path}"',
            f"critical = {'true' if fn.critical else 'false'}",
            f"provisioned_concurrency = {fn.provisioned_concurrency}",
            "alarms = [" + ", ".join(f'"{a}"' for a in fn.alarms) + "]",
        ]
        if fn.deployment_group:
            lines.append(f'deployment_group = "{fn.deployment_group}"')
    return "\n".join(lines) + "\n"


def run_gameday(
    *args: str, cwd: Path, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [*GAMEDAY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    return proc, time.monotonic() - t0


def report_of(reports: Path) -> dict[str, object]:
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    doc: dict[str, object] = json.loads((run_dir / "report.json").read_text())
    return doc


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# --- a target that is not there ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["refused", "dns"])
def test_an_unreachable_target_exits_3_within_10_s_and_no_slo_reads_pass(
    tmp_path: Path, host: str
) -> None:
    if host == "refused":  # a sandbox target whose twin is not running
        api, aws = f"http://127.0.0.1:{closed_port()}/dev", f"http://127.0.0.1:{closed_port()}"
        spec = sandbox_target(api, aws, region=REGION)
    else:  # an AWS target whose API host never resolves (.invalid, RFC 6761)
        spec = replace(
            sandbox_target("https://gameday-no-such-host.invalid/dev", "", region=REGION),
            kind="aws",
            endpoint_url=None,
        )
    target = tmp_path / "target.toml"
    target.write_text(target_toml(spec))
    reports = tmp_path / "reports"

    proc, _ = run_gameday(
        "run", "--target", str(target), "--report-dir", str(reports), "--no-history", cwd=tmp_path
    )

    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr
    line = one_error_line(proc.stderr)
    assert "TARGET UNUSABLE" in line and "target unusable" in line
    assert ("refused the connection" if host == "refused" else "does not resolve") in line
    doc = report_of(reports)
    # within 10 s by the run's own clock (which starts before the target's lock is taken),
    # not the test's wall clock, which also counts interpreter start-up on a loaded machine
    started, finished = doc["started_at"], doc["finished_at"]
    assert isinstance(started, float) and isinstance(finished, float)
    assert 0 <= finished - started < 10, (started, finished)
    assert doc["verdict"] == "unusable"
    phases = doc["phases"]
    assert isinstance(phases, list)
    assert [p["status"] for p in phases] == ["unusable"]
    assert not [s for p in phases for s in p["slos"] if s["passed"]]
    assert "PASS" not in proc.stdout


# --- a target that dies mid-run ----------------------------------------------------------------


class CliSandbox:
    """`gameday sandbox` as its own process, and the target file that points at it."""

    def __init__(self, workdir: Path) -> None:
        self.api_port, self.aws_port = closed_port(), closed_port()
        self.proc = subprocess.Popen(
            [
                *GAMEDAY,
                "sandbox",
                "--api-port",
                str(self.api_port),
                "--aws-port",
                str(self.aws_port),
            ],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any("Ctrl-C" in line for line in seen):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise AssertionError(("sandbox did not start", seen, self.proc.poll()))
            seen.append(self.proc.stdout.readline())
        self.endpoint_url = f"http://127.0.0.1:{self.aws_port}"
        self.target = sandbox_target(
            f"http://127.0.0.1:{self.api_port}/dev", self.endpoint_url, region=REGION
        )
        self.target_file = workdir / "sandbox-target.toml"
        self.target_file.write_text(target_toml(self.target))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def lambda_client(self) -> object:
        return boto3.client(
            "lambda",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture
def cli_sandbox(tmp_path: Path) -> Iterator[CliSandbox]:
    sb = CliSandbox(tmp_path)
    try:
        yield sb
    finally:
        if sb.proc.poll() is None:
            sb.kill()


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the game day ended before {what}: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.05)


def _nonempty(pattern: str, root: Path) -> Callable[[], bool]:
    return lambda: any(p.stat().st_size > 0 for p in root.glob(pattern)) if root.exists() else False


def _load_requests(reports: Path) -> Callable[[], bool]:
    """Locust's periodic results file counts requests: the load is under way."""

    def counted() -> bool:
        for path in reports.glob("*/load-results.json") if reports.exists() else []:
            try:
                doc = json.loads(path.read_text())
                if sum(int(s["count"]) for s in doc["series"]) > 0:
                    return True
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return False

    return counted


def _function_touched(sb: CliSandbox) -> Callable[[], bool]:
    """The cold-start phase sets its variable on a function's $LATEST to force a new
    execution environment: seeing it on the twin is seeing the phase at work."""
    lam = sb.lambda_client()
    names = [fn.name for fn in sb.target.functions]

    def touched() -> bool:
        for name in names:
            cfg = lam.get_function_configuration(FunctionName=name)  # type: ignore[attr-defined]
            if COLDSTART_VARIABLE in cfg.get("Environment", {}).get("Variables", {}):
                return True
        return False

    return touched


PLANS = {
    "synthetics": "  - phase: synthetics\n    probes: 100000\n    max_seconds: 60\n",
    "coldstart": "  - phase: coldstart\n    rounds: 20\n",
    "load": "  - phase: load\n    duration_s: 60\n    users: 4\n",
    "chaos": "  - phase: chaos\n    experiments: [faulty-canary]\n",
}


@pytest.mark.parametrize("phase", list(PLANS))
def test_a_sandbox_killed_during_a_phase_makes_the_target_unusable(
    tmp_path: Path, cli_sandbox: CliSandbox, phase: str
) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text(f"name: dies-during-{phase}\nphases:\n{PLANS[phase]}")
    reports = tmp_path / "reports"
    started = {
        "synthetics": _nonempty("*/synthetics.jsonl", reports),
        "coldstart": _function_touched(cli_sandbox),
        "load": _load_requests(reports),
        "chaos": _nonempty(".gameday/ledger.jsonl", tmp_path),
    }[phase]
    proc = subprocess.Popen(
        [
            *GAMEDAY,
            "run",
            "--plan",
            str(plan),
            "--target",
            str(cli_sandbox.target_file),
            "--report-dir",
            str(reports),
            "--no-history",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        # WHEN the sandbox process dies once the phase is under way
        wait_for(started, proc, f"the {phase} phase started")
        cli_sandbox.kill()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    # THEN the run stops with exit 3, one line naming the phase, no PASS/FAIL verdict
    assert proc.returncode == 3, out[-3000:] + err
    line = one_error_line(err)
    assert f"target became unusable during {phase}" in line, line
    doc = report_of(reports)
    assert doc["verdict"] == "unusable"
    phases = doc["phases"]
    assert isinstance(phases, list)
    (only,) = phases
    assert only["status"] == "unusable"
    # AND nothing measured on the dying target was judged (no users' failures, no missed
    # alarm, no MTTR)
    assert only["slos"] == [] and only["timelines"] == []
    if phase == "chaos":
        # AND the canary the harness could not remove is listed once, with the command
        not_removed = doc["faults_not_removed"]
        assert isinstance(not_removed, list) and len(not_removed) >= 1
        assert len(set(not_removed)) == len(not_removed)
        assert "gameday cleanup" in str(doc["cleanup_command"])
        md = next(reports.glob("*/report.md")).read_text()
        assert md.count("## Faults NOT removed") == 1
        assert out.count("faults NOT removed") == 1
        for fault in not_removed:
            assert md.count(str(fault)) == 1
        assert "gameday cleanup --target" in out


# --- side channels ---------------------------------------------------------------------------


def test_an_unreachable_slack_webhook_is_a_warning_and_exit_0(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yml"
    # 600 probes of one endpoint: enough to assert 99.5 % availability (598 needed)
    plan.write_text(
        "name: probes\nphases:\n  - phase: synthetics\n    probes: 600\n"
        "    endpoints: [/health/live]\n"
    )
    reports = tmp_path / "reports"
    webhook = f"http://127.0.0.1:{closed_port()}/services/T000/B000/secret"
    proc, _ = run_gameday(
        "run",
        "--plan",
        str(plan),
        "--report-dir",
        str(reports),
        "--no-history",
        "--slack-webhook",
        webhook,
        cwd=tmp_path,
    )
    doc = report_of(reports)
    # the run's own verdict decides the exit code, the notification never does (0 on a pass;
    # a CPU-starved machine can breach the 100 ms p95 budget: a fail, 1)
    verdict_code = {"pass": 0, "fail": 1, "inconclusive": 6}
    assert proc.returncode == verdict_code[str(doc["verdict"])], proc.stdout[-3000:] + proc.stderr
    assert "warning: notification not sent" in proc.stdout
    assert "secret" not in proc.stdout + proc.stderr  # the webhook is a secret
    warnings = doc["warnings"]
    assert isinstance(warnings, list) and len(warnings) == 1
    assert "Slack webhook at 127.0.0.1" in warnings[0]
    md = next(reports.glob("*/report.md")).read_text()
    assert "## Warnings" in md and "notification not sent" in md


# --- one lint ---------------------------------------------------------------------------------


def test_gameday_lint_and_the_lint_phase_agree_and_name_their_experiments(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text(
        "name: lint-only\nphases:\n  - phase: lint\n    fail_on: never\n"
        "    experiments: [faulty-canary, throttling]\n"
    )
    reports = tmp_path / "reports"
    phase, _ = run_gameday(
        "run", "--plan", str(plan), "--report-dir", str(reports), "--no-history", cwd=tmp_path
    )
    assert phase.returncode == 0, phase.stdout[-2000:] + phase.stderr
    (lint,) = report_of(reports)["phases"]  # type: ignore[misc]
    cli, _ = run_gameday(
        "lint", "--experiment", "faulty-canary", "--experiment", "throttling", cwd=tmp_path
    )
    # THEN the same findings, and both say what they covered
    lines = cli.stdout.strip().splitlines()
    summary = lines[-1]
    assert "of 2 experiment(s) (faulty-canary, throttling)" in summary
    assert lint["message"] == summary
    from_phase = sorted(f"{f['resource']}: {f['message']}" for f in lint["findings"])
    from_cli = sorted(line.split(" ", 2)[2].split(" Fix: ")[0] for line in lines[:-1])
    assert from_cli == from_phase and from_phase
    # AND without --experiment the command covers every experiment, and says so
    every, _ = run_gameday("lint", cwd=tmp_path)
    count = len(list((Path(__file__).resolve().parents[2] / "experiments").glob("*.json")))
    assert f"of {count} experiment(s)" in every.stdout.strip().splitlines()[-1]


# --- housekeeping ----------------------------------------------------------------------------


def test_a_full_game_day_leaves_nothing_outside_dot_gameday(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", str(root), str(clone)], check=True, capture_output=True
    )
    # WHEN the README's first command runs in a clean clone (the default plan, every phase)
    proc, _ = run_gameday("run", cwd=clone, timeout=600)
    # it ran to a verdict on the platform (pass 0, fail 1, inconclusive 6: every phase ran and
    # judged, no fault left), not to an error, an interruption or an unusable target. Which
    # verdict is not this test's subject: a CPU-starved machine breaches the latency budgets
    # (cold start 500 ms, p95 100 ms) and can even time a twin function out (an HTTP 503)
    assert proc.returncode in (0, 1, 6), proc.stdout[-3000:] + proc.stderr
    (doc_path,) = (clone / ".gameday" / "reports").glob("*/report.json")
    doc = json.loads(doc_path.read_text())
    assert doc["verdict"] == {0: "pass", 1: "fail", 6: "inconclusive"}[proc.returncode]
    assert doc["faults_not_removed"] == []
    statuses = [p["status"] for p in doc["phases"]]
    assert len(statuses) == 6 and set(statuses) <= {"passed", "failed", "inconclusive"}, statuses
    # THEN everything it wrote is under .gameday/ (reports, history, ledger, journals,
    # chaostoolkit.log), which git ignores
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    outside = [line for line in status if not line[3:].startswith(".gameday/")]
    assert outside == [], outside
    written = {p.name for p in (clone / ".gameday").rglob("*") if p.is_file()}
    assert {"report.json", "chaostoolkit.log", "history.sqlite3"} <= written


def test_gameday_chaos_on_a_target_killed_mid_experiment_exits_3_and_names_the_faults(
    tmp_path: Path, cli_sandbox: CliSandbox
) -> None:
    ledger = tmp_path / ".gameday" / "ledger.jsonl"
    proc = subprocess.Popen(
        [
            *GAMEDAY,
            "chaos",
            "faulty-canary",
            "--target",
            str(cli_sandbox.target_file),
            "--ledger",
            str(ledger),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(_nonempty(".gameday/ledger.jsonl", tmp_path), proc, "the fault was injected")
        cli_sandbox.kill()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert proc.returncode == 3, out[-3000:] + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("gameday: target became unusable during faulty-canary:"), err
    assert "faults NOT removed:" in last and "gameday cleanup --ledger" in last
    assert last.count("faults NOT removed") == 1
    assert "broken:" not in out  # no verdict on the platform from connection errors


# --- signals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_synthetic_monitor_with_130_after_its_report(
    tmp_path: Path, sig: signal.Signals
) -> None:
    out_file = tmp_path / "synth.jsonl"
    # SIGINT arrives at a monitor that inherited it as ignored (started with `&` by a script):
    # an interrupt sent to the process is still honoured, whatever launched the suite
    with sigint_ignored_in_children():
        proc = subprocess.Popen(
            [
                *GAMEDAY,
                "synth",
                "--watch",
                "--interval",
                "0.2",
                "--duration",
                "0",
                "--out",
                str(out_file),
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        # WHEN the unbounded monitor has written results (it is ticking), it is signalled
        wait_for(_nonempty("synth.jsonl", tmp_path), proc, "the monitor ticked")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # THEN it prints what it saw and exits 130, never a verdict on the platform
    assert proc.returncode == 130, out[-2000:] + err
    assert "Availability" in out
    assert err.strip().splitlines()[-1] == "gameday: interrupted"


def test_sigterm_during_the_chaos_phase_is_an_interruption_with_faults_removed(
    tmp_path: Path,
) -> None:
    from lambda_gameday.chaos.ledger import Ledger

    plan = tmp_path / "plan.yml"
    plan.write_text(
        "name: chaos-only\nphases:\n  - phase: chaos\n    experiments: [faulty-canary]\n"
    )
    reports = tmp_path / "reports"
    ledger = tmp_path / ".gameday" / "ledger.jsonl"
    proc = subprocess.Popen(
        [*GAMEDAY, "run", "--plan", str(plan), "--report-dir", str(reports), "--no-history"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        # WHEN a cancelled CI job sends SIGTERM while the canary's fault is in place
        wait_for(
            lambda: ledger.exists() and any(e.injected_at for e in Ledger(ledger).entries()),
            proc,
            "the fault was injected",
        )
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # THEN exit 130, the report says interrupted (not a failed experiment), no fault is open
    assert proc.returncode == 130, out[-3000:] + err
    assert err.strip().splitlines()[-1] == "gameday: interrupted"
    doc = report_of(reports)
    assert doc["verdict"] == "interrupted"
    phases = doc["phases"]
    assert isinstance(phases, list) and phases[0]["status"] == "interrupted"
    assert Ledger(ledger).open_entries() == []
