"""Verdicts need evidence: no data is a failure, an availability the bound cannot assert is
INCONCLUSIVE, a cold start is judged by its own SLO, a target that could not be used gives
no verdict at all. Pure: hand-built samples and results."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gameday_samples import T0, run

from lambda_gameday.config import SLOs, sandbox_target
from lambda_gameday.gameday.measure import Sample, endpoint_stats, latency_slos
from lambda_gameday.gameday.model import PhaseResult, SLOResult
from lambda_gameday.gameday.plan import SyntheticsOptions, default_plan
from lambda_gameday.report import render_json, render_junit, render_markdown
from lambda_gameday.stats import probes_needed

TARGET = sandbox_target("http://127.0.0.1:1/dev", "http://127.0.0.1:2")


def samples(n: int, ms: float = 5.0, *, failed: int = 0, cold: bool | None = False) -> list[Sample]:
    out = [Sample(T0 + i, ms, True, cold) for i in range(n - failed)]
    out += [Sample(T0 + n + i, None, False, None) for i in range(failed)]
    return out


def by_metric(slos: list[SLOResult]) -> dict[str, SLOResult]:
    return {s.metric: s for s in slos}


def test_no_successful_sample_is_fail_no_data_never_pass_at_0_ms() -> None:
    # GIVEN 76 probes that all failed without a response (the unusable target)
    stats = endpoint_stats("/health", samples(76, failed=76), 0.995)
    slos = by_metric(latency_slos([stats], TARGET))
    p95 = slos["latency_p95"]
    assert not p95.passed and p95.mark == "NO DATA" and p95.breached
    assert "no data (0 successful samples)" in p95.sentence()
    assert slos["availability"].mark == "FAIL"


def test_the_p95_slo_is_warm_and_cold_starts_are_their_own_row() -> None:
    # GIVEN 600 warm probes at 5 ms and 40 cold starts at 160 ms the target marked as such
    probes = samples(600) + [Sample(T0 + 700 + i, 160.0, True, True) for i in range(40)]
    stats = endpoint_stats("/health", probes, 0.995)
    slos = by_metric(latency_slos([stats], TARGET))
    # THEN the p95 judges the warm probes only (40 cold of 640 would otherwise be the p95)
    assert slos["latency_p95"].passed and slos["latency_p95"].measured == pytest.approx(
        5.0, abs=0.01
    )
    assert slos["latency_p95"].samples == 600
    assert "40 cold start(s) excluded" in slos["latency_p95"].detail
    # AND the cold starts are judged against the cold-start SLO (500 ms), in their own row
    cold = slos["cold_start"]
    assert cold.passed and cold.samples == 40 and cold.budget == 500.0


def test_unmarked_probes_are_all_in_the_p95_and_say_so() -> None:
    stats = endpoint_stats("/health", samples(600, cold=None), 0.995)
    slos = latency_slos([stats], TARGET)
    assert "cold_start" not in by_metric(slos)
    assert "does not mark cold starts" in by_metric(slos)["latency_p95"].detail


def test_availability_the_bound_cannot_assert_is_inconclusive() -> None:
    # GIVEN 200 clean probes: 100 % measured, but the 95 % lower bound is ~98.5 %
    stats = endpoint_stats("/health", samples(200), 0.995)
    avail = by_metric(latency_slos([stats], TARGET))["availability"]
    assert avail.mark == "INCONCLUSIVE" and not avail.passed and not avail.breached
    assert "398 more good probes needed" in avail.detail
    # AND with 598 clean probes it is asserted
    enough = endpoint_stats("/health", samples(probes_needed(0.995, 0)), 0.995)
    assert by_metric(latency_slos([enough], TARGET))["availability"].mark == "PASS"
    # AND a measured value below the target is a plain FAIL, whatever the sample size
    bad = endpoint_stats("/health", samples(200, failed=5), 0.995)
    assert by_metric(latency_slos([bad], TARGET))["availability"].mark == "FAIL"


def test_the_default_plan_can_assert_its_availability_slo() -> None:
    (synthetics,) = [p for p in default_plan().phases if p.kind == "synthetics"]
    assert isinstance(synthetics.options, SyntheticsOptions)
    assert synthetics.options.probes >= probes_needed(SLOs().availability, 0)


def _inconclusive_run() -> tuple[PhaseResult, ...]:
    base = run()
    synth = next(p for p in base.phases if p.kind == "synthetics")
    unsure = SLOResult.check(
        "availability",
        "/health",
        1.0,
        0.995,
        ">=",
        "%",
        200,
        label="availability",
        lower_bound=0.985,
        assert_bound=True,
    )
    synth = replace(synth, status="inconclusive", slos=(synth.slos[0], unsure))
    return tuple(synth if p.kind == "synthetics" else p for p in base.phases)


def test_an_inconclusive_run_is_neither_pass_nor_fail_in_every_format() -> None:
    result = replace(run(), phases=_inconclusive_run())
    assert result.verdict == "inconclusive"
    assert result.failures() == []
    assert result.headline().startswith("INCONCLUSIVE:")
    md = render_markdown(result)
    assert "❔ INCONCLUSIVE" in md and "## Not enough evidence (inconclusive)" in md
    assert "| ✅ PASS | synthetics | p95 |" in md  # rows name their phase
    junit = render_junit(result)
    assert 'skipped message="INCONCLUSIVE: availability of /health' in junit
    assert '"verdict": "inconclusive"' in render_json(result)


def test_an_unusable_target_outranks_every_other_verdict() -> None:
    base = run(p95=250.0)  # a failing phase...
    gone = PhaseResult(
        "load", "load", "unusable", T0, T0 + 1, message="target became unusable during load"
    )
    result = replace(base, phases=(*base.phases, gone))
    assert result.verdict == "unusable"
    assert result.headline().startswith("TARGET UNUSABLE:")


def test_faults_not_removed_are_listed_once_with_the_cleanup_command() -> None:
    result = replace(
        run(),
        faults_not_removed=("canary on hasivu-dev-health-liveness: cannot reach the endpoint",),
        cleanup_command="gameday cleanup --target t.toml --ledger .gameday/ledger.jsonl",
    )
    md = render_markdown(result)
    assert md.count("## Faults NOT removed") == 1
    assert md.count("canary on hasivu-dev-health-liveness") == 1
    assert "`gameday cleanup --target t.toml --ledger .gameday/ledger.jsonl`" in md


def test_a_warning_is_in_the_report_and_not_in_the_verdict() -> None:
    result = replace(run(), warnings=("notification not sent: Slack webhook at h: ConnectError",))
    assert result.verdict == "pass"
    assert "## Warnings" in render_markdown(result)


def test_tables_wrap_at_80_columns_instead_of_cutting_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console

    from lambda_gameday.gameday import view

    def shown() -> str:
        console = Console(width=80, record=True, color_system=None)
        view.print_run(console, run())
        return console.export_text()

    assert "…" not in shown()
    # (rich's default cuts cells with an ellipsis at this width: the check can fail)
    monkeypatch.setattr(view, "wrapping", lambda table: table)
    assert "…" in shown()
