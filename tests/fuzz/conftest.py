"""Fuzz suite setup: a clean environment so no case picks up a developer's target."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GAMEDAY_TARGET", "GAMEDAY_LEDGER", "GAMEDAY_REPORT_DIR", "GAMEDAY_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GAMEDAY_SLACK_WEBHOOK", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
