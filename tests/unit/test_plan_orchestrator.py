"""The orchestrator's guarantees, with no target at all: production refusal before
anything runs, a phase's crash recorded (not raised), a report directory per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.config import FunctionSpec, Target
from lambda_gameday.exceptions import ConfigError, SafetyError
from lambda_gameday.gameday import orchestrator
from lambda_gameday.gameday.model import PhaseResult
from lambda_gameday.gameday.orchestrator import GameDay, prepare_report_dir
from lambda_gameday.gameday.phases.common import PhaseContext
from lambda_gameday.gameday.plan import PhaseSpec, parse_plan


def target(environment: str = "dev") -> Target:
    return Target(
        name="t",
        kind="aws",
        environment=environment,  # type: ignore[arg-type]
        region="ap-south-1",
        api_url="http://127.0.0.1:9",
        functions=(FunctionSpec("fn", "/health"),),
    )


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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    monkeypatch.setattr(orchestrator, "cleanup_faults", lambda ctx: [])
    result, out = GameDay(plan("lint", "conformance"), target(), report_parent=tmp_path).run()  # type: ignore[arg-type]
    assert calls == ["lint", "conformance"]
    assert result.verdict == "error"
    assert result.phases[0].status == "error"
    assert "RuntimeError: bug in a phase" in result.phases[0].message
    assert out is not None and out.parent == tmp_path


def test_report_dir_is_never_reused(tmp_path: Path) -> None:
    prepare_report_dir(tmp_path, "run-1")
    with pytest.raises(ConfigError, match="already exists"):
        prepare_report_dir(tmp_path, "run-1")
