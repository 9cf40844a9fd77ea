"""A backend per chaos phase in game-day plans, per target and per experiment; the FIS
target settings and their refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.chaos.fis.backend import resolve_backend
from lambda_gameday.chaos.fis.experiment import FisFault, template_request
from lambda_gameday.config import load_target, sandbox_target
from lambda_gameday.exceptions import ConfigError, GamedayError
from lambda_gameday.gameday.plan import ChaosOptions, load_plan


def test_a_plan_gives_each_chaos_phase_its_backend(tmp_path: Path) -> None:
    p = tmp_path / "p.yml"
    p.write_text(
        "name: two-backends\nphases:\n"
        "  - phase: chaos\n    name: via-fis\n    experiments: [faulty-canary]\n"
        "    backend: fis\n"
        "  - phase: chaos\n    name: via-failure-lambda\n    experiments: [faulty-canary]\n"
    )
    fis, plain = load_plan(p).phases
    assert fis.options == ChaosOptions(experiments=("faulty-canary",), backend="fis")
    assert plain.options == ChaosOptions(experiments=("faulty-canary",))


def test_a_plan_refuses_an_unknown_backend(tmp_path: Path) -> None:
    p = tmp_path / "p.yml"
    p.write_text("phases:\n  - phase: chaos\n    backend: gremlin\n")
    with pytest.raises(ConfigError, match="backend"):
        load_plan(p)


def test_backend_precedence() -> None:
    target = sandbox_target("http://127.0.0.1:1/dev", "http://127.0.0.1:2")
    assert resolve_backend({}, target, "failure-lambda") == "failure-lambda"
    t = target.with_overrides(chaos_backend="extension")
    assert resolve_backend({}, t, "failure-lambda") == "extension"
    assert resolve_backend({"gameday_backend": "fis"}, t, "failure-lambda") == "fis"
    override = {"gameday_backend": "fis", "gameday_backend_override": "failure-lambda"}
    assert resolve_backend(override, t, "extension") == "failure-lambda"
    with pytest.raises(ConfigError, match="gameday_backend"):
        resolve_backend({"gameday_backend": "chaos-monkey"}, t, "fis")


def _target_file(tmp_path: Path, fis: str) -> Path:
    p = tmp_path / "t.toml"
    p.write_text(
        'name = "t"\nkind = "aws"\nenvironment = "dev"\nregion = "ap-south-1"\n'
        'api_url = "https://api.example.com/dev"\nchaos_backend = "fis"\n'
        '[[functions]]\nname = "fn"\npath = "/x"\n' + fis
    )
    return p


def test_target_file_fis_table(tmp_path: Path) -> None:
    t = load_target(
        _target_file(
            tmp_path,
            '[fis]\nrole_arn = "arn:aws:iam::123456789012:role/fis"\n'
            'configuration_location = "arn:aws:s3:::cfg-bucket/FisConfigs/"\n'
            "ramp_up_bound_s = 90\n",
        )
    )
    assert t.chaos_backend == "fis" and t.fis is not None and t.fis.ramp_up_bound_s == 90


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[fis]\nrole_arn = "arn:aws:iam::1:user/x"\nconfiguration_location = '
         '"arn:aws:s3:::b-b-b/FisConfigs/"\n', "role_arn"),
        ('[fis]\nrole_arn = "arn:aws:iam::123456789012:role/fis"\n'
         'configuration_location = "s3://bucket/FisConfigs/"\n', "configuration_location"),
        ('[fis]\nrole_arn = "arn:aws:iam::123456789012:role/fis"\n', "configuration_location"),
    ],
)  # fmt: skip
def test_target_file_fis_refusals(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_target(_target_file(tmp_path, table))


def test_fis_fault_limits_are_fis_s() -> None:
    with pytest.raises(GamedayError, match="invocationPercentage"):
        FisFault("error", percentage=0)
    with pytest.raises(GamedayError, match="startupDelayMilliseconds"):
        FisFault("delay", delay_ms=900_001)


def test_template_targets_the_qualified_arn_with_alarms_and_run_tags() -> None:
    arn = "arn:aws:lambda:ap-south-1:123456789012:function:fn:7"
    alarm = "arn:aws:cloudwatch:ap-south-1:123456789012:alarm:fn-error-rate"
    req = template_request(
        "arn:aws:iam::123456789012:role/fis", arn, FisFault("error"), [alarm], "run1", "tok"
    )
    assert req["clientToken"] == "tok"
    assert req["targets"] == {
        "function": {
            "resourceType": "aws:lambda:function",
            "resourceArns": [arn],
            "selectionMode": "ALL",
        }
    }
    assert req["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": alarm}]
    assert req["tags"] == {"gameday-run": "run1", "gameday-ledger": "tok"}
    action = req["actions"]["fault"]  # type: ignore[index]
    assert action["actionId"] == "aws:lambda:invocation-error"
    assert action["parameters"]["preventExecution"] == "true"
