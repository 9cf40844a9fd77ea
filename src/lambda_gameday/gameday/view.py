"""Rich tables of a game day for the terminal: endpoints, SLOs, experiments, verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..console import wrapping
from .measure import slo_value_text
from .model import RunResult, SLOMark, Verdict

__all__ = ["MARK_STYLE", "VERDICT_STYLE", "print_run"]

MARK_STYLE: dict[SLOMark, str] = {
    "PASS": "green",
    "FAIL": "red",
    "NO DATA": "red",
    "INCONCLUSIVE": "yellow",
}
VERDICT_STYLE: dict[Verdict, str] = {
    "pass": "green",
    "fail": "red",
    "inconclusive": "yellow",
    "unusable": "yellow",
    "error": "yellow",
    "interrupted": "yellow",
}


def _secs(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} s"


def print_run(console: Console, run: RunResult) -> None:
    stats = [(p.name, e) for p in run.phases for e in p.endpoints]
    if stats:
        t = Table(title="latency (ms) and availability", title_justify="left")
        for col in ("phase", "endpoint", "n", "failed", "p50", "p90", "p95", "p99", "max"):
            t.add_column(col, justify="left" if col in ("phase", "endpoint") else "right")
        t.add_column("cold starts", justify="right")
        t.add_column("cold / warm p50", justify="right")
        t.add_column("availability (95 % low)", justify="right")
        for phase, e in stats:
            cw = "—"
            if e.cold_p50_ms is not None or e.warm_p50_ms is not None:
                cold = f"{e.cold_p50_ms:.1f}" if e.cold_p50_ms is not None else "—"
                warm = f"{e.warm_p50_ms:.1f}" if e.warm_p50_ms is not None else "—"
                cw = f"{cold} / {warm}"
            avail = "—"
            if e.availability is not None:
                low = e.availability_lower or 0.0
                avail = f"{e.availability * 100:.2f} % ({low * 100:.2f} %)"
            t.add_row(
                escape(phase),
                escape(e.path),
                f"{e.samples:,}",
                f"{e.failures:,}",
                f"{e.p50_ms:.1f}",
                f"{e.p90_ms:.1f}",
                f"{e.p95_ms:.1f}",
                f"{e.p99_ms:.1f}",
                f"{e.max_ms:.1f}",
                e.cold_starts_text,
                cw,
                avail,
            )
        console.print(wrapping(t))
    slos = run.slos()
    if slos:
        t = Table(title="SLOs", title_justify="left")
        for col in ("", "phase", "objective", "subject", "measured", "budget", "samples", "note"):
            t.add_column(col)
        for s in slos:
            t.add_row(
                f"[{MARK_STYLE[s.mark]}]{s.mark}[/]",
                escape(s.phase),
                escape(s.label),
                escape(s.subject),
                slo_value_text(s, s.measured),
                f"{s.comparison} {slo_value_text(s, s.budget)}",
                f"{s.samples:,}",
                escape(s.detail),
            )
        console.print(wrapping(t))
    timelines = [(p.name, tl) for p in run.phases for tl in p.timelines]
    if timelines:
        t = Table(title="chaos experiments", title_justify="left")
        for col in ("", "phase", "experiment", "MTTR", "detect", "roll back", "recover"):
            t.add_column(col)
        t.add_column("failed req")
        for phase, tl in timelines:
            t.add_row(
                "[green]PASS[/]" if tl.passed else "[red]FAIL[/]",
                escape(phase),
                escape(tl.experiment),
                _secs(tl.mttr_s) if tl.mttr_claimed else tl.recovered_by,
                _secs(tl.time_to_detect_s),
                _secs(tl.time_to_rollback_s),
                _secs(tl.time_to_recover_s),
                f"{tl.failed_requests:,}/{tl.total_requests:,}",
            )
        console.print(wrapping(t))
    console.print(f"[bold {VERDICT_STYLE[run.verdict]}]{escape(run.headline())}[/]")
    for line in run.failures():
        console.print(f"  - {line}", markup=False, highlight=False)
    for line in run.unasserted():
        console.print(f"  - inconclusive: {line}", markup=False, highlight=False)
    for skipped in run.phases:
        if skipped.status == "skipped":  # neither a pass nor a failure: say why
            console.print(
                f"  - SKIPPED {skipped.name}: {skipped.message}", markup=False, highlight=False
            )
        elif skipped.kind == "chaos" and skipped.status == "passed" and skipped.message:
            # some experiments ran and passed; the message names the ones skipped, and why
            console.print(f"  - {skipped.name}: {skipped.message}", markup=False, highlight=False)
    if run.faults_not_removed:
        console.print("[bold red]faults NOT removed:[/]")
        for fault in run.faults_not_removed:
            console.print(f"  - {fault}", markup=False, highlight=False)
        if run.cleanup_command:
            console.print(
                f"  when the target is back, run: {run.cleanup_command}",
                markup=False,
                highlight=False,
            )
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
