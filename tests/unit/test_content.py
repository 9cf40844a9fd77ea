"""Content folders are found from any working directory in a source checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.chaos.runner import resolve_experiment
from lambda_gameday.content import content_path
from lambda_gameday.exceptions import ConfigError


def test_working_directory_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "experiments").mkdir()
    monkeypatch.chdir(tmp_path)
    assert content_path("experiments") == Path("experiments")


def test_falls_back_to_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = resolve_experiment("faulty-canary")
    assert found.is_absolute()
    assert found.name == "faulty-canary.json"


def test_unknown_experiment_lists_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"no experiment 'nope' .*known: .*faulty-canary"):
        resolve_experiment("nope")
