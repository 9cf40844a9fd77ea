"""FIS on the timeline: ramp-up and ramp-down measured from traffic, "fault never reached
traffic" as its own verdict (never a detection failure), and the lint's budget arithmetic
with the FIS ramp-up added."""

from __future__ import annotations

from lambda_gameday.chaos.lint import AlarmSpec, LintInputs, lint
from lambda_gameday.chaos.timeline import Milestones, ProbeRecord, build_timeline


def probes(spec: str, start: float = 100.0, step: float = 1.0) -> list[ProbeRecord]:
    """One probe per character: '.' ok and fast, 'x' failed, 's' ok but slow (3 s)."""
    out = []
    for i, c in enumerate(spec):
        at = start + i * step
        took = 3.0 if c == "s" else 0.05
        out.append(ProbeRecord(at, at + took, 500 if c == "x" else 200, c != "x"))
    return out


def test_ramp_up_and_ramp_down_come_from_traffic() -> None:
    # requested at 103; first evidence at 106 (ramp-up 3 s); removal at 110; the last
    # failure at 112, so the fault is gone from traffic at 113 (ramp-down 3 s)
    traffic = probes("......xxxxxxx" + "." * 10)
    m = Milestones(
        fault_injected=103.0,
        fault_requested=103.0,
        ramp_up_bound_s=75.0,
        fault_removal_requested=110.0,
        alarm_fired=108.0,
        alarm_ok=120.0,
        rollback_started=114.0,
        alias_restored=114.5,
    )
    tl = build_timeline(traffic, m, sustain=5)
    assert tl.fault_active == 106.0 and tl.ramp_up == 3.0
    assert tl.fault_inactive == 113.0 and tl.ramp_down == 3.0
    assert tl.broken_phase is None
    text = "\n".join(tl.render())
    assert "fault active in traffic (ramp-up 3.0s)" in text and "ramp-down 3.0s" in text
    assert tl.to_dict()["ramp_up_s"] == 3.0


def test_a_slowed_probe_is_evidence_too() -> None:
    traffic = probes("....ss....")
    m = Milestones(fault_injected=102.0, fault_requested=102.0, ramp_up_bound_s=10.0)
    tl = build_timeline(traffic, m, expect_alarm=False, expect_rollback=False)
    assert tl.fault_active == 104.0


def test_a_fault_never_seen_within_the_bound_is_not_a_detection_failure() -> None:
    traffic = probes("." * 30)
    m = Milestones(fault_injected=102.0, fault_requested=102.0, ramp_up_bound_s=10.0)
    tl = build_timeline(traffic, m)
    assert tl.broken_phase == "reach"
    assert [p for p, _ in tl.problems] == ["reach"]  # no "detect", no "impact"
    assert "fault never reached traffic" in tl.to_dict()["problems"][0]


def test_evidence_after_the_bound_is_still_never_reached() -> None:
    traffic = probes("." * 20 + "xxx")
    m = Milestones(fault_injected=102.0, fault_requested=102.0, ramp_up_bound_s=10.0)
    assert build_timeline(traffic, m).broken_phase == "reach"


def test_without_a_bound_a_silent_fault_stays_an_impact_failure() -> None:
    # synchronous backends (failure-lambda, extension) report no bound: as before
    traffic = probes("." * 30)
    m = Milestones(fault_injected=102.0, fault_requested=102.0)
    assert build_timeline(traffic, m).broken_phase == "impact"


def test_lint_adds_the_fis_ramp_up_to_detection() -> None:
    alarm = AlarmSpec("fast", "Custom/Synthetics", "SuccessPercent", 10, 3, 90, "LessThanThreshold")
    # 10 s x 3 = 30 s: fits a 60 s budget alone, not with up to 60 s of FIS ramp-up
    assert not [f for f in lint(LintInputs([alarm], budget_s=60)) if f.rule.startswith("detect")]
    found = [
        f
        for f in lint(LintInputs([alarm], budget_s=60, fis_ramp_up_s=60.0))
        if f.rule == "detection-over-budget"
    ]
    assert len(found) == 1 and "up to 60 s FIS ramp-up" in found[0].message
