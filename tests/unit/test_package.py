"""The public surface and what importing the package costs."""

from __future__ import annotations

import json
import subprocess
import sys

import lambda_gameday
from lambda_gameday import exceptions


def test_exports_match_all() -> None:
    public = {n for n in dir(lambda_gameday) if not n.startswith("_")} - {
        "config",
        "exceptions",
        "aws",
        "cli",
        "sandbox",
        "stats",
    }
    exported = set(lambda_gameday.__all__) - {"__version__"}
    assert exported <= public
    # every public class/function at the top level is exported on purpose
    assert {
        n for n in public if n[0].isupper() or n.startswith("load_") or n.endswith("_target")
    } <= exported


def test_every_error_has_an_exit_code_and_one_root() -> None:
    codes = {
        cls.__name__: cls.exit_code
        for cls in (
            exceptions.ConfigError,
            exceptions.TargetError,
            exceptions.ResourceNotFound,
            exceptions.SafetyError,
            exceptions.VerdictFailed,
            exceptions.GamedayError,
        )
    }
    assert codes == {
        "ConfigError": 2,
        "TargetError": 3,
        "ResourceNotFound": 3,
        "SafetyError": 5,
        "VerdictFailed": 1,
        "GamedayError": 4,
    }
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), exceptions.GamedayError)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_import_is_free_of_locust_and_gevent() -> None:
    # Proven in a fresh interpreter: this test process may have other modules loaded.
    for statement in (
        "import lambda_gameday",
        "import lambda_gameday.cli",
        "import lambda_gameday.sandbox",
        "import lambda_gameday.aws",
    ):
        loaded = _modules_after(statement)
        leaked = {m for m in loaded if m.split(".")[0] in {"locust", "gevent", "geventhttpclient"}}
        assert not leaked, f"{statement} pulled in {sorted(leaked)[:5]}"


def test_import_package_does_not_load_boto3_or_moto() -> None:
    loaded = _modules_after("import lambda_gameday")
    assert not {m for m in loaded if m.split(".")[0] in {"boto3", "moto", "httpx"}}


def _without_sandbox_extra(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh interpreter where moto cannot be imported (the lean install)."""
    code = (
        "import sys\n"
        "for name in ('moto', 'werkzeug', 'uvicorn', 'httptools'): sys.modules[name] = None\n"
        "from lambda_gameday.cli import main\n"
        f"main({list(args)!r})"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_lean_install_says_how_to_get_the_twin() -> None:
    # GIVEN no `sandbox` extra WHEN a command would start the twin THEN one line, exit 2
    result = _without_sandbox_extra("conformance")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "pip install 'lambda-gameday[sandbox]'" in lines[0]
    assert "Traceback" not in result.stderr


def test_lean_install_still_reads_target_files() -> None:
    result = _without_sandbox_extra("target", "examples/target-aws-dev.toml")
    assert result.returncode == 0, result.stderr


def test_lean_install_lints_stack_files() -> None:
    # the stack readers are pure: linting a SAM file needs no twin
    result = _without_sandbox_extra(
        "lint", "--template", "tests/fixtures/stacks/sam-app/template.yaml"
    )
    assert "Traceback" not in result.stderr and "harness error" not in result.stderr
    assert "stack files:" in result.stdout, result.stderr
    assert result.returncode == 1  # the fixture's alarms cannot meet the budget
