"""`gameday sandbox` options of the strict twin: --target-out, --account-id, --strict, and two
distinct twins in one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lambda_gameday.sandbox import Sandbox, SandboxConfig, SandboxError

BIN = Path(sys.executable).parent
GAMEDAY = str(BIN / "gameday")


def _start(*args: str, cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [GAMEDAY, "sandbox", "--init-ms", "50", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while not any("Ctrl-C" in line for line in lines):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError((lines, proc.poll(), proc.stderr.read() if proc.stderr else ""))
        lines.append(proc.stdout.readline())
    return proc, lines


def test_target_out_is_accepted_by_target_and_conformance(tmp_path: Path) -> None:
    out = tmp_path / "twin.toml"
    proc, lines = _start(
        "--strict", "--account-id", "210987654321", "--target-out", str(out), cwd=tmp_path
    )
    try:
        assert any(line.startswith(f"target file: {out}") for line in lines)
        api = next(line.split("=", 1)[1].strip() for line in lines if "GAMEDAY_API_URL=" in line)
        assert any("strict:" in line for line in lines)
        text = out.read_text()
        assert f'api_url = "{api}"' in text
        assert 'name = "hasivu-dev-health-liveness"' in text
        target = subprocess.run(
            [GAMEDAY, "target", str(out)], capture_output=True, text=True, timeout=60
        )
        assert target.returncode == 0, target.stderr
        conformance = subprocess.run(
            [GAMEDAY, "conformance", "--target", str(out), "--out", str(tmp_path / "conf")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert conformance.returncode == 0, conformance.stdout[-2000:] + conformance.stderr
        # the twin plays the account it was given
        assert "arn:aws:sns:ap-south-1:210987654321:" in conformance.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_default_target_out_path_is_under_dot_gameday(tmp_path: Path) -> None:
    proc, lines = _start(cwd=tmp_path)
    try:
        assert any(line.startswith("target file: .gameday/sandbox-target.toml") for line in lines)
        assert (tmp_path / ".gameday" / "sandbox-target.toml").is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.parametrize("args", [("--account-id", "12345"), ("--legacy", "no-such-relaxation")])
def test_bad_twin_options_are_one_line_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = subprocess.run(
        [GAMEDAY, "sandbox", *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_two_twins_with_distinct_accounts_run_side_by_side() -> None:
    import boto3

    def lam(sb: Sandbox) -> object:
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="ap-south-1"
        ).client("sts", endpoint_url=sb.endpoint_url)

    with Sandbox(SandboxConfig(init_duration_ms=20.0)) as first:
        with pytest.raises(SandboxError, match="already runs"):
            Sandbox(SandboxConfig(init_duration_ms=20.0)).start()
        with Sandbox(SandboxConfig(init_duration_ms=20.0, account_id="210987654321")) as second:
            assert lam(first).get_caller_identity()["Account"] == "123456789012"  # type: ignore[attr-defined]
            assert lam(second).get_caller_identity()["Account"] == "210987654321"  # type: ignore[attr-defined]
            assert httpx.get(second.api_url + "/health/live").status_code == 200
        # stopping the second left the first's state alone
        assert httpx.get(first.api_url + "/health/live").status_code == 200
        cw = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="ap-south-1"
        ).client("cloudwatch", endpoint_url=first.endpoint_url)
        assert cw.describe_alarms()["MetricAlarms"]
