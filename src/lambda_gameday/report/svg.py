"""Inline SVG charts for the HTML report: no scripts, no fonts, no network.

Every chart is a complete `<svg>` element string with a `<title>` for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from ..gameday.model import EndpointStats, Timeline

__all__ = ["availability_chart", "coldwarm_chart", "histogram_chart", "timeline_chart"]

_OK, _BAD, _INK, _MUTED, _ACCENT = "#1a7f37", "#cf222e", "#24292f", "#8c959f", "#0969da"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, title: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    s: str,
    *,
    anchor: str = "start",
    size: int = 11,
    fill: str = _INK,
    extra: str = "",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-family="sans-serif"{extra}>{_e(s)}</text>'
    )


def timeline_chart(t: Timeline, width: int = 760, height: int = 260) -> str:
    """Probe latency over time (green ok, red failed) with the MTTR steps as vertical lines
    and the budget as a shaded band from the fault."""
    times = [e.at for e in t.events if e.at is not None] + [p[0] for p in t.probes]
    left, right, top, bottom = 60, 20, 20, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#f6f8fa" '
        f'stroke="{_MUTED}" stroke-width="0.5"/>'
    ]
    if not times:
        body.append(_text(width / 2, height / 2, "no events recorded", anchor="middle"))
        return _svg(width, height, f"timeline of {t.experiment}", body, "chart timeline")
    t0 = next((e.at for e in t.events if e.at is not None), min(times))
    t_end = max(max(times), t0 + 1.0)
    start = min(min(times), t0)
    span = max(t_end - start, 1.0)

    def x(at: float) -> float:
        return left + (at - start) / span * plot_w

    max_ms = max((p[2] for p in t.probes), default=1.0) or 1.0
    log_max = math.log10(max(max_ms, 1.0) * 1.2 + 1)

    def y(ms: float) -> float:
        return top + plot_h - math.log10(ms + 1) / log_max * plot_h

    budget_w = max(x(min(t0 + t.budget_s, t_end)) - x(t0), 0)
    body.append(
        f'<rect class="budget" x="{x(t0):.1f}" y="{top}" width="{budget_w:.1f}" '
        f'height="{plot_h}" fill="{_ACCENT}" fill-opacity="0.06"/>'
    )
    for at, ok, ms in t.probes:
        body.append(
            f'<circle class="probe {"ok" if ok else "fail"}" cx="{x(at):.1f}" cy="{y(ms):.1f}" '
            f'r="2" fill="{_OK if ok else _BAD}"/>'
        )
    for i, e in enumerate(t.events):
        if e.at is None:
            continue
        xx = x(e.at)
        ty = top + 12 + (i % 4) * 12
        body.append(
            f'<line class="event" x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + plot_h}" '
            f'stroke="{_INK}" stroke-dasharray="3,2" stroke-width="1"/>'
        )
        body.append(_text(xx + 3, ty, f"{e.label} (+{e.at - t0:.1f} s)", size=10))
    # axes
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        at = start + frac * span
        body.append(_text(x(at), top + plot_h + 14, f"{at - t0:+.0f} s", anchor="middle", size=10))
    for ms in (1, 10, 100, 1000, 10000):
        if ms <= max_ms * 1.2:
            body.append(_text(left - 4, y(ms) + 3, f"{ms} ms", anchor="end", size=10))
    never = [e.label for e in t.events if e.at is None]
    legend = "green: good probe · red: failed probe · shaded: MTTR budget from the fault"
    body.append(_text(left, height - 30, legend, size=10, fill=_MUTED))
    if never:
        body.append(_text(left, height - 14, "never happened: " + ", ".join(never), fill=_BAD))
    return _svg(width, height, f"MTTR timeline of {t.experiment}", body, "chart timeline")


def histogram_chart(e: EndpointStats, budget_ms: float, width: int = 360, height: int = 160) -> str:
    """Latency distribution of one endpoint (log-spaced buckets) with the budget marked."""
    left, right, top, bottom = 36, 10, 10, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    buckets = list(e.histogram)
    if not buckets:
        body.append(_text(width / 2, height / 2, "no samples", anchor="middle"))
        return _svg(width, height, f"latency histogram of {e.path}", body, "chart histogram")
    peak = max(c for _, c in buckets) or 1
    bar_w = plot_w / len(buckets)
    for i, (upper, count) in enumerate(buckets):
        h = count / peak * plot_h
        over = upper > budget_ms
        body.append(
            f'<rect class="bar" x="{left + i * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{_BAD if over else _ACCENT}">'
            f"<title>{_e(f'≤ {upper:.2f} ms: {count}')}</title></rect>"
        )
    first, last = buckets[0][0], buckets[-1][0]
    body.append(_text(left, height - 20, f"{first:.1f} ms", size=10))
    body.append(_text(width - right, height - 20, f"{last:.1f} ms", anchor="end", size=10))
    body.append(
        _text(
            left,
            height - 6,
            f"p50 {e.p50_ms:.1f} · p95 {e.p95_ms:.1f} · p99 {e.p99_ms:.1f} ms",
            size=10,
            fill=_MUTED,
        )
    )
    return _svg(width, height, f"latency histogram of {e.path}", body, "chart histogram")


def _hbar_rows(
    rows: Sequence[tuple[str, list[tuple[float, str, str]]]],
    scale: float,
    marker: float | None,
    marker_label: str,
    title: str,
    css: str,
) -> str:
    width, left, row_h = 560, 150, 22
    height = 24 + row_h * len(rows) + 20
    plot_w = width - left - 20
    body: list[str] = []
    for i, (label, bars) in enumerate(rows):
        y0 = 14 + i * row_h
        body.append(_text(left - 6, y0 + 12, label, anchor="end"))
        for j, (value, colour, tip) in enumerate(bars):
            w = max(min(value / scale, 1.0), 0.0) * plot_w
            body.append(
                f'<rect class="bar" x="{left}" y="{y0 + j * 8:.1f}" width="{w:.1f}" height="7" '
                f'fill="{colour}"><title>{_e(tip)}</title></rect>'
            )
    if marker is not None:
        mx = left + min(marker / scale, 1.0) * plot_w
        body.append(
            f'<line x1="{mx:.1f}" y1="8" x2="{mx:.1f}" y2="{height - 18}" stroke="{_BAD}" '
            'stroke-dasharray="4,2"/>'
        )
        body.append(_text(mx, height - 6, marker_label, anchor="middle", size=10, fill=_BAD))
    return _svg(width, height, title, body, f"chart {css}")


def coldwarm_chart(stats: Sequence[EndpointStats], budget_ms: float) -> str:
    """Cold-start vs warm p50 per endpoint, against the cold-start budget."""
    rows: list[tuple[str, list[tuple[float, str, str]]]] = []
    top = budget_ms
    for e in stats:
        bars = []
        if e.cold_p50_ms is not None:
            bars.append(
                (
                    e.cold_p50_ms,
                    _BAD if e.cold_p50_ms > budget_ms else "#bf8700",
                    f"cold p50 {e.cold_p50_ms:.1f} ms ({e.cold_starts} cold starts)",
                )
            )
            top = max(top, e.cold_p50_ms)
        if e.warm_p50_ms is not None:
            bars.append((e.warm_p50_ms, _OK, f"warm p50 {e.warm_p50_ms:.1f} ms"))
        rows.append((e.path, bars))
    return _hbar_rows(
        rows,
        top * 1.1,
        budget_ms,
        f"budget {budget_ms:.0f} ms",
        "cold (amber) vs warm (green) p50 per endpoint",
        "coldwarm",
    )


def availability_chart(stats: Sequence[EndpointStats], target: float) -> str:
    """Observed availability and its one-sided 95 % lower bound per endpoint; the axis
    starts at 95 % so the difference between 99 % and 99.9 % is visible."""
    floor = min([0.95, target - 0.01] + [e.availability_lower or 1.0 for e in stats])
    rows: list[tuple[str, list[tuple[float, str, str]]]] = []
    for e in stats:
        if e.availability is None:
            rows.append((e.path, []))
            continue
        low = e.availability_lower or 0.0
        rows.append(
            (
                e.path,
                [
                    (
                        e.availability - floor,
                        _OK if e.availability >= target else _BAD,
                        f"observed {e.availability * 100:.3f} % of {e.samples} probes",
                    ),
                    (low - floor, _MUTED, f"95 % lower bound {low * 100:.3f} %"),
                ],
            )
        )
    return _hbar_rows(
        rows,
        1 - floor,
        target - floor,
        f"target {target * 100:.1f} %",
        f"availability (observed, and lower bound) from {floor * 100:.0f} %",
        "availability",
    )
