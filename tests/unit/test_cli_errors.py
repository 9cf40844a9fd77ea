"""Bad input at the CLI: one line on stderr, the documented exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "target file not found"),
        ('name = "x"\nbogus = 1\n', "unknown key bogus"),
        (
            'name = 3\nregion = "r"\napi_url = "http://x"\n[[functions]]\nname="f"\npath="/"\n',
            "name = 3 is invalid; expected a string",
        ),
        ("= broken", "not valid TOML"),
    ],
)
def test_bad_target_file_is_one_line_exit_2(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "t.toml"
    if content is not None:
        path.write_text(content)
    result = gameday("target", str(path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gameday: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_command_is_usage_error() -> None:
    result = gameday("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_good_target_file_shows_functions() -> None:
    example = Path(__file__).parents[2] / "examples" / "target-aws-dev.toml"
    result = gameday("target", str(example))
    assert result.returncode == 0, result.stderr
    assert "hasivu-dev-health-readiness" in result.stdout


def test_missing_credentials_is_a_target_error_not_a_verdict(tmp_path: Path) -> None:
    # GIVEN an AWS target with no profile and no credentials anywhere (botocore refuses to
    # sign before sending anything, so nothing leaves the machine)
    example = Path(__file__).parents[2] / "examples" / "target-aws-dev.toml"
    target = tmp_path / "noprofile.toml"
    target.write_text(
        "\n".join(
            line for line in example.read_text().splitlines() if not line.startswith("profile")
        )
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "GAMEDAY_TARGET"
    }
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambda_gameday.cli",
            "conformance",
            "--target",
            str(target),
            "--out",
            str(tmp_path / "c.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    # THEN exit 3 with one line naming the missing credentials; the results file is written
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "could not be checked" in line
    assert "no AWS credentials found" in line
    assert (tmp_path / "c.jsonl").stat().st_size > 0


# --- the CLI boundary (issue 16) ---------------------------------------------------------


def run_in_process(argv: list[str]) -> tuple[int, str]:
    """`gameday ARGV` in this process; (exit code, stderr)."""
    import contextlib
    import io

    from lambda_gameday.cli import main

    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


def test_an_unexpected_exception_is_exit_4_with_the_traceback_in_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bug deep in a command (simulated: the target loader raises a plain KeyError)
    import lambda_gameday.cli.target_cmd as target_cmd

    def broken(path: str) -> None:
        raise KeyError("at")

    monkeypatch.setattr(target_cmd, "load_target", broken)
    monkeypatch.chdir(tmp_path)
    # WHEN the command runs
    code, stderr = run_in_process(["target", "whatever.toml"])
    # THEN exit 4 ("harness error", never 1 - that is an SLO breach), one line, no traceback
    assert code == 4
    (line,) = stderr.strip().splitlines()
    assert line.startswith("gameday: harness error: KeyError: 'at' (traceback in ")
    assert "Traceback" not in stderr
    # AND the traceback is in the log the line names, under .gameday/logs/
    log = Path(line.rsplit("traceback in ", 1)[1].rstrip(")"))
    assert log.parent == Path(".gameday/logs")
    text = (tmp_path / log).read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "broken" in text


def test_undecodable_argument_prints_escaped_not_a_crash(tmp_path: Path) -> None:
    # An argv byte that is not UTF-8 arrives as a lone surrogate; stderr must not choke on it.
    result = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "target", os.fsdecode(b"\xff\xfe.toml")],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
    assert result.stderr.strip() == b"gameday: \\udcff\\udcfe.toml: target file not found"


def test_console_prints_huge_values_fast() -> None:
    # rich's automatic highlighting was quadratic: a 100 000-character name took 40 s
    # (issue 16). Ground truth, not a stopwatch: highlighting is off, and a 2 MB value
    # passes through the console unchanged.
    import io

    from lambda_gameday.console import make_console

    console = make_console()
    assert console._highlight is False  # rich keeps the setting here
    buffer = io.StringIO()
    console.file = buffer
    console.print("x" * 2_000_000, soft_wrap=True)
    assert buffer.getvalue().strip() == "x" * 2_000_000


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["conformance", "--out", "{existing}"], "--out"),
        (["synth", "--out", "{existing}"], "--out"),
        (["coldstart", "--out", "{existing}"], "--out"),
        (["load", "--out", "{existing}"], "--out"),
        (["chaos", "faulty-canary", "--journal", "{existing}"], "--journal"),
        (["chaos", "faulty-canary", "--load-out", "{existing}"], "--load-out"),
    ],
)
def test_outputs_are_not_overwritten_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], option: str
) -> None:
    existing = tmp_path / "results.json"
    existing.write_text("an earlier run\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GAMEDAY_TARGET", raising=False)
    code, stderr = run_in_process([a.format(existing=existing) for a in argv])
    assert code == 2
    assert f"{option} {existing}: file exists; pass --force" in stderr
    assert existing.read_text() == "an earlier run\n"


def test_force_and_owned_paths_may_be_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambda_gameday.cli.options import check_overwrite
    from lambda_gameday.exceptions import ConfigError

    existing = tmp_path / "results.json"
    existing.write_text("x")
    check_overwrite(existing, True, "--out")  # --force
    owned = tmp_path / ".gameday" / "synth.jsonl"
    owned.parent.mkdir()
    owned.write_text("x")
    monkeypatch.chdir(tmp_path)
    check_overwrite(Path(".gameday/synth.jsonl"), False, "--out")  # the harness's own
    with pytest.raises(ConfigError, match="file exists"):
        check_overwrite(Path("results.json"), False, "--out")


# --- a sandbox target never falls back to AWS (issue 13) ----------------------------------

SANDBOX_NO_ENDPOINT = """\
name = "sandbox-without-endpoint"
kind = "sandbox"
environment = "dev"
region = "ap-south-1"
api_url = "http://127.0.0.1:9/dev"
[[functions]]
name = "hasivu-dev-health-liveness"
path = "/health/live"
"""


class LeftLoopback(AssertionError):
    pass


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup or connection to anything but loopback is recorded and refused."""
    import ipaddress
    import socket

    escaped: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def is_loopback(host: object) -> bool:
        if host in ("localhost", None):
            return True
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not is_loopback(host):
            escaped.append(f"lookup {host}")
            raise LeftLoopback(f"lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(host):
            escaped.append(f"connect {address}")
            raise LeftLoopback(f"connect to {address}")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return escaped


def test_the_loopback_guard_sees_a_call_to_aws(loopback_only: list[str]) -> None:
    # The detector itself: an AWS call with no endpoint URL is caught (so the test below
    # would fail if the harness fell back to lambda.ap-south-1.amazonaws.com).
    import boto3
    from botocore.exceptions import BotoCoreError

    client = boto3.client("lambda", region_name="ap-south-1")
    with pytest.raises((LeftLoopback, BotoCoreError)):
        client.list_functions()
    assert any("amazonaws.com" in e for e in loopback_only), loopback_only


@pytest.mark.parametrize(
    "argv",
    [
        ["target", "{t}"],
        ["conformance", "--target", "{t}", "--out", "{tmp}/c.jsonl"],
        ["chaos", "faulty-canary", "--target", "{t}"],
        ["coldstart", "--target", "{t}", "--out", "{tmp}/cs.jsonl"],
        ["synth", "--target", "{t}", "--out", "{tmp}/s.jsonl"],
        ["lint", "--target", "{t}"],
        ["dashboard", "--target", "{t}", "--put", "d"],
        ["cleanup", "--target", "{t}", "--ledger", "{tmp}/ledger.jsonl"],
        ["run", "--target", "{t}", "--no-history", "--report-dir", "{tmp}/r"],
    ],
)
def test_sandbox_target_without_endpoint_is_refused_before_any_aws_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback_only: list[str], argv: list[str]
) -> None:
    target = tmp_path / "sandbox.toml"
    target.write_text(SANDBOX_NO_ENDPOINT)
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GAMEDAY_TARGET", raising=False)
    code, stderr = run_in_process([a.format(t=target, tmp=tmp_path) for a in argv])
    assert loopback_only == []
    assert code == 2, stderr
    (line,) = stderr.strip().splitlines()
    assert "kind = 'sandbox' needs endpoint_url" in line


def test_files_written_beside_an_output_are_kept_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `chaos --journal J --load-users N` writes its load results beside J; `load --out R`
    # writes Locust's log to R.log: neither replaces an existing file without --force.
    (tmp_path / "faulty-canary-load.json").write_text("earlier")
    (tmp_path / "r.json.log").write_text("earlier")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GAMEDAY_TARGET", raising=False)
    code, stderr = run_in_process(
        ["chaos", "faulty-canary", "--journal", str(tmp_path / "j.json"), "--load-users", "2"]
    )
    assert code == 2 and "load results (--load-out)" in stderr and "file exists" in stderr
    code, stderr = run_in_process(["load", "--out", str(tmp_path / "r.json")])
    assert code == 2 and "Locust's log" in stderr and "file exists" in stderr
    assert (tmp_path / "faulty-canary-load.json").read_text() == "earlier"
    assert (tmp_path / "r.json.log").read_text() == "earlier"
