"""The orchestrator's guarantees, with no target at all: production refusal before
anything runs, a phase's crash recorded (not raised), a report directory per run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_gameday.config import FunctionSpec, Target
from lambda_gameday.exceptions import ConfigError, SafetyError
from lambda_gameday.gameday import orchestrator
from lambda_gameday.gameday.model import PhaseResult
from lambda_gameday.gameday.orchestrator import GameDay, prepare_report_dir
from lambda_gameday.gameday.phases.common import PhaseContext
from lambda_gameday.gameday.plan import PhaseSpec, parse_plan


def target(environment: str = "dev", api_url: str = "http://127.0.0.1:9") -> Target:
    return Target(
        name="t",
        kind="aws",
        environment=environment,  # type: ignore[arg-type]
        region="ap-south-1",
        api_url=api_url,
        functions=(FunctionSpec("fn", "/health"),),
    )


@pytest.fixture
def listening_url() -> Iterator[str]:
    """A loopback port that accepts connections: the orchestrator's reachability check
    passes (it only connects), so the phases under test decide the verdict."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/dev"


def plan(*kinds: str) -> object:
    return parse_plan({"name": "p", "phases": list(kinds)}, "<test>")


def test_destructive_phases_are_refused_against_production(tmp_path: Path) -> None:
    gd = GameDay(plan("conformance", "chaos"), target("production"), report_parent=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(SafetyError, match=r"phase 'chaos' .*--allow-production"):
        gd.run()
    assert list(tmp_path.iterdir()) == []  # refused before anything was written
    GameDay(
        plan("chaos"),
        target("production"),
        report_parent=None,  # type: ignore[arg-type]
        allow_production=True,
    ).check_safety()


def test_a_crashing_phase_is_recorded_and_later_phases_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listening_url: str
) -> None:
    calls: list[str] = []

    def boom(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
        calls.append(spec.name)
        raise RuntimeError("bug in a phase")

    def fine(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
        calls.append(spec.name)
        return PhaseResult(spec.name, spec.kind, "passed", 0.0, 1.0)

    monkeypatch.setitem(orchestrator.PHASES, "lint", boom)
    monkeypatch.setitem(orchestrator.PHASES, "conformance", fine)
    monkeypatch.setattr(orchestrator, "cleanup_faults", lambda ctx: ([], []))
    gameday = GameDay(
        plan("lint", "conformance"), target(api_url=listening_url), report_parent=tmp_path
    )  # type: ignore[arg-type]
    result, out = gameday.run()
    assert calls == ["lint", "conformance"]
    assert result.verdict == "error"
    assert result.phases[0].status == "error"
    assert "RuntimeError: bug in a phase" in result.phases[0].message
    assert out is not None and out.parent == tmp_path


def test_report_dir_is_never_reused(tmp_path: Path) -> None:
    prepare_report_dir(tmp_path, "run-1")
    with pytest.raises(ConfigError, match="already exists"):
        prepare_report_dir(tmp_path, "run-1")


def test_an_unreachable_target_stops_the_run_before_the_first_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a target whose API port refuses connections (bound, then closed)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    calls: list[str] = []

    def fine(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
        calls.append(spec.name)
        return PhaseResult(spec.name, spec.kind, "passed", 0.0, 1.0)

    monkeypatch.setitem(orchestrator.PHASES, "conformance", fine)
    monkeypatch.setitem(orchestrator.PHASES, "lint", fine)
    gameday = GameDay(
        plan("conformance", "lint"),
        target(api_url=f"http://127.0.0.1:{port}/dev"),
        report_parent=tmp_path,  # type: ignore[arg-type]
    )
    result, _ = gameday.run()
    # THEN no phase ran, the verdict is neither pass nor fail, and the message says why
    assert calls == []
    assert result.verdict == "unusable"
    assert [p.status for p in result.phases] == ["unusable"]
    assert "refused the connection" in result.phases[0].message
    assert result.slos() == []
