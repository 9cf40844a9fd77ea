"""Bad input at the CLI: one line on stderr, the documented exit code, never a traceback."""

from __future__ import annotations

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
