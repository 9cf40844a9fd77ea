"""The MTTR timeline is pure: milestones and probes in, phases and durations out."""

from __future__ import annotations

import pytest

from lambda_gameday.chaos.timeline import Milestones, ProbeRecord, build_timeline

T0 = 1_700_000_000.0


def probes(pattern: str, start: float = T0 - 1.0, step: float = 0.5) -> list[ProbeRecord]:
    """'.' good, 'x' failed: one probe every `step` seconds from `start`."""
    return [
        ProbeRecord(
            start + i * step,
            start + i * step + 0.01,
            200 if c == "." else 502,
            c == ".",
            "2" if c == "x" else "1",
        )
        for i, c in enumerate(pattern)
    ]


FULL = Milestones(
    fault_injected=T0,
    alarm_fired=T0 + 10,
    rollback_started=T0 + 11,
    alias_restored=T0 + 14,
    alarm_ok=T0 + 30,
    alarm="hasivu-dev-health-liveness-error-rate",
    faulty_version="2",
)


def test_complete_run_reports_every_duration_and_no_broken_phase() -> None:
    # GIVEN a fault at T0, failures from T0+1 to T0+14, good probes after
    pattern = "..." + ".x" * 14 + "." * 20
    tl = build_timeline(probes(pattern), FULL, budget_s=120, sustain=5)
    # THEN
    assert tl.broken_phase is None
    assert tl.time_to_detect == pytest.approx(10)
    assert tl.time_to_roll_back == pytest.approx(4)
    assert tl.first_failed_request == pytest.approx(T0 + 1.0)
    # the final streak starts right after the last failure (index 3 + 27 = 30 -> +1)
    assert tl.first_sustained_success == pytest.approx(T0 - 1.0 + 31 * 0.5)
    assert tl.time_to_recover == pytest.approx(14.5)
    assert tl.within_budget


def test_blast_radius_counts_failures_and_faulty_version_until_recovery() -> None:
    pattern = "..." + ".x" * 14 + "." * 20
    tl = build_timeline(probes(pattern), FULL, sustain=5)
    b = tl.blast_radius
    # probes from T0 (index 2) until recovery (index 31): 29 probes, 14 failed
    assert (b.probes, b.failed, b.served_by_faulty) == (29, 14, 14)
    assert b.share_failed == pytest.approx(14 / 29)


def test_short_streaks_during_the_fault_are_not_recovery() -> None:
    # GIVEN good streaks of 4 between failures and a final streak of only 3
    tl = build_timeline(probes("..x....x....x..."), FULL, sustain=5)
    assert tl.first_sustained_success is None
    assert tl.broken_phase == "recover"


def test_missing_alarm_is_reported_as_the_detect_phase() -> None:
    m = Milestones(fault_injected=T0, alarm="a")
    tl = build_timeline(probes("..xxxx" + "." * 10), m, sustain=5)
    assert tl.broken_phase == "detect"
    texts = tl.to_dict()["problems"]
    assert "the alarm never reached ALARM (a)" in texts[0]
    assert any("rollback" in t for t in texts)


def test_missing_rollback_reported_when_alarm_fired() -> None:
    m = Milestones(fault_injected=T0, alarm_fired=T0 + 5, alarm_ok=T0 + 9, alarm="a")
    tl = build_timeline(probes("..xxxx" + "." * 10), m, sustain=5)
    assert tl.broken_phase == "rollback_start"


def test_over_budget_is_its_own_phase() -> None:
    m = Milestones(T0, T0 + 100, T0 + 101, T0 + 130, T0 + 140, "a")
    pts = [ProbeRecord(T0 + 1, T0 + 1, 502, False)] + [
        ProbeRecord(T0 + 131 + i, T0 + 131 + i, 200, True) for i in range(6)
    ]
    tl = build_timeline(pts, m, budget_s=120, sustain=5)
    assert tl.time_to_recover == pytest.approx(131)
    assert not tl.within_budget
    assert tl.broken_phase == "budget"
    assert "131.0s > 120s" in tl.problems[0][1]


def test_drill_without_alarm_or_rollback_expectations() -> None:
    m = Milestones(fault_injected=T0)
    tl = build_timeline(
        probes("..xx" + "." * 6), m, sustain=5, expect_alarm=False, expect_rollback=False
    )
    assert tl.broken_phase is None
    assert tl.time_to_detect is None


def test_no_impact_is_reported() -> None:
    tl = build_timeline(probes("." * 10), FULL, sustain=5)
    assert tl.broken_phase == "impact"


def test_render_and_dict_agree() -> None:
    tl = build_timeline(probes("..." + ".x" * 4 + "." * 8), FULL, sustain=5)
    d = tl.to_dict()
    text = "\n".join(tl.render())
    assert "+10.000s  alarm ALARM (hasivu-dev-health-liveness-error-rate)" in text
    assert d["time_to_detect_s"] == pytest.approx(10)
    assert d["blast_radius"]["failed"] == 4


def test_a_lucky_streak_before_the_rollback_is_not_recovery() -> None:
    # GIVEN a 10 % canary: failures are rare, the last one well before the rollback
    m = Milestones(T0, T0 + 5, T0 + 6, T0 + 8, T0 + 10, "a")
    tl = build_timeline(probes("..x" + "." * 30), m, sustain=5)
    # THEN users count as recovered from the first probe sent after the alias was restored
    assert tl.first_sustained_success == pytest.approx(T0 + 8.0)


def test_a_fault_the_harness_removed_is_no_platform_mttr() -> None:
    # GIVEN throttling: users fail, the method's restore step removes the fault, users recover
    m = Milestones(fault_injected=T0, fault_removed_by_harness=T0 + 2.0)
    tl = build_timeline(probes("..xxxxx" + "." * 8), m, sustain=5, expect_alarm=False)
    # THEN nothing broke (the expected "rollback" is the harness's), but no MTTR is claimed
    assert tl.broken_phase is None
    assert tl.recovered_by_harness and not tl.mttr_claimed and tl.mttr is None
    assert tl.time_to_recover is not None
    text = "\n".join(tl.render())
    assert "recovered by harness rollback, no platform MTTR claimed" in text
    assert "fault removed by harness rollback" in text
    assert "alias restored" not in text and "rollback started" not in text
    assert "OVER budget" not in text and "within budget" not in text
    assert tl.to_dict()["mttr_s"] is None


def test_milestones_the_experiment_does_not_expect_are_not_applicable() -> None:
    # GIVEN the notification drill: no impact, alarm or rollback expected
    tl = build_timeline(
        probes("." * 20),
        Milestones(),
        sustain=1,
        expect_alarm=False,
        expect_rollback=False,
        expect_impact=False,
    )
    text = "\n".join(tl.render())
    assert tl.broken_phase is None
    assert "not seen" not in text and "OVER budget" not in text
    assert "alarm ALARM (?): not applicable to this experiment" in text
    assert "MTTR: not applicable" in text


def test_an_expected_milestone_never_seen_breaks_the_run() -> None:
    tl = build_timeline(probes("..xxx" + "." * 8), Milestones(fault_injected=T0), sustain=5)
    assert tl.broken_phase == "detect"
    assert "alarm ALARM (?): not seen" in "\n".join(tl.render())


def test_a_notification_drill_shows_its_own_milestones_and_breaks_without_the_message() -> None:
    drill = {
        "expect_alarm": False,
        "expect_rollback": False,
        "expect_impact": False,
        "expect_notification": True,
    }
    seen = Milestones(alarm="a", alarm_forced=T0, notification_received=T0 + 0.5, alarm_ok=T0 + 3)
    tl = build_timeline(probes("." * 10), seen, sustain=1, **drill)  # type: ignore[arg-type]
    text = "\n".join(tl.render())
    assert tl.broken_phase is None
    assert "+0.000s  alarm set to ALARM by the drill (a)" in text
    assert "+0.500s  notification received" in text and "+3.000s  alarm OK" in text
    # WHEN the message never arrives THEN the run breaks at notify, naming it
    lost = Milestones(alarm="a", alarm_forced=T0, alarm_ok=T0 + 3)
    tl = build_timeline(probes("." * 10), lost, sustain=1, **drill)  # type: ignore[arg-type]
    assert tl.broken_phase == "notify"
    assert "notification received: not seen" in "\n".join(tl.render())
