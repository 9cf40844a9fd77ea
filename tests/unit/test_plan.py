"""Plan files: YAML and TOML, validation errors that name the file, key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.exceptions import ConfigError
from lambda_gameday.gameday.plan import (
    PHASE_KINDS,
    ChaosOptions,
    SyntheticsOptions,
    default_plan,
    load_plan,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_plan_has_every_phase_kind_in_order() -> None:
    plan = default_plan()
    assert [p.kind for p in plan.phases] == list(PHASE_KINDS)
    assert plan.name == "default"


def test_yaml_plan_with_options(tmp_path: Path) -> None:
    # GIVEN a YAML plan with per-phase options WHEN loaded THEN options are typed
    plan = load_plan(
        write(
            tmp_path,
            "p.yml",
            """
name: tiny
phases:
  - phase: synthetics
    probes: 30
    endpoints: [/health, health-liveness]
  - lint
  - phase: chaos
    name: canary-drill
    experiments: faulty-canary
    continue_on_failure: false
""",
        )
    )
    assert plan.name == "tiny"
    synth, lint, chaos = plan.phases
    assert synth.options == SyntheticsOptions(probes=30, endpoints=("/health", "health-liveness"))
    assert lint.kind == "lint"
    assert chaos.name == "canary-drill"
    assert chaos.options == ChaosOptions(experiments=("faulty-canary",))
    assert chaos.continue_on_failure is False


def test_toml_plan(tmp_path: Path) -> None:
    plan = load_plan(
        write(
            tmp_path,
            "p.toml",
            """
name = "t"
[[phases]]
phase = "load"
duration_s = 3
thresholds = ["p95<100"]
""",
        )
    )
    assert plan.phases[0].options.duration_s == 3.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "phases:\n  - phase: chaoss\n",
            "phases[0].phase = 'chaoss' is not a phase; allowed: "
            "conformance, lint, synthetics, coldstart, load, chaos",
        ),
        (
            "phases:\n  - phase: synthetics\n    probes: many\n",
            "phases[0].probes = 'many' is invalid; expected a whole number >= 0",
        ),
        (
            "phases:\n  - phase: synthetics\n    probez: 3\n",
            "unknown key 'probez' for phase synthetics",
        ),
        ("phases: []\n", "phases must be a non-empty list"),
        ("name: x\nphases:\n  - {phase: lint\n", "not valid YAML at line"),
        ("nme: x\nphases: [lint]\n", "unknown key 'nme'"),
        ("phases: [lint, lint]\n", "'lint' is used twice"),
        ("phases:\n  - phase: conformance\n    fail_on: sometimes\n", "expected one of 'error'"),
        ("- just\n- a list\n", "a plan must be a table"),
    ],
)
def test_malformed_plans_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.yml", text)
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in info.value.one_line()


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="plan file not found"):
        load_plan(tmp_path / "nope.yml")


def test_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_plan(write(tmp_path, "p.toml", "phases = [\n"))


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    "path", sorted([*EXAMPLES.glob("plan-*.yml"), *EXAMPLES.glob("plan-*.toml")]), ids=str
)
def test_example_plans_are_valid(path: Path) -> None:
    assert load_plan(path).phases


def test_optional_number_options_accept_a_number_and_reject_a_negative(tmp_path: Path) -> None:
    from lambda_gameday.gameday.plan import load_plan

    good = tmp_path / "good.yml"
    good.write_text("name: t\nphases:\n  - phase: load\n    duration_s: 4\n    warmup_s: 1\n")
    (spec,) = load_plan(good).phases
    assert getattr(spec.options, "warmup_s", None) == 1.0
    bad = tmp_path / "bad.yml"
    bad.write_text("name: t\nphases:\n  - phase: load\n    warmup_s: -1\n")
    with pytest.raises(ConfigError, match=r"warmup_s = -1 is invalid; expected a number >= 0"):
        load_plan(bad)
