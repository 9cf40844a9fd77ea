"""A game day whose final sweep could not remove a fault never passes."""

from __future__ import annotations

from dataclasses import replace

from gameday_samples import T0, run

from lambda_gameday.gameday.model import PhaseResult
from lambda_gameday.report import render_json


def test_faults_left_in_place_make_a_passing_run_fail() -> None:
    passing = run()
    assert passing.verdict == "pass"
    left = replace(
        passing,
        faults_not_removed=("reserved concurrency 0 on fn (...); to remove by hand: ...",),
        cleanup_command="gameday cleanup --target t.toml --ledger .gameday/ledger.jsonl",
    )
    assert left.verdict == "fail"
    assert left.headline().startswith("FAIL:") and "faults may still be in place" in left.headline()
    assert '"verdict": "fail"' in render_json(left)
    # a target that died still reads as unusable (its faults are listed, exit 3)
    gone = PhaseResult("load", "load", "unusable", T0, T0 + 1, message="target became unusable")
    assert replace(left, phases=(*left.phases, gone)).verdict == "unusable"
    assert replace(left, interrupted=True).verdict == "interrupted"
