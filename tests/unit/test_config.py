"""The target model: defaults, validation errors that name file, key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.config import SLOs, load_target, sandbox_target
from lambda_gameday.exceptions import ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "target-aws-dev.toml"

MINIMAL = """
name = "t"
environment = "dev"
region = "ap-south-1"
api_url = "https://api.example.com"
[[functions]]
name = "fn"
path = "/health"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "target.toml"
    p.write_text(text)
    return p


def test_example_target_loads_with_seed_slos() -> None:
    # GIVEN the shipped example WHEN loaded THEN it has the seed's four functions and SLOs
    t = load_target(EXAMPLE)
    assert t.kind == "aws" and t.environment == "dev" and t.profile == "hasivu-dev"
    assert [f.path for f in t.functions] == [
        "/health",
        "/health/live",
        "/health/ready",
        "/health/startup",
    ]
    assert t.slos == SLOs(100, 500, 0.995, 120, 0.95)
    assert t.function("/health").provisioned_concurrency == 5
    assert t.function("health-liveness").name == "hasivu-dev-health-liveness"
    assert t.alarms == ("hasivu-dev-error-rate", "hasivu-dev-duration")


def test_minimal_target_gets_defaults(tmp_path: Path) -> None:
    t = load_target(write(tmp_path, MINIMAL))
    assert t.kind == "aws" and t.environment == "dev"
    assert t.slos == SLOs()
    assert t.functions[0].aliases == ("production", "canary")
    assert not t.is_production


def test_sandbox_target_needs_no_file() -> None:
    t = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:2", stage="qa")
    assert t.kind == "sandbox"
    assert t.function("/health").name == "hasivu-qa-health-comprehensive"
    assert "hasivu-qa-health-comprehensive-error-rate" in t.alarms
    assert t.deployment_groups[0] == "hasivu-qa-health-comprehensive"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('colour = "blue"\n' + MINIMAL, "unknown key colour; allowed: alarms"),
        (MINIMAL.replace('region = "ap-south-1"', "region = 5"), "region = 5 is invalid"),
        (MINIMAL.replace('name = "t"\n', ""), "missing key name"),
        ('kind = "gcp"\n' + MINIMAL, "kind = 'gcp' is invalid; expected one of sandbox, aws"),
        (
            MINIMAL.replace('environment = "dev"', 'environment = "prod"'),
            "expected one of dev, staging, production",
        ),
        (
            MINIMAL.replace("https://api", "ftp://api"),
            "api_url = 'ftp://api.example.com' is invalid",
        ),
        (
            MINIMAL + "[slo]\navailability = 99.5\n",
            "slo.availability = 99.5 is invalid; expected a fraction",
        ),
        (MINIMAL + "[slo]\nmttr = 1\n", "unknown key slo.mttr"),
        (MINIMAL.replace('path = "/health"', 'path = "health"'), "functions[0].path = 'health'"),
        (
            MINIMAL + '[[functions]]\nname = "g"\npath = "/health"\n',
            "two functions serve path '/health'",
        ),
        (
            MINIMAL.replace('name = "fn"', 'name = "fn"\nprovisioned_concurrency = -1'),
            "functions[0].provisioned_concurrency = -1 is invalid",
        ),
        ("name = \n", "not valid TOML"),
        (
            'name = "t"\nenvironment = "dev"\nregion = "us-east-1"\napi_url = "http://x"\n',
            "missing key functions (a non-empty array",
        ),
        (MINIMAL.replace('environment = "dev"\n', ""), "missing key environment"),
        (MINIMAL.replace("ap-south-1", "not a region!!/.."), "region = 'not a region!!/..'"),
        (MINIMAL.replace("ap-south-1", ".."), "expected an AWS Region code"),
        (MINIMAL.replace("https://api.example.com", "http://[:41415/dev"), "api_url = "),
        (
            'endpoint_url = "http://::34977"\n' + MINIMAL,
            "endpoint_url = 'http://::34977' is invalid; expected an http(s) URL",
        ),
        (MINIMAL + "[slo]\nmttr_s = inf\n", "slo.mttr_s = inf is invalid"),
        (MINIMAL + "[slo]\navailability = nan\n", "slo.availability = nan is invalid"),
        (MINIMAL.replace('name = "t"', 'name = "' + "n" * 100_000 + '"'), "(100,000 chars)"),
        (MINIMAL.replace('name = "t"', "name = true"), "name = True is invalid"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
    ],
)
def test_bad_target_names_file_key_and_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_target(path)
    message = info.value.one_line()
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="target file not found"):
        load_target(tmp_path / "nope.toml")


def test_unknown_function_lists_known(tmp_path: Path) -> None:
    t = load_target(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match=r"no function 'payments' .*known: fn"):
        t.function("payments")


SANDBOX = MINIMAL.replace('name = "t"', 'name = "t"\nkind = "sandbox"').replace(
    "https://api.example.com", "http://127.0.0.1:8080/dev"
)


def test_sandbox_target_file_names_a_loopback_endpoint(tmp_path: Path) -> None:
    good = 'endpoint_url = "http://127.0.0.1:4566"\n' + SANDBOX
    assert load_target(write(tmp_path, good)).endpoint_url == "http://127.0.0.1:4566"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # issue 13: a sandbox target without endpoint would silently talk to real AWS
        (SANDBOX, "kind = 'sandbox' needs endpoint_url"),
        (
            'endpoint_url = "https://lambda.ap-south-1.amazonaws.com"\n' + SANDBOX,
            "endpoint_url = 'https://lambda.ap-south-1.amazonaws.com' is not loopback",
        ),
        (
            'endpoint_url = "http://127.0.0.1:4566"\n'
            + SANDBOX.replace("http://127.0.0.1:8080/dev", "https://api.example.com"),
            "api_url = 'https://api.example.com' is not loopback",
        ),
        (
            'endpoint_url = "http://localhost:4566"\n' + MINIMAL,
            "is loopback but kind = 'aws'",
        ),
        (MINIMAL.replace("https://api.example.com", "http://[::1]:9/x"), "allow_loopback"),
    ],
)
def test_target_kind_and_endpoint_must_agree(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_target(path)
    assert expected in info.value.one_line()
    assert str(path) in info.value.one_line()


def test_aws_target_may_point_at_loopback_when_it_says_so(tmp_path: Path) -> None:
    text = "allow_loopback = true\n" + MINIMAL.replace(
        "https://api.example.com", "http://127.0.0.1:9"
    )
    assert load_target(write(tmp_path, text)).api_url == "http://127.0.0.1:9"


def test_sandbox_target_declares_its_class() -> None:
    assert sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:2").environment == "dev"
    staging = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:2", environment="staging")
    assert staging.environment == "staging" and not staging.is_production


def test_unknown_environment_class_is_production() -> None:
    # A Target built in code with a class the file schema would refuse fails closed.
    t = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:2").with_overrides(
        environment="prod"
    )
    assert t.is_production


def test_invalid_utf8_and_huge_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_target(bad)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    with pytest.raises(ConfigError, match="larger than 4 MiB"):
        load_target(big)
    with pytest.raises(ConfigError, match="is a directory"):
        load_target(tmp_path)
