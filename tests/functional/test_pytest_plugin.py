"""The pytest plugin, run the way users run it: an inner pytest session (pytester, in a
subprocess with `-p no:locust`) against a real sandbox.

GIVEN the owner's kind of SLO gate WHEN the sandbox is healthy THEN it passes; WHEN a
sandbox fault (the database dependency slowed through its SSM parameter) pushes /health
over its budget THEN the failure reads like a verdict.
"""

from __future__ import annotations

import socket
import time

import pytest

pytest_plugins = ["pytester"]

GATES = """
import json, time
import httpx
import pytest
from lambda_gameday.aws import Clients
from lambda_gameday.pytest_plugin import assert_latency, assert_availability

pytestmark = pytest.mark.gate


def test_healthy_sandbox_meets_the_latency_slo(synthetic_run):
    result = synthetic_run(probes=40, endpoints=["/health"])
    assert_latency(result, "/health")
    assert_availability(result, "/health")


def test_slowed_database_breaks_the_latency_slo(synthetic_run, gameday_target):
    ssm = Clients(gameday_target).ssm()
    ssm.put_parameter(
        Name="/gameday-sandbox/dependencies/database",
        Value=json.dumps({"state": "up", "latency_ms": 150}),
        Type="String", Overwrite=True,
    )
    deadline = time.monotonic() + 10  # the data plane applies it within a second or so
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        httpx.get(gameday_target.url("/health"), timeout=5)
        if (time.perf_counter() - t0) * 1000 > 150:
            break
    result = synthetic_run(probes=20, endpoints=["/health"])
    assert_latency(result, "/health")
"""


def test_gate_passes_healthy_and_fails_with_a_verdict_under_a_fault(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_gates=GATES)
    result = pytester.runpytest_subprocess("-p", "no:locust", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*SLOBreach: p95 of /health was * ms, budget 100 ms, 20 samples*"])
    result.stdout.no_fnmatch_line("*Traceback*lambda_gameday/gameday*")


PRODUCTION_TARGET = """
name = "prod"
kind = "aws"
environment = "production"
region = "ap-south-1"
allow_loopback = true
api_url = "http://127.0.0.1:9"
[[functions]]
name = "hasivu-production-health-liveness"
path = "/health/live"
"""

MARKED = """
import pytest

@pytest.mark.gameday
def test_injects_faults(gameday_target):
    raise AssertionError("must not run against production without --allow-production")

@pytest.mark.gate
def test_read_only(gameday_target):
    assert gameday_target.is_production
"""


def test_gameday_tests_are_refused_against_production_without_the_flag(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMEDAY_ALLOW_PRODUCTION", raising=False)
    target = pytester.makefile(".toml", prod=PRODUCTION_TARGET)
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_subprocess(
        "-p", "no:locust", "-p", "no:cacheprovider", "-rA", "--gameday-target", str(target)
    )
    # a refused gate FAILS (it was not verified): never a skip, never a pass
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*NOT VERIFIED: refused: prod is a production target*--allow-production*"]
    )
    result.stdout.no_fnmatch_line("*must not run against production*")
    # opting out is explicit, and the summary says which gates did not run
    result = pytester.runpytest_subprocess(
        "-p",
        "no:locust",
        "-p",
        "no:cacheprovider",
        "--gameday-target",
        str(target),
        "--gameday-skip-destructive",
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["gameday: 1 destructive gate(s) NOT run (--gameday-skip-destructive):*test_inj*"]
    )
    # with the flag the destructive test runs (and here fails on purpose)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:locust",
        "-p",
        "no:cacheprovider",
        "--gameday-target",
        str(target),
        "--allow-production",
    )
    result.assert_outcomes(passed=1, failed=1)


def test_bad_target_file_is_one_line(pytester: pytest.Pytester) -> None:
    target = pytester.makefile(".toml", bad="name = 1\n")
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_subprocess(
        "-p", "no:locust", "-p", "no:cacheprovider", "--gameday-target", str(target)
    )
    result.stdout.fnmatch_lines(["*gameday: *bad.toml*"])
    result.stdout.no_fnmatch_line("*Traceback*")


GATE = """
import pytest
from lambda_gameday.pytest_plugin import assert_latency

pytestmark = pytest.mark.gate

@pytest.fixture(scope="module")
def probes(synthetic_run):
    return synthetic_run(probes=50, max_seconds=60)

def test_one(probes, gameday_target):
    assert_latency(probes, "/health")

def test_two(probes, gameday_target):
    assert_latency(probes, "/health/live")
"""


@pytest.mark.parametrize("host", ["refused", "dns"])
def test_an_unusable_target_stops_the_session_with_exit_3_and_one_line(
    pytester: pytest.Pytester, host: str
) -> None:
    if host == "refused":
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
        api = f"http://127.0.0.1:{port}/dev"
    else:
        api = "https://gameday-no-such-host.invalid/dev"
    target = pytester.makefile(
        ".toml",
        gone=(
            'name = "gone"\nkind = "aws"\nenvironment = "dev"\nregion = "ap-south-1"\n'
            "allow_loopback = true\n"
            f'api_url = "{api}"\n[[functions]]\nname = "f"\npath = "/health"\n'
            '[[functions]]\nname = "g"\npath = "/health/live"\n'
        ),
    )
    pytester.makepyfile(test_gate=GATE)
    t0 = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-p", "no:locust", "-p", "no:cacheprovider", "--gameday-target", str(target)
    )
    assert time.monotonic() - t0 < 30
    assert result.ret == 3
    result.stdout.fnmatch_lines(["*gameday: target unusable (gone): *"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*Error*")
