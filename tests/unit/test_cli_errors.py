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
