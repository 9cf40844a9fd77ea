"""Faults never cross targets: two twins with the same names, in different accounts.

GIVEN sandboxes A and B (same functions, aliases and target name; accounts differ) and a
chaos run on A SIGKILLed mid-injection, WHEN `gameday cleanup` runs against B THEN
nothing changes on B or on A and A's entries are listed with the target each belongs
to; WHEN it runs against A THEN A is restored and nothing is left open.

The twins run side by side in this process under their own account ids
(`SandboxConfig(account_id=...)`: every call to a twin's endpoint is made in its account).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from sandbox_helpers import FUNCTIONS, env, snapshot

from lambda_gameday.chaos.ledger import Ledger
from lambda_gameday.sandbox import Sandbox, SandboxConfig

ACCOUNTS = {"a": "111111111111", "b": "222222222222"}

TRIAL = {
    "version": "1.0.0",
    "title": "three faults",
    "description": "faults of three kinds, then a pause to be killed in",
    "extensions": [
        {"name": "gameday", "timeline": {"expect_alarm": False, "expect_rollback": False}}
    ],
    "method": [
        {
            "type": "action",
            "name": "canary",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "deploy_canary",
                "arguments": {
                    "function_name": "hasivu-dev-health-liveness",
                    "fault": "exception",
                    "weight": 0.5,
                },
            },
        },
        {
            "type": "action",
            "name": "throttle",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.awslambda.actions",
                "func": "throttle",
                "arguments": {"function_name": "hasivu-dev-health-startup"},
            },
        },
        {
            "type": "action",
            "name": "slow-redis",
            "provider": {
                "type": "python",
                "module": "lambda_gameday.chaos.sandbox.actions",
                "func": "dependency_slow",
                "arguments": {"dependency": "redis", "latency_ms": 20},
            },
            "pauses": {"after": 30},
        },
    ],
}


@pytest.fixture(scope="module")
def twins() -> Iterator[dict[str, Sandbox]]:
    with (
        Sandbox(SandboxConfig(account_id=ACCOUNTS["a"], seed=7)) as a,
        Sandbox(SandboxConfig(account_id=ACCOUNTS["b"], seed=7)) as b,
    ):
        yield {"a": a, "b": b}


def client_of(sandbox: Sandbox) -> Callable[[str], Any]:
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=sandbox.config.region,
    )
    cache: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=sandbox.endpoint_url)  # type: ignore[call-overload]
        return cache[service]

    return make


def write_target(sandbox: Sandbox, path: Path) -> Path:
    lines = [
        'name = "sandbox-under-test"',  # the same name for both: identity is more than a name
        'kind = "sandbox"',
        'environment = "dev"',
        f'region = "{sandbox.config.region}"',
        f'endpoint_url = "{sandbox.endpoint_url}"',
        f'api_url = "{sandbox.api_url}"',
        'application = "hasivu-dev"',
    ]
    for fn, p in FUNCTIONS:
        lines += ["[[functions]]", f'name = "{fn}"', f'path = "{p}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def cleanup(sandbox: Sandbox, target: Path, ledger: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "cleanup", "--target", str(target),
         "--ledger", str(ledger)],
        env=env(sandbox, ledger),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_cleanup_touches_only_the_target_the_faults_were_made_on(
    twins: dict[str, Sandbox], tmp_path: Path
) -> None:
    a, b = twins["a"], twins["b"]
    client_a, client_b = client_of(a), client_of(b)
    assert client_a("sts").get_caller_identity()["Account"] == ACCOUNTS["a"]
    assert client_b("sts").get_caller_identity()["Account"] == ACCOUNTS["b"]
    target_a = write_target(a, tmp_path / "a.toml")
    target_b = write_target(b, tmp_path / "b.toml")
    baseline_a, baseline_b = snapshot(client_a), snapshot(client_b)
    experiment = tmp_path / "trial.json"
    experiment.write_text(json.dumps(TRIAL))
    ledger = tmp_path / "ledger.jsonl"
    # GIVEN a chaos run on A, SIGKILLed while its faults are going in
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_gameday.cli", "chaos", str(experiment),
         "--target", str(target_a), "--ledger", str(ledger)],
        env=env(a, ledger),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while sum(1 for e in Ledger(ledger).entries() if e.injected_at) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "no faults went in"
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=10)
    left_on_a = snapshot(client_a)
    assert left_on_a != baseline_a  # the kill left faults in place on A
    opened = {e.id for e in Ledger(ledger).open_entries()}
    assert len(opened) >= 2
    # WHEN cleanup runs against B
    on_b = cleanup(b, target_b, ledger)
    # THEN nothing changes on B or A, and A's entries are listed with their target
    assert on_b.returncode == 0, on_b.stdout + on_b.stderr
    assert snapshot(client_b) == baseline_b
    assert snapshot(client_a) == left_on_a
    assert {e.id for e in Ledger(ledger).open_entries()} == opened
    assert on_b.stdout.count("another target's, left alone:") == len(opened)
    assert f"(account {ACCOUNTS['a']}, {a.config.region}, {a.endpoint_url})" in on_b.stdout
    assert "removed:" not in on_b.stdout
    # WHEN cleanup runs against A THEN A is restored (its stale lock released too)
    on_a = cleanup(a, target_a, ledger)
    assert on_a.returncode == 0, on_a.stdout + on_a.stderr
    assert on_a.stdout.count("removed:") == len(opened)
    assert snapshot(client_a) == baseline_a
    assert snapshot(client_b) == baseline_b
    assert Ledger(ledger).open_entries() == []
