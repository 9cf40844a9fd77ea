"""Property-based fuzzing of every input format: whatever the bytes, the harness answers with
a value or a one-line ConfigError (exit 2) - never another exception, never a hang.

Seeded and bounded: `derandomize=True` makes every run try the same examples, each example
has a deadline, and the example counts keep the whole module to well under a minute.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import SAFE_TARGET, run

from lambda_gameday.cli.options import Finite, NameType
from lambda_gameday.config import load_target, parse_target
from lambda_gameday.exceptions import ConfigError
from lambda_gameday.gameday.plan import load_plan, parse_plan
from lambda_gameday.load.thresholds import parse_threshold
from lambda_gameday.synthetics.definitions import load_check, parse_check
from lambda_gameday.validate.documents import parse_document
from lambda_gameday.validate.experiment import load_experiment_file

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=2000,  # ms per example: a hang or a quadratic blow-up fails the example
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# JSON-like values, including the ones that broke the harness: NaN, infinities, huge ints,
# lone surrogates, long strings, deep nesting.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "..", "http://[:41415/dev", "http://::34977", "\udc80", "x" * 300]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def toml_value(value: Any) -> str:
    """A TOML rendering of a JSON-like value (TOML has no null: it becomes a string)."""
    if value is None:
        return '"null"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def expect_value_or_config_error(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except ConfigError as exc:
        line = exc.one_line()
        assert "\n" not in line and line
        assert len(line) < 2000


# --- raw bytes in every format ------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["toml", "yaml", "json"]))
def test_any_bytes_parse_or_fail_with_one_line(data: bytes, fmt: str) -> None:
    text = data.decode("utf-8", errors="surrogateescape")
    expect_value_or_config_error(parse_document, text, fmt, "fuzz")


@FUZZ
@given(depth=st.integers(min_value=1, max_value=50_000), fmt=st.sampled_from(["toml", "json"]))
def test_nesting_of_any_depth_is_refused_or_parsed(depth: int, fmt: str) -> None:
    text = ("x = " if fmt == "toml" else '{"x": ') + "[" * depth + "]" * depth
    text += "\n" if fmt == "toml" else "}"
    expect_value_or_config_error(parse_document, text, fmt, "fuzz")


# --- target files -------------------------------------------------------------------------

TARGET_KEYS = [
    "name",
    "kind",
    "environment",
    "region",
    "endpoint_url",
    "api_url",
    "allow_loopback",
    "profile",
    "alarms",
    "slo",
]


@FUZZ
@given(key=st.sampled_from(TARGET_KEYS), value=values)
def test_target_with_any_value_for_a_key(key: str, value: Any) -> None:
    data = {k: v for k, v in _target_table().items() if k != key}
    data[key] = value
    expect_value_or_config_error(parse_target, data, "fuzz.toml")


@FUZZ
@given(
    key=st.sampled_from(["name", "path", "alias", "provisioned_concurrency", "alarms"]),
    value=values,
)
def test_target_function_with_any_value(key: str, value: Any) -> None:
    data = _target_table()
    data["functions"][0][key] = value
    expect_value_or_config_error(parse_target, data, "fuzz.toml")


@FUZZ
@given(extra=st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=3))
def test_target_file_text_round_trip(
    tmp_path_factory: pytest.TempPathFactory, extra: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("t") / "t.toml"
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n" + SAFE_TARGET, encoding="utf-8", errors="surrogatepass")
    expect_value_or_config_error(load_target, path)


@settings(FUZZ, max_examples=60)
@given(
    name=st.text(min_size=1, max_size=300)
    | st.sampled_from(["[/]", "[bold]x", "[link=http://x]y", "\\[x]", "a" * 257])
)
def test_target_command_prints_any_name(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    # Names are shown through rich: markup-looking text must print as text, not crash it.
    work = tmp_path_factory.mktemp("tc")
    text = SAFE_TARGET.replace('name = "fuzz"', f"name = {json.dumps(name)}")
    (work / "t.toml").write_bytes(text.encode("utf-8", errors="surrogatepass"))
    outcome = run(["target", str(work / "t.toml")], work)
    assert "Traceback" not in outcome.stderr
    assert outcome.code in (0, 2), outcome.stderr
    if outcome.code == 0:
        assert name.replace("\\", "") in outcome.stdout.replace("\\", "") or len(name) > 100
    else:
        assert len(outcome.error_lines) == 1


def _target_table() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(SAFE_TARGET)


# --- plans --------------------------------------------------------------------------------

PHASES = ["conformance", "lint", "synthetics", "coldstart", "load", "chaos"]
PLAN_KEYS = [
    "probes",
    "timeout_s",
    "duration_s",
    "users",
    "workers",
    "warmup_s",
    "thresholds",
    "experiments",
    "warm_requests",
    "fail_on",
    "name",
    "continue_on_failure",
]


@FUZZ
@given(phase=st.sampled_from(PHASES), key=st.sampled_from(PLAN_KEYS), value=values)
def test_plan_phase_with_any_option(phase: str, key: str, value: Any) -> None:
    expect_value_or_config_error(parse_plan, {"phases": [{"phase": phase, key: value}]}, "p.yml")


@FUZZ
@given(doc=values)
def test_any_plan_document(doc: Any) -> None:
    expect_value_or_config_error(parse_plan, doc, "p.yml")


@FUZZ
@given(text=st.text(max_size=300))
def test_any_plan_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("p") / "p.yml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    expect_value_or_config_error(load_plan, path)


# --- experiments --------------------------------------------------------------------------

CANARY = json.loads((ROOT / "experiments" / "faulty-canary.json").read_text(encoding="utf-8"))
EXPERIMENT_PATHS = [
    ("title",),
    ("method",),
    ("method", 0),
    ("method", 0, "provider"),
    ("method", 0, "provider", "arguments"),
    ("method", 0, "provider", "arguments", "fault"),
    ("method", 0, "provider", "arguments", "percentage"),
    ("method", 1, "provider", "arguments", "timeout_s"),
    ("method", 1, "pauses"),
    ("rollbacks",),
    ("steady-state-hypothesis",),
    ("steady-state-hypothesis", "probes", 0, "tolerance"),
    ("tags",),
    ("controls",),
]


@settings(FUZZ, max_examples=60)
@given(where=st.sampled_from(EXPERIMENT_PATHS), value=values)
def test_experiment_with_any_value_anywhere(
    tmp_path_factory: pytest.TempPathFactory, where: tuple[Any, ...], value: Any
) -> None:
    doc = json.loads(json.dumps(CANARY))
    node = doc
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    path = tmp_path_factory.mktemp("e") / "e.json"
    path.write_bytes(json.dumps(doc).encode("utf-8", errors="surrogatepass"))
    expect_value_or_config_error(load_experiment_file, path)


# --- check files --------------------------------------------------------------------------

CHECK_KEYS = ["name", "endpoint", "method", "timeout_s", "headers", "latency", "retry", "expect"]


@FUZZ
@given(key=st.sampled_from(CHECK_KEYS), value=values)
def test_check_with_any_value(key: str, value: Any) -> None:
    data: dict[str, Any] = {"endpoint": "/health", key: value}
    expect_value_or_config_error(parse_check, data, "c.toml")


@FUZZ
@given(text=st.text(max_size=300))
def test_any_check_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("c") / "c.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    expect_value_or_config_error(load_check, path)


# --- thresholds ---------------------------------------------------------------------------


@FUZZ
@given(expr=st.text(alphabet="p()0123456789.eE+-<>={},_abcdelmnortxyv /", max_size=60))
def test_any_threshold_text(expr: str) -> None:
    expect_value_or_config_error(parse_threshold, expr)


@FUZZ
@given(
    p=st.floats(min_value=0.1, max_value=100),
    op=st.sampled_from(["<", "<=", ">", ">="]),
    limit=st.floats(min_value=0, max_value=1e9),
)
def test_well_formed_thresholds_parse(p: float, op: str, limit: float) -> None:
    t = parse_threshold(f"p({p:.3f}){op}{limit:.3f}")
    assert t.op == op and math.isfinite(t.limit)


# --- command-line values ------------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=40) | st.sampled_from(["nan", "inf", "-inf", "1e999", "-0", "1e-999"]))
def test_finite_option_type_accepts_only_bounded_finite_numbers(text: str) -> None:
    kind = Finite(0, 3600, low_open=True)
    try:
        number = kind.convert(text, None, None)
    except click.BadParameter:
        return
    assert math.isfinite(number) and 0 < number <= 3600


@FUZZ
@given(text=st.text(max_size=300))
def test_name_option_type(text: str) -> None:
    try:
        name = NameType().convert(text, None, None)
    except click.BadParameter:
        return
    assert 0 < len(name) <= 256 and name.isprintable()


OPTIONS = [
    ["sandbox", "--serverless", "/nonexistent/sls.yml", "--api-port"],
    ["sandbox", "--serverless", "/nonexistent/sls.yml", "--init-ms"],
    ["synth", "--target", "/nonexistent/t.toml", "--watch", "--duration"],
    ["synth", "--target", "/nonexistent/t.toml", "--interval"],
    ["coldstart", "--target", "/nonexistent/t.toml", "--warm"],
    ["load", "--target", "/nonexistent/t.toml", "--workers"],
    ["load", "--target", "/nonexistent/t.toml", "--abort-after"],
    ["load", "--target", "/nonexistent/t.toml", "--threshold"],
    ["lint", "--target", "/nonexistent/t.toml", "--budget"],
    ["dashboard", "--target", "/nonexistent/t.toml", "--put"],
]


@settings(FUZZ, max_examples=80)
@given(
    argv=st.sampled_from(OPTIONS),
    value=st.text(max_size=30) | st.sampled_from(["nan", "inf", "99999999999999999999", "-1", ""]),
)
def test_cli_option_values_exit_2_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, argv: list[str], value: str
) -> None:
    # Each command line also names a missing file, so a value that is accepted still ends
    # in exit 2 before anything starts; the property is: one line, exit 2, no traceback.
    outcome = run([*argv, value], tmp_path_factory.mktemp("cli"))
    assert outcome.code == 2, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert len(outcome.error_lines) == 1, outcome.stderr
