"""Fixtures for functional tests: a real sandbox (moto endpoint + gateway on 127.0.0.1).

moto's backends are process-global, so one sandbox runs at a time: `sandbox` is
module-scoped and a module that needs different settings starts its own with
`Sandbox(SandboxConfig(...))` (never while another one is running).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.cli.sandbox_cmd import target_toml
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.describe import describe

# Short but honest timings: a cold start is clearly visible, nothing waits long.
TEST_CONFIG = SandboxConfig(init_duration_ms=100.0, seed=7, integration_timeout_s=29.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A started sandbox with the seed's stack, shared by the tests of one module."""
    with Sandbox(TEST_CONFIG) as sb:
        yield sb


@pytest.fixture(scope="module")
def sandbox_client(sandbox: Sandbox) -> Callable[[str], Any]:
    """`sandbox_client("lambda")`: a boto3 client for the sandbox endpoint (own session)."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=sandbox.config.region,
    )
    cache: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=sandbox.endpoint_url)  # type: ignore[call-overload]
        return cache[service]

    return make


@pytest.fixture(scope="module")
def target_file(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The target file `gameday sandbox --target-out` writes for this sandbox: what a user
    points other commands (and the stock `chaos run`) at."""
    path = tmp_path_factory.mktemp("target") / "sandbox.toml"
    path.write_text(target_toml(describe(sandbox)), encoding="utf-8")
    return path
