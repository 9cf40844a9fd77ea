"""The report in Markdown (`report.md`), for pull-request comments and chat."""

from __future__ import annotations

import time
from pathlib import Path

from ..gameday.measure import slo_value_text as _val
from ..gameday.model import (
    EndpointStats,
    PhaseStatus,
    RunResult,
    SLOMark,
    SLOResult,
    Timeline,
    Verdict,
)
from ..redact import redact

__all__ = ["render_markdown", "write_markdown"]

_ICON: dict[Verdict, str] = {
    "pass": "✅",
    "fail": "❌",
    "inconclusive": "❔",
    "unusable": "🔌",
    "error": "⚠️",
    "interrupted": "⏹️",
}
_STATUS: dict[PhaseStatus, str] = {
    "passed": "✅",
    "failed": "❌",
    "inconclusive": "❔",
    "unusable": "🔌",
    "error": "⚠️",
    "skipped": "⏭️",
    "interrupted": "⏹️",
}
_MARK: dict[SLOMark, str] = {
    "PASS": "✅ PASS",
    "FAIL": "❌ FAIL",
    "NO DATA": "❌ NO DATA",
    "INCONCLUSIVE": "❔ INCONCLUSIVE",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _slo_table(slos: list[SLOResult]) -> list[str]:
    lines = [
        "| | phase | objective | subject | measured | budget | samples | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in slos:
        lines.append(
            f"| {_MARK[s.mark]} | {_cell(s.phase)} | {_cell(s.label)} | {_cell(s.subject)} "
            f"| {_val(s, s.measured)} | {s.comparison} {_val(s, s.budget)} | {s.samples:,} "
            f"| {_cell(s.detail)} |"
        )
    return lines


def _endpoint_table(stats: list[tuple[str, EndpointStats]]) -> list[str]:
    lines = [
        "| phase | endpoint | samples | p50 | p90 | p95 | p99 | max | cold | cold p50 | warm p50 "
        "| availability (95 % lower bound) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase, e in stats:
        avail = "—"
        if e.availability is not None:
            low = f" (≥ {e.availability_lower * 100:.2f} %)" if e.availability_lower else ""
            avail = f"{e.availability * 100:.2f} %{low}"
        cold = f"{e.cold_p50_ms:.1f} ms" if e.cold_p50_ms is not None else "—"
        warm = f"{e.warm_p50_ms:.1f} ms" if e.warm_p50_ms is not None else "—"
        lines.append(
            f"| {_cell(phase)} | {_cell(e.path)} | {e.samples:,} | {e.p50_ms:.1f} "
            f"| {e.p90_ms:.1f} | {e.p95_ms:.1f} "
            f"| {e.p99_ms:.1f} | {e.max_ms:.1f} | {e.cold_starts_text} | {cold} | {warm} "
            f"| {avail} |"
        )
    return lines


def _timeline(t: Timeline) -> list[str]:
    start = next((e.at for e in t.events if e.at is not None), None)
    lines = [
        f"**{_cell(t.experiment)}** — {'✅' if t.passed else '❌'} "
        + (
            ("MTTR " + (f"{t.mttr_s:.1f} s" if t.mttr_s is not None else "not reached"))
            + f" (budget {t.budget_s:.0f} s)"
            if t.mttr_claimed
            else t.recovered_by
        )
        + f"; failed requests {t.failed_requests:,}"
        f" of {t.total_requests:,}",
        "",
        "| step | at (+s) | source |",
        "|---|---|---|",
    ]
    for e in t.events:
        rel = f"{e.at - start:+.1f}" if e.at is not None and start is not None else e.never_text
        lines.append(f"| {_cell(e.label)} | {rel} | {_cell(e.source)} |")
    return lines


def render_markdown(run: RunResult) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(run.started_at))
    out = [
        f"# {_ICON[run.verdict]} {run.headline()}",
        "",
        f"Run `{run.run_id}` · {when} · {run.duration_s:.1f} s · target {run.target} "
        f"({run.target_kind}, {run.environment})",
        "",
    ]
    failures = run.failures()
    if failures:
        out += ["## What failed and why", ""] + [f"- {_cell(f)}" for f in failures] + [""]
    unasserted = run.unasserted()
    if unasserted:
        out += ["## Not enough evidence (inconclusive)", ""]
        out += [f"- {_cell(f)}" for f in unasserted] + [""]
    if run.faults_not_removed:
        out += ["## Faults NOT removed", ""]
        out += [f"- {_cell(f)}" for f in run.faults_not_removed]
        if run.cleanup_command:
            out += ["", f"When the target is back, run `{run.cleanup_command}`."]
        out.append("")
    if run.warnings:
        out += ["## Warnings", ""] + [f"- {_cell(w)}" for w in run.warnings] + [""]
    slos = run.slos()
    if slos:
        out += ["## SLOs", "", *_slo_table(slos), ""]
    out += [
        "## Phases",
        "",
        "| | phase | kind | status | time | note |",
        "|---|---|---|---|---|---|",
    ]
    for p in run.phases:
        out.append(
            f"| {_STATUS[p.status]} | {_cell(p.name)} | {p.kind} | {p.status} "
            f"| {p.duration_s:.1f} s | {_cell(p.message)} |"
        )
    out.append("")
    stats = [(p.name, e) for p in run.phases for e in p.endpoints]
    if stats:
        out += ["## Latency (ms)", "", *_endpoint_table(stats), ""]
        if any(e.modelled for _, e in stats):
            out += ["Init Duration is modelled by the sandbox (its --init-ms), not measured.", ""]
    timelines = run.timelines()
    if timelines:
        out += ["## Chaos timelines", ""]
        for t in timelines:
            out += [*_timeline(t), ""]
    findings = [(p.name, f) for p in run.phases for f in p.findings]
    if findings:
        out += ["## Findings", ""]
        out += [
            f"- **{f.severity}** `{_cell(f.resource)}` ({phase}): {_cell(f.text)}"
            + (f" — fix: {_cell(f.fix)}" if f.fix else "")
            for phase, f in findings
        ]
        out.append("")
    if run.notes:
        out += ["## Notes", ""] + [f"- {_cell(n)}" for n in run.notes] + [""]
    return redact("\n".join(out))


def write_markdown(run: RunResult, out_dir: Path) -> Path:
    path = out_dir / "report.md"
    path.write_text(render_markdown(run), encoding="utf-8")
    return path
