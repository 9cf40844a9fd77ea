"""Matching invocations with their REPORT lines when the Invoke response carries no
request id (the time-window fallback of the cold-start and provisioned probes)."""

from __future__ import annotations

from lambda_gameday.synthetics.coldstart import InvokeSample, ReportLine, match_reports


def _sample(start: float, client_ms: float, request_id: str | None = None) -> InvokeSample:
    return InvokeSample(started_at=start, client_ms=client_ms, request_id=request_id)


def _line(request_id: str, at: float) -> ReportLine:
    return ReportLine(request_id, 1.0, None, at)


def test_a_later_invocation_that_returns_first_keeps_its_line() -> None:
    # The shape of the flake, as captured from a failing provisioned probe: five
    # concurrent invocations; the 4th started returned first (window ends at .4256 s),
    # while the three started before it stayed in flight past the lines at .431 s.
    # Start-order greedy gave the 1st-3rd the lines at .422/.425/.428 and left the 4th
    # none (its window closes before .431), whatever the wait.
    samples = [
        _sample(66.4067338, 24.876),
        _sample(66.4070537, 22.809),
        _sample(66.4079442, 22.766),
        _sample(66.4087605, 16.863),
        _sample(66.4102309, 21.827),
    ]
    lines = [
        _line("a", 66.422),
        _line("b", 66.425),
        _line("c", 66.428),
        _line("d", 66.431),
        _line("e", 66.431),
        _line("earlier-probe", 66.050),  # outside every window
    ]
    found: dict[int, ReportLine] = {}
    match_reports(samples, lines, found)
    assert sorted(found) == [0, 1, 2, 3, 4]
    assert found[3].timestamp <= 66.4087605 + 0.016863 + 0.005  # within its own window
    assert len({line.request_id for line in found.values()}) == 5
    assert "earlier-probe" not in {line.request_id for line in found.values()}


def test_nested_windows_each_line_goes_to_the_invocation_in_flight() -> None:
    # A starts first and returns last; B runs entirely inside A's window.
    a, b = _sample(10.0, 500.0), _sample(10.1, 100.0)
    found: dict[int, ReportLine] = {}
    match_reports([a, b], [_line("B", 10.2), _line("A", 10.5)], found)
    assert found[0].request_id == "A" and found[1].request_id == "B"


def test_a_request_id_is_authoritative_and_its_line_is_not_given_away() -> None:
    with_id = _sample(10.0, 100.0, request_id="mine")
    without = _sample(10.0, 100.0)
    found: dict[int, ReportLine] = {}
    match_reports([with_id, without], [_line("other", 10.05)], found)
    assert found == {1: _line("other", 10.05)}  # the id's own line has not arrived yet
    match_reports([with_id, without], [_line("other", 10.05), _line("mine", 10.06)], found)
    assert found[0].request_id == "mine" and found[1].request_id == "other"


def test_no_line_outside_the_window_and_no_line_twice() -> None:
    samples = [_sample(10.0, 10.0), _sample(10.0, 10.0)]
    found: dict[int, ReportLine] = {}
    match_reports(samples, [_line("x", 10.005), _line("late", 10.2)], found)
    assert list(found.values()) == [_line("x", 10.005)]
