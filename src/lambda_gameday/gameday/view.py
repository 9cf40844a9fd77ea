"""Rich tables of a game day for the terminal: endpoints, SLOs, experiments, verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .measure import slo_value_text
from .model import RunResult

__all__ = ["print_run"]


def _secs(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} s"


def print_run(console: Console, run: RunResult) -> None:
    stats = [e for p in run.phases for e in p.endpoints]
    if stats:
        t = Table(title="latency (ms) and availability", title_justify="left")
        for col in ("endpoint", "n", "failed", "p50", "p90", "p95", "p99", "max"):
            t.add_column(col, justify="left" if col == "endpoint" else "right")
        t.add_column("cold starts", justify="right")
        t.add_column("cold / warm p50", justify="right")
        t.add_column("availability (95 % low)", justify="right")
        for e in stats:
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
                e.path,
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
        console.print(t)
    slos = run.slos()
    if slos:
        t = Table(title="SLOs", title_justify="left")
        for col in ("", "objective", "subject", "measured", "budget", "samples", "note"):
            t.add_column(col)
        for s in slos:
            t.add_row(
                "[green]PASS[/]" if s.passed else "[red]FAIL[/]",
                s.label,
                s.subject,
                slo_value_text(s, s.measured),
                f"{s.comparison} {slo_value_text(s, s.budget)}",
                f"{s.samples:,}",
                s.detail,
            )
        console.print(t)
    timelines = run.timelines()
    if timelines:
        t = Table(title="chaos experiments", title_justify="left")
        for col in ("", "experiment", "MTTR", "detect", "roll back", "recover", "failed req"):
            t.add_column(col)
        for tl in timelines:
            t.add_row(
                "[green]PASS[/]" if tl.passed else "[red]FAIL[/]",
                tl.experiment,
                _secs(tl.mttr_s),
                _secs(tl.time_to_detect_s),
                _secs(tl.time_to_rollback_s),
                _secs(tl.time_to_recover_s),
                f"{tl.failed_requests:,}/{tl.total_requests:,}",
            )
        console.print(t)
    colour = {"pass": "green", "fail": "red", "error": "yellow", "interrupted": "yellow"}
    console.print(f"[bold {colour[run.verdict]}]{run.headline()}[/]")
    for line in run.failures():
        console.print(f"  - {line}", markup=False, highlight=False)
