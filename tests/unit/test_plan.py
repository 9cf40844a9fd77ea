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
            "phases[0].probes = 'many' is invalid; expected a whole number from 1 to 100000",
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
        # issue 16: refused when the plan is read, not when the phase runs
        ("phases:\n  - phase: load\n    duration_s: .inf\n", "duration_s = inf is invalid"),
        ("phases:\n  - phase: load\n    duration_s: .nan\n", "duration_s = nan is invalid"),
        ("phases:\n  - phase: load\n    users: 99999999\n", "from 1 to 10000"),
        ("phases:\n  - phase: load\n    workers: 1000\n", "workers = 1000 is invalid"),
        ("phases:\n  - phase: load\n    users: '5'\n", "users = '5' is invalid"),
        ("phases:\n  - phase: load\n    users: true\n", "users = True is invalid"),
        ("phases:\n  - phase: load\n    duration_s: 4\n    warmup_s: 5\n", "less than"),
        ("phases:\n  - {phase: lint, name: ../../../tmp/x}\n", "name = '../../../tmp/x'"),
        ("phases:\n  - {phase: coldstart, when: 2024-01-01}\n", "unknown key 'when'"),
        ("phases:\n  - {phase: synthetics, endpoints: [[a]]}\n", "endpoints = [['a']]"),
        ("phases:\n  - {phase: 3}\n", "phase = 3 is not a phase"),
        ("name: " + "n" * 300 + "\nphases: [lint]\n", "at most 256 characters"),
        ("phases:\n" + "  - lint\n" * 101, "at most 100"),
        ("a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n", "unknown key 'a'"),
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
    with pytest.raises(ConfigError, match=r"warmup_s = -1 is invalid; expected a number of sec"):
        load_plan(bad)


@pytest.mark.parametrize(
    "text",
    [
        "phases:\n  - phase: chaos\n    allow_production: true\n",
        "allow_production: true\nphases: [lint]\n",
    ],
)
def test_a_plan_cannot_grant_production(tmp_path: Path, text: str) -> None:
    # issue 13: only the command line or the environment can allow production
    with pytest.raises(ConfigError, match="only the command line") as info:
        load_plan(write(tmp_path, "p.yml", text))
    assert info.value.exit_code == 2


def test_nested_and_aliased_plans_are_refused_without_recursion(tmp_path: Path) -> None:
    deep = write(tmp_path, "deep.yml", "phases: " + "[" * 10_000 + "]" * 10_000 + "\n")
    with pytest.raises(ConfigError, match="nested deeper than"):
        load_plan(deep)
    block = "".join("  " * i + f"k{i}:\n" for i in range(200))
    with pytest.raises(ConfigError, match="nested deeper than"):
        load_plan(write(tmp_path, "block.yml", block))
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match="more than 100,000 values"):
        load_plan(write(tmp_path, "laughs.yml", "\n".join(laughs) + "\n"))


def test_plan_references_are_checked_before_anything_runs(tmp_path: Path) -> None:
    from lambda_gameday.gameday.plan import check_references

    missing = load_plan(
        write(tmp_path, "m.yml", "phases:\n  - {phase: chaos, experiments: nope}\n")
    )
    with pytest.raises(ConfigError, match=r"phases\[0\] \(chaos\): no experiment 'nope'"):
        check_references(missing)
    bad = load_plan(
        write(tmp_path, "t.yml", "phases:\n  - {phase: load, thresholds: [p95<<100]}\n")
    )
    with pytest.raises(ConfigError, match="bad threshold 'p95<<100'"):
        check_references(bad)
    check_references(default_plan())
