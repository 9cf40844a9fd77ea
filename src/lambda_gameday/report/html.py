"""The HTML report (`report.html`): one self-contained file — inline CSS and SVG, no
scripts, no fonts, nothing fetched. Verdict first, then what failed and why, the SLO
table, chaos timelines, latency histograms, cold vs warm, availability with its bound.

The markup is well-formed XHTML (every element closed, only XML entities), so a strict
XML parser can check it.
"""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from ..config import SLOs
from ..gameday.measure import budgets_from
from ..gameday.measure import slo_value_text as _val
from ..gameday.model import (
    EndpointStats,
    PhaseResult,
    PhaseStatus,
    RunResult,
    SLOMark,
    SLOResult,
    Timeline,
)
from ..redact import redact
from .svg import availability_chart, coldwarm_chart, histogram_chart, timeline_chart

__all__ = ["render_html", "write_html"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#24292f;margin:0;
background:#fff}main{max-width:980px;margin:0 auto;padding:16px 24px 48px}
.verdict{padding:18px 24px;color:#fff;font-size:22px;font-weight:600}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}
.verdict.error{background:#9a6700}.verdict.interrupted{background:#57606a}
.verdict.inconclusive{background:#9a6700}.verdict.unusable{background:#57606a}
.meta{color:#57606a;font-size:13px;margin:6px 0 0}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0 16px}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.skip{color:#57606a}.unsure{color:#9a6700;font-weight:600}
ul.failures li{margin:4px 0}h2{border-bottom:1px solid #d0d7de;
padding-bottom:4px;margin-top:28px}.charts{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}figcaption{font-size:12px;color:#57606a}
"""

_MARK = {True: '<span class="ok">PASS</span>', False: '<span class="bad">FAIL</span>'}
_SLO_CLASS: dict[SLOMark, str] = {
    "PASS": "ok",
    "FAIL": "bad",
    "NO DATA": "bad",
    "INCONCLUSIVE": "unsure",
}
_STATUS_CLASS: dict[PhaseStatus, str] = {
    "passed": "ok",
    "failed": "bad",
    "inconclusive": "unsure",
    "unusable": "bad",
    "error": "bad",
    "interrupted": "bad",
    "skipped": "skip",
}


def _e(text: object) -> str:
    return escape(redact(str(text)), quote=True)


def _slo_table(slos: list[SLOResult]) -> str:
    rows = "".join(
        f'<tr><td><span class="{_SLO_CLASS[s.mark]}">{s.mark}</span></td><td>{_e(s.phase)}</td>'
        f"<td>{_e(s.label)}</td><td>{_e(s.subject)}</td>"
        f'<td class="num">{_e(_val(s, s.measured))}</td>'
        f'<td class="num">{_e(s.comparison)} {_e(_val(s, s.budget))}</td>'
        f'<td class="num">{s.samples:,}</td>'
        f'<td class="num">{_e(_val(s, s.lower_bound)) if s.lower_bound is not None else ""}</td>'
        f"<td>{_e(s.detail)}</td></tr>"
        for s in slos
    )
    return (
        "<table><thead><tr><th></th><th>phase</th><th>objective</th><th>subject</th><th>measured</th>"
        "<th>budget</th><th>samples</th><th>95 % lower bound</th><th>note</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _phase_table(phases: tuple[PhaseResult, ...]) -> str:
    rows = "".join(
        f'<tr><td class="{_STATUS_CLASS[p.status]}">{p.status}</td><td>{_e(p.name)}</td>'
        f'<td>{_e(p.kind)}</td><td class="num">{p.duration_s:.1f} s</td>'
        f"<td>{_e(p.message)}</td></tr>"
        for p in phases
    )
    return (
        "<table><thead><tr><th>status</th><th>phase</th><th>kind</th><th>time</th>"
        f"<th>note</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _endpoint_table(stats: list[tuple[str, EndpointStats]]) -> str:
    def ms(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}"

    rows = "".join(
        f'<tr><td>{_e(phase)}</td><td>{_e(e.path)}</td><td class="num">{e.samples:,}</td>'
        f'<td class="num">{e.failures:,}</td><td class="num">{ms(e.p50_ms)}</td>'
        f'<td class="num">{ms(e.p90_ms)}</td><td class="num">{ms(e.p95_ms)}</td>'
        f'<td class="num">{ms(e.p99_ms)}</td><td class="num">{ms(e.max_ms)}</td>'
        f'<td class="num">{e.cold_starts_text}</td><td class="num">{ms(e.cold_p50_ms)}</td>'
        f'<td class="num">{ms(e.warm_p50_ms)}</td>'
        f"<td>{_e(', '.join(f'v{v}: {n}' for v, n in e.versions))}</td></tr>"
        for phase, e in stats
    )
    return (
        "<table><thead><tr><th>phase</th><th>endpoint</th><th>samples</th><th>failed</th><th>p50</th>"
        "<th>p90</th><th>p95</th><th>p99</th><th>max</th><th>cold</th><th>cold p50</th>"
        "<th>warm p50</th><th>versions</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _timeline_section(t: Timeline) -> str:
    def s(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f} s"

    radius = t.blast_radius
    facts = (
        f"<p>{_MARK[t.passed]} "
        + (f"MTTR {s(t.mttr_s)} (budget {t.budget_s:.0f} s)" if t.mttr_claimed else t.recovered_by)
        + " · "
        f"time to detect {s(t.time_to_detect_s)} · time to roll back "
        f"{s(t.time_to_rollback_s)} · time to recover {s(t.time_to_recover_s)} · "
        f"failed requests {t.failed_requests:,} of {t.total_requests:,}"
        + (f" ({radius * 100:.1f} %)" if radius is not None else "")
        + (f' · <span class="bad">broke at: {_e(t.broken_phase)}</span>' if t.broken_phase else "")
        + "</p>"
    )
    start = next((e.at for e in t.events if e.at is not None), None)
    rows = "".join(
        f'<tr><td>{_e(e.label)}</td><td class="num">'
        + (f"+{e.at - start:.2f} s" if e.at is not None and start is not None else e.never_text)
        + f"</td><td>{_e(e.source)}</td></tr>"
        for e in t.events
    )
    return (
        f'<section class="experiment"><h3>{_e(t.experiment)}</h3>{facts}'
        f"<figure>{timeline_chart(t)}<figcaption>MTTR timeline of {_e(t.experiment)}"
        "</figcaption></figure><table><thead><tr><th>step</th><th>at</th><th>source</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _measurement_notes(run: RunResult) -> list[str]:
    """What the latency table's numbers are, where it is not obvious."""
    notes = []
    if any(e.modelled for p in run.phases for e in p.endpoints):
        notes.append(
            "Init Duration is modelled by the sandbox (its configured --init-ms), not measured."
        )
    return notes


def render_html(run: RunResult, slos: SLOs | None = None) -> str:
    slos = slos or budgets_from(run.slos())
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(run.started_at))
    parts = [
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head>'
        '<meta charset="utf-8"/><meta name="viewport" content="width=device-width"/>'
        f"<title>{_e(run.headline())}</title><style>{_CSS}</style></head><body>",
        f'<div class="verdict {run.verdict}" id="verdict">{_e(run.headline())}</div><main>',
        f'<p class="meta">run {_e(run.run_id)} · {when} · {run.duration_s:.1f} s · target '
        f"{_e(run.target)} ({_e(run.target_kind)}, {_e(run.environment)})</p>",
    ]
    failures = run.failures()
    if failures:
        items = "".join(f"<li>{_e(f)}</li>" for f in failures)
        parts.append(f'<h2>What failed and why</h2><ul class="failures">{items}</ul>')
    unasserted = run.unasserted()
    if unasserted:
        items = "".join(f"<li>{_e(f)}</li>" for f in unasserted)
        parts.append(f"<h2>Not enough evidence (inconclusive)</h2><ul>{items}</ul>")
    if run.faults_not_removed:
        items = "".join(f"<li>{_e(f)}</li>" for f in run.faults_not_removed)
        run_it = (
            f"<p>When the target is back, run <code>{_e(run.cleanup_command)}</code>.</p>"
            if run.cleanup_command
            else ""
        )
        parts.append(f'<h2 class="bad">Faults NOT removed</h2><ul>{items}</ul>{run_it}')
    if run.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in run.warnings)
        parts.append(f"<h2>Warnings</h2><ul>{items}</ul>")
    all_slos = run.slos()
    if all_slos:
        parts.append(f"<h2>SLOs</h2>{_slo_table(all_slos)}")
    parts.append(f"<h2>Phases</h2>{_phase_table(run.phases)}")
    timelines = run.timelines()
    if timelines:
        parts.append("<h2>Chaos experiments</h2>")
        parts.extend(_timeline_section(t) for t in timelines)
    measured = [(p.name, e) for p in run.phases for e in p.endpoints]
    stats = [e for _, e in measured]
    if stats:
        parts.append(f"<h2>Latency</h2>{_endpoint_table(measured)}")
        notes = _measurement_notes(run)
        if notes:
            parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
        parts.append('<div class="charts">')
        parts.extend(
            f"<figure>{histogram_chart(e, slos.health_latency_ms)}"
            f"<figcaption>{_e(e.path)} ({e.samples:,} samples)</figcaption></figure>"
            for e in stats
        )
        parts.append("</div>")
        if any(e.cold_starts for e in stats):
            parts.append(
                f"<h2>Cold vs warm</h2><figure>{coldwarm_chart(stats, slos.cold_start_ms)}</figure>"
            )
        with_avail = [e for e in stats if e.availability is not None]
        if with_avail:
            parts.append(
                "<h2>Availability</h2><p>Per probe; the bound is the one-sided 95 % exact "
                "binomial lower bound — the availability the probes can actually assert.</p>"
                f"<figure>{availability_chart(with_avail, slos.availability)}</figure>"
            )
    findings = [(p.name, f) for p in run.phases for f in p.findings]
    if findings:
        rows = "".join(
            f'<tr><td class="{"bad" if f.severity == "error" else "skip"}">{f.severity}</td>'
            f"<td>{_e(phase)}</td><td>{_e(f.resource)}</td><td>{_e(f.text)}</td>"
            f"<td>{_e(f.fix)}</td></tr>"
            for phase, f in findings
        )
        parts.append(
            "<h2>Findings</h2><table><thead><tr><th>severity</th><th>phase</th>"
            "<th>resource</th><th>finding</th><th>fix</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if run.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in run.notes))
        parts.append("</ul>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def write_html(run: RunResult, out_dir: Path, slos: SLOs | None = None) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(run, slos), encoding="utf-8")
    return path
