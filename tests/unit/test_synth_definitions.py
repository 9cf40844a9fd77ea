"""Check definitions: malformed ones fail with the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.config import sandbox_target
from lambda_gameday.exceptions import ConfigError
from lambda_gameday.synthetics.definitions import (
    CheckDefinition,
    load_check,
    load_checks,
    parse_check,
    resolve_url,
)
from lambda_gameday.synthetics.jsonpath import MISSING, PathSyntaxError, parse_path

TARGET = sandbox_target("http://127.0.0.1:9/dev", "http://127.0.0.1:8")


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_full_definition_parses(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "h.toml",
        """
name = "health"
endpoint = "/health"
method = "get"
timeout_s = 2
headers = { Accept = "application/health+json" }
[latency]
degraded_ms = 80
failed_ms = 100
[retry]
attempts = 3
backoff_ms = 10
[expect]
status = [200, "3xx"]
health = true
headers = { "Content-Type" = "json", "x-amz-executed-version" = true, "x-bad" = false }
[[expect.json]]
path = 'checks["database:responseTime"][0].status'
one_of = ["pass", "warn"]
[[expect.observed]]
check = "memory:utilization"
max = 90
""",
    )
    c = load_check(p)
    assert c.name == "health"
    assert c.method == "GET"
    assert c.timeout_s == 2.0
    assert c.latency.degraded_ms == 80
    assert c.retry.attempts == 3
    assert c.expect.status == (200, "3xx")
    assert c.expect.status_ok(200)
    assert c.expect.status_ok(304)
    assert not c.expect.status_ok(201)
    assert [h.name for h in c.expect.headers] == ["content-type", "x-amz-executed-version", "x-bad"]
    assert c.expect.headers[2].present is False
    assert c.expect.json[0].one_of == ("pass", "warn")
    assert c.expect.observed[0].maximum == 90


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('endpoint = "/h"\ncolour = 1', "unknown key 'colour'; allowed:"),
        ("name = 'x'", "missing key endpoint"),
        ('endpoint = "https://example.com/h"', "not a URL"),
        ('endpoint = "/h"\nmethod = "FETCH"', "method = 'FETCH' is invalid; expected one of GET"),
        ('endpoint = "/h"\ntimeout_s = 0', "timeout_s = 0 is invalid"),
        ('endpoint = "/h"\ntimeout_s = "1"', "timeout_s = '1' is invalid"),
        ('endpoint = "/h"\n[latency]\ndegraded_ms = 100\nfailed_ms = 100', "must be below"),
        ('endpoint = "/h"\n[retry]\nattempts = 0', "retry.attempts = 0 is invalid"),
        ('endpoint = "/h"\n[retry]\nattempts = true', "retry.attempts = True is invalid"),
        ('endpoint = "/h"\n[expect]\nstatus = [700]', "expect.status = [700] is invalid"),
        ('endpoint = "/h"\n[expect]\nstatus = ["2xy"]', "expect.status"),
        ('endpoint = "/h"\n[expect]\nhealth = "yes"', "expect.health = 'yes' is invalid"),
        ('endpoint = "/h"\n[expect]\nheaders = { a = 3 }', "expect.headers.a = 3 is invalid"),
        ('endpoint = "/h"\n[[expect.json]]\npath = "a[x"\nexists = true', "bad JSON path"),
        ('endpoint = "/h"\n[[expect.json]]\npath = "a"', "asserts nothing"),
        ('endpoint = "/h"\n[[expect.json]]\npath = "a"\nmatches = "("', "bad regex"),
        (
            'endpoint = "/h"\n[[expect.json]]\npath = "a"\nequals = 1\nfoo = 2',
            "expect.json[0].'foo'",
        ),
        ('endpoint = "/h"\n[[expect.observed]]\ncheck = "db:t"', "needs min or max"),
        (
            'endpoint = "/h"\n[[expect.observed]]\ncheck = "db:t"\nmin = 5\nmax = 1',
            "min is above max",
        ),
        ('endpoint = "/h"\nlatency = 5', "latency must be a table"),
        ("endpoint = ", "not valid TOML"),
    ],
)
def test_malformed_definitions_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    p = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_check(p)
    assert str(p) in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="check file not found"):
        load_check(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="no such check file or directory"):
        load_checks([tmp_path / "nope"])


def test_load_checks_keeps_going_past_a_bad_file(tmp_path: Path) -> None:
    # GIVEN a directory with a good file, a malformed one and a duplicate name
    write(tmp_path, "a.toml", 'name = "a"\nendpoint = "/health"')
    write(tmp_path, "b.toml", 'endpoint = "/health"\nbogus = 1')
    write(tmp_path, "c.toml", 'name = "a"\nendpoint = "/health/live"')
    checks, errors = load_checks([tmp_path])
    assert [c.name for c in checks] == ["a"]
    assert [e.name for e in errors] == ["b", "a"]
    assert "unknown key 'bogus'" in errors[0].reason
    assert "already used" in errors[1].reason


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    assert load_check(write(tmp_path, "live.toml", 'endpoint = "/health/live"')).name == "live"


def test_resolve_url_by_path_or_function() -> None:
    by_path = CheckDefinition(name="x", endpoint="/health/ready")
    by_fn = CheckDefinition(name="y", endpoint="health-readiness")
    assert resolve_url(by_path, TARGET) == "http://127.0.0.1:9/dev/health/ready"
    assert resolve_url(by_fn, TARGET) == "http://127.0.0.1:9/dev/health/ready"
    with pytest.raises(ConfigError, match="no function"):
        resolve_url(CheckDefinition(name="z", endpoint="health-nothing"), TARGET)


def test_parse_check_from_mapping() -> None:
    c = parse_check({"endpoint": "/h"}, "inline")
    assert c.expect.status == ("2xx",)
    assert c.retry.attempts == 1
    assert c.latency.resolved_failed_ms(TARGET) == TARGET.slos.health_latency_ms
    assert c.latency.resolved_failed_ms(None) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("status", "pass"),
        ("$.status", "pass"),
        ("checks.db:rt[0].observedValue", 3),
        ('checks["db:rt"][0].status', "warn"),
        ("checks['a.b'][-1]", 2),
        ("checks.db:rt[1]", MISSING),
        ("nope.deeper", MISSING),
        ("status.x", MISSING),
        ("$", None),  # whole document, checked separately below
    ],
)
def test_json_paths(path: str, expected: object) -> None:
    doc = {
        "status": "pass",
        "checks": {"db:rt": [{"observedValue": 3, "status": "warn"}], "a.b": [1, 2]},
    }
    value = parse_path(path).resolve(doc)
    assert value == (doc if path == "$" else expected) or value is expected


@pytest.mark.parametrize("bad", ["a[", "a[]", "a..b", "[x]"])
def test_bad_json_paths(bad: str) -> None:
    with pytest.raises(PathSyntaxError, match="bad JSON path"):
        parse_path(bad)
