"""Run `gameday` in-process with its output captured: the exit code, stdout and stderr.

In-process keeps the fuzz suite fast (no interpreter start per case); the behaviour is the
console script's, since `main` is the entry point and every exit goes through SystemExit.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from lambda_gameday.cli import main

# Every target the corpus names points at loopback ports nothing listens on: even a case
# that wrongly got past validation could only be refused by 127.0.0.1, never reach AWS.
SAFE_TARGET = """\
name = "fuzz"
kind = "aws"
environment = "dev"
region = "ap-south-1"
allow_loopback = true
endpoint_url = "http://127.0.0.1:9"
api_url = "http://127.0.0.1:9/dev"

[[functions]]
name = "hasivu-dev-health-comprehensive"
path = "/health"

[[functions]]
name = "hasivu-dev-health-liveness"
path = "/health/live"
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


class _Text(io.TextIOWrapper):
    """A strict-UTF-8 text stream over bytes, like a real pipe (StringIO would accept a
    lone surrogate that a terminal or CI log cannot)."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)

    def text(self) -> str:
        self.flush()
        buffer = self.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue().decode("utf-8", errors="replace")


def run(argv: list[str], cwd: Path) -> Outcome:
    """`gameday ARGV` in `cwd`; any exception escaping main is a test failure, not an exit."""
    out, err = _Text(), _Text()
    code = 0
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Outcome(code, out.text(), err.text())


__all__ = ["SAFE_TARGET", "Outcome", "run"]
