"""`gameday sandbox` as users run it, and bad input: a port already in use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambda_gameday.sandbox import Sandbox, SandboxConfig, SandboxError

GAMEDAY = str(Path(sys.executable).parent / "gameday")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_api_port_in_use_is_a_sandbox_error_and_nothing_is_left_running(busy_port: int) -> None:
    with pytest.raises(SandboxError, match=f"cannot listen on 127.0.0.1:{busy_port}"):
        Sandbox(SandboxConfig(api_port=busy_port)).start()
    # a sandbox can start right after: the failed one stopped everything it had started
    with Sandbox() as sb:
        assert httpx.get(sb.api_url + "/health/live").status_code == 200


@pytest.mark.parametrize("option", ["--api-port", "--aws-port"])
def test_cli_port_in_use_is_one_line_and_non_zero(busy_port: int, option: str) -> None:
    proc = subprocess.run(
        [GAMEDAY, "sandbox", option, str(busy_port)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gameday: sandbox: cannot listen on 127.0.0.1:")
    assert "Traceback" not in proc.stderr


def start_cli(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`gameday sandbox ARGS` in a subprocess, and the lines it printed until it was ready."""
    proc = subprocess.Popen(
        [GAMEDAY, "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while not any("Ctrl-C" in line for line in lines):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError((lines, proc.poll()))
        lines.append(proc.stdout.readline())
    return proc, lines


def test_cli_prints_urls_serves_and_stops_on_sigterm() -> None:
    proc, lines = start_cli("--init-ms", "50", "--seed", "3")
    try:
        urls = [line.split()[1] for line in lines if line.strip().startswith("GET ")]
        assert [u.rsplit("/dev", 1)[1] for u in urls] == [
            "/health",
            "/health/live",
            "/health/ready",
            "/health/startup",
        ]
        assert any(
            line.strip().startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:") for line in lines
        )
        for url in urls:
            assert httpx.get(url, timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "sandbox: stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_faithful_uses_the_seed_alarm_periods() -> None:
    # GIVEN `gameday sandbox --faithful` WHEN it is up THEN its alarms have the seed's 60 s x 2
    proc, lines = start_cli("--faithful")
    try:
        assert "timing faithful" in lines[0]
        endpoint = next(
            line.split("=", 1)[1].strip() for line in lines if "AWS_ENDPOINT_URL=" in line
        )
        import boto3

        cw = boto3.client(
            "cloudwatch",
            endpoint_url=endpoint,
            region_name="ap-south-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        alarms = cw.describe_alarms()["MetricAlarms"]
        assert alarms
        assert {(a["Period"], a["EvaluationPeriods"]) for a in alarms} == {(60, 2)}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
