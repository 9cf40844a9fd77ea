"""The FIS backend on the sandbox: the seed's experiments run with `backend = fis`, the
preflight names each missing item with its fix, cleanup leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.chaos.fis.setup import apply_changes, plan_changes
from lambda_gameday.chaos.runner import run_experiment
from lambda_gameday.config import Target, load_target, sandbox_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).parents[2]
FN = "hasivu-dev-health-liveness"
ALARM = f"{FN}-error-rate"
LOCATION = "arn:aws:s3:::gameday-fis-ft/FisConfigs/"
BUCKET, PREFIX = "gameday-fis-ft", "FisConfigs/"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(init_duration_ms=50.0, seed=11)) as sb:
        yield sb


def fis_target_file(sandbox: Sandbox, path: Path, backend: str | None = None) -> Path:
    """A target file as a team writes it for FIS: the seed's functions plus a [fis] table."""
    lines = [
        'name = "sandbox-fis"',
        'kind = "sandbox"',
        'environment = "dev"',
        f'region = "{sandbox.config.region}"',
        f'endpoint_url = "{sandbox.endpoint_url}"',
        f'api_url = "{sandbox.api_url}"',
        'application = "hasivu-dev"',
    ]
    if backend:
        lines.append(f'chaos_backend = "{backend}"')
    base = sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)
    for fn in base.functions:
        lines += [
            "[[functions]]",
            f'name = "{fn.name}"',
            f'path = "{fn.path}"',
            f"alarms = {json.dumps(list(fn.alarms))}",
            f'deployment_group = "{fn.deployment_group}"',
        ]
    role = f"arn:aws:iam::{sandbox.config.account_id}:role/gameday-fis-experiments"
    lines += ["[fis]", f'role_arn = "{role}"', f'configuration_location = "{LOCATION}"']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def target_path(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fis_target_file(sandbox, tmp_path_factory.mktemp("fis") / "target.toml")


@pytest.fixture(scope="module")
def target(target_path: Path) -> Target:
    return load_target(target_path)


def test_preflight_names_each_missing_item_and_plan_applies_on_the_sandbox(
    sandbox: Sandbox, target: Target, tmp_path: Path
) -> None:
    from lambda_gameday.aws import Clients
    from lambda_gameday.chaos.fis.actions import FisNotReady, inject_fis_fault
    from lambda_gameday.chaos.runner import target_configuration

    clients = Clients(target)
    kinds = [c.kind for c in plan_changes(clients, target, FN)]
    assert kinds == ["layer", "env", "env", "bucket", "role-policy", "experiment-role"]
    # a fault on a function without the layer fails preflight, one line per item with its fix
    conf = {**target_configuration(target), "gameday_ledger": str(tmp_path / "l.jsonl")}
    with pytest.raises(FisNotReady) as info:
        inject_fis_fault(FN, configuration=conf)
    lines = info.value.one_line().splitlines()
    assert len(lines) == 1 + 6 and all("fix:" in line for line in lines[1:])
    assert "aws-fis-extension-x86_64" in lines[1]  # the layer from the public SSM parameter
    assert not (tmp_path / "l.jsonl").exists()  # nothing was recorded: nothing was injected
    done = apply_changes(clients, target, FN, plan_changes(clients, target, FN))
    assert len(done) == 4  # layer and environment are one configuration update
    assert plan_changes(clients, target, FN) == []


def _conf(target: Target) -> dict[str, object]:
    return {"gameday_backend_override": "fis"}


def test_faulty_canary_with_fis_passes_and_leaves_nothing(
    sandbox: Sandbox, target: Target, sandbox_client: Callable[[str], Any], tmp_path: Path
) -> None:
    fis, s3 = sandbox_client("fis"), sandbox_client("s3")
    result = run_experiment(
        ROOT / "experiments" / "faulty-canary.json",
        target,
        ledger_path=tmp_path / "ledger.jsonl",
        journal_path=tmp_path / "journal.json",
        extra_configuration=_conf(target),
    )
    assert result.ok, result.failure()
    assert result.cleanup_problems == ()
    runs = result.journal["run"]
    out = next(r["output"] for r in runs if r["activity"]["name"] == "deploy-faulty-canary")
    assert out["backend"] == "fis"
    exp_id = out["fis_experiment_id"]
    # the stock aws CLI shows the experiment completed or stopped
    env = {**os.environ, **sandbox.env()}
    aws = str(Path(sys.executable).parent / "aws")
    got = json.loads(
        subprocess.run(
            [aws, "fis", "get-experiment", "--id", exp_id, "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert got["experiment"]["state"]["status"] in ("completed", "stopped")
    listed = json.loads(
        subprocess.run(
            [aws, "fis", "list-experiments", "--endpoint-url", sandbox.endpoint_url],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    )  # fmt: skip
    assert {e["id"]: e["state"]["status"] for e in listed["experiments"]}[exp_id] in (
        "completed",
        "stopped",
    )
    # the configuration prefix is empty and the template is gone
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("KeyCount", 0) == 0
    assert fis.list_experiment_templates()["experimentTemplates"] == []
