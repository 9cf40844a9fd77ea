"""`gameday chaos NAME --backend fis` on functions not set up for FIS: refused before
anything is probed or injected, one line per missing item with its fix (exit 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_gameday.sandbox import Sandbox

ROOT = Path(__file__).parents[2]


def test_fis_backend_on_an_unprepared_function_fails_preflight_with_each_fix(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], target_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target.toml"
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/gameday-fis-experiments"
    target.write_text(
        target_file.read_text()
        + f'[fis]\nrole_arn = "{role}"\n'
        + 'configuration_location = "arn:aws:s3:::gameday-fis-pf/FisConfigs/"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAMEDAY_", "AWS_"))}
    env.update(sandbox.env())
    ledger = tmp_path / "ledger.jsonl"
    lam = sandbox_client("lambda")
    before = lam.list_versions_by_function(FunctionName="hasivu-dev-health-liveness")
    done = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "chaos",
         str(ROOT / "experiments" / "faulty-canary.json"), "--target", str(target),
         "--ledger", str(ledger), "--backend", "fis"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert "not ready for AWS FIS" in lines[0] and "Traceback" not in done.stderr
    items = [line for line in lines[1:] if line.strip().startswith("- ")]
    assert len(items) == 6 and all("fix:" in line for line in items)
    kinds = " ".join(items)
    for needed in (
        "aws-fis-extension-x86_64",
        "AWS_LAMBDA_EXEC_WRAPPER=/opt/aws-fis/bootstrap",
        "AWS_FIS_CONFIGURATION_LOCATION=arn:aws:s3:::gameday-fis-pf/FisConfigs/",
        "create S3 bucket gameday-fis-pf",
        "FIS read policy",
        "create role gameday-fis-experiments",
    ):
        assert needed in kinds, needed
    # nothing was recorded or published
    assert not ledger.exists() or ledger.read_text() == ""
    after = lam.list_versions_by_function(FunctionName="hasivu-dev-health-liveness")
    assert after["Versions"] == before["Versions"]
