"""Top-level pytest setup: keep every test on loopback and away from real AWS.

Tests reach the sandbox through endpoint URLs they are given; nothing may fall back to a
real account because the developer's shell happens to have credentials or a profile.
"""

from __future__ import annotations

import os
import random

import pytest

_AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "GAMEDAY_TARGET",
)


def pytest_configure(config: pytest.Config) -> None:
    for name in _AWS_ENV_TO_CLEAR:
        os.environ.pop(name, None)
    # Dummy credentials: anything that escapes the sandbox fails to sign for a real account.
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "ap-south-1"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def _seeded_random() -> None:
    random.seed(1234)
