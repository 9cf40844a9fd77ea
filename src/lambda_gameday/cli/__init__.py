"""`gameday`: the command line. Errors become one line and an exit code here, and only here.

Exit codes: 0 pass; 1 an SLO or threshold was breached; 2 bad input (target file, plan,
experiment, check, threshold, option value); 3 the target can't be used (unreachable,
credentials, throttled); 4 the run failed, or the harness itself failed (an unexpected
exception: one line here, the traceback in a log under .gameday/logs/); 5 refused for
safety; 130 interrupted (faults removed). Exit 1 is never a crash.
Subcommands live in their own modules and are imported only when invoked.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import click

__all__ = ["main"]

# name -> "module:attribute"; each module owns one command.
COMMANDS: dict[str, str] = {
    "sandbox": "lambda_gameday.cli.sandbox_cmd:sandbox",
    "chaos": "lambda_gameday.cli.chaos_cmd:chaos",
    "coldstart": "lambda_gameday.cli.coldstart_cmd:coldstart",
    "conformance": "lambda_gameday.cli.conformance_cmd:conformance",
    "cleanup": "lambda_gameday.cli.cleanup_cmd:cleanup",
    "dashboard": "lambda_gameday.cli.dashboard_cmd:dashboard",
    "fis": "lambda_gameday.cli.fis_cmd:fis",
    "history": "lambda_gameday.cli.history_cmd:history",
    "iam-policy": "lambda_gameday.cli.iam_cmd:iam_policy",
    "lint": "lambda_gameday.cli.lint_cmd:lint",
    "load": "lambda_gameday.cli.load_cmd:load",
    "run": "lambda_gameday.cli.run_cmd:run",
    "synth": "lambda_gameday.cli.synth_cmd:synth",
    "target": "lambda_gameday.cli.target_cmd:target",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module_name, attr = spec.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lambda-gameday")
def cli() -> None:
    """Chaos experiments, synthetic checks, load gates and game days for AWS Lambda platforms.

    With no --target, every command runs against the embedded sandbox.
    """


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn harness errors into one line and an exit code."""
    from ..exceptions import GamedayError
    from ..extras import sandbox_installed

    # Without the `sandbox` extra there is no twin, so no twin error to map.
    sandbox_errors: tuple[type[Exception], ...] = ()
    if sandbox_installed():
        from ..sandbox import SandboxError

        sandbox_errors = (SandboxError,)

    _tolerant_streams()
    # SIGTERM (a cancelled CI job) ends every command like Ctrl-C: cleanup runs, exit 130.
    # SIGINT too, even when inherited as ignored (a job a non-interactive shell started with
    # `&` gets SIG_IGN, which Python keeps): faults may be in place, so an interrupt sent to
    # this process is honoured in every command and phase, as chaos and sandbox already did.
    # Commands with their own handling (sandbox, load, run, chaos) replace these meanwhile.
    import signal
    import threading

    def _sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _sigterm)
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("gameday: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"gameday: {exc.format_message()}", err=True)
        sys.exit(2 if exc.exit_code == 1 else exc.exit_code)
    except GamedayError as exc:
        click.echo(f"gameday: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except sandbox_errors as exc:
        click.echo(f"gameday: sandbox: {' '.join(str(exc).split())}", err=True)
        sys.exit(4)
    except KeyboardInterrupt:
        click.echo("gameday: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the boundary: a bug is exit 4 with a log, never a traceback
        log = _write_traceback(exc)
        what = " ".join(f"{type(exc).__name__}: {exc}".split())
        if len(what) > 300:
            what = what[:300] + "…"
        where = f"traceback in {log}" if log else "no log could be written"
        click.echo(f"gameday: harness error: {what} ({where})", err=True)
        sys.exit(4)
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be restored
                signal.signal(signum, handler)


LOG_DIR = Path(".gameday") / "logs"


def _write_traceback(exc: BaseException) -> Path | None:
    """The traceback in .gameday/logs/ (or the temp dir if the working dir is read-only)."""
    from ..redact import redact

    text = "".join(traceback.format_exception(exc))
    name = f"harness-error-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    for folder in (LOG_DIR, Path(tempfile.gettempdir()) / "gameday-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(  # logs redact like reports and journals do
                redact(f"gameday {' '.join(sys.argv[1:])[:2000]}\n{text}"),
                encoding="utf-8",
                errors="backslashreplace",
            )
            return path
        except OSError:
            continue
    return None


def _tolerant_streams() -> None:
    """Text that cannot be encoded (a lone surrogate from a file) prints escaped, not crash."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="backslashreplace")
