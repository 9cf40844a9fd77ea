"""`gameday history`: past game days and the trend of their headline numbers."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click
from rich.table import Table

from ..console import make_console, wrapping
from .options import NameType, db_option, valued_option

if TYPE_CHECKING:
    from rich.console import Console

    from ..history import HistoryStore, RunSummary

__all__ = ["history"]

_SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """One character per run; a gap where the run measured nothing."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    lo, hi = min(present), max(present)
    span = hi - lo or 1.0
    return "".join(
        " " if v is None else _SPARK[min(len(_SPARK) - 1, int((v - lo) / span * (len(_SPARK) - 1)))]
        for v in values
    )


def trend(name: str, values: list[float | None], fmt: str, lower_is_better: bool) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return f"{name}: no data"
    first, last = present[0], present[-1]
    if len(present) == 1 or first == last:
        word = "steady"
    else:
        better = (last < first) == lower_is_better
        word = "better" if better else "worse"
    return f"{name}: {fmt.format(first)} -> {fmt.format(last)} ({word}) {sparkline(values)}"


@click.command()
@db_option()
@click.option(
    "--target-name", type=NameType(), default=None, help="Only runs against this target name."
)
@click.option("--plan", "plan_name", type=NameType(), default=None, help="Only runs of this plan.")
@valued_option("--limit", type=click.IntRange(1, 10_000), default=20)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def history(
    db: str | None, target_name: str | None, plan_name: str | None, limit: int, as_json: bool
) -> None:
    """List past game days (oldest first) and, per plan and target, the trend of p95,
    availability and MTTR (a trend across different plans compares unlike things)."""
    from ..history import HistoryStore

    store = HistoryStore(db)
    runs = store.runs(target=target_name, plan=plan_name, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in runs], indent=2))
        return
    console = make_console()
    if not runs:
        console.print(f"no game days recorded in {store.path}")
        return
    table = Table(title=f"game days in {store.path}", title_justify="left")
    for col in (
        "run",
        "when (UTC)",
        "plan",
        "target",
        "verdict",
        "worst p95",
        "min availability",
        "worst MTTR",
        "SLOs failed",
        "time",
    ):
        table.add_column(col)
    import time

    from ..gameday.view import VERDICT_STYLE

    # history rows carry the verdict as plain text
    colour: dict[str, str] = {str(verdict): style for verdict, style in VERDICT_STYLE.items()}
    for r in runs:
        table.add_row(
            r.run_id,
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.started_at)),
            r.plan,
            r.target,
            f"[{colour.get(r.verdict, 'white')}]{r.verdict}[/]",
            "—" if r.worst_p95_ms is None else f"{r.worst_p95_ms:.1f} ms",
            "—" if r.min_availability is None else f"{r.min_availability * 100:.2f} %",
            "—" if r.worst_mttr_s is None else f"{r.worst_mttr_s:.1f} s",
            f"{r.slos_failed}/{r.slos_total}",
            f"{r.duration_s:.0f} s",
        )
    console.print(wrapping(table))
    groups: dict[tuple[str, str], list[RunSummary]] = {}
    for r in runs:
        groups.setdefault((r.plan, r.target), []).append(r)
    for (plan, target), same in groups.items():
        console.print(f"trend of plan {plan} on {target} ({len(same)} run(s)):", highlight=False)
        _print_trend(console, same)
    _print_deployments(console, store, target_name)


def _print_trend(console: Console, runs: list[RunSummary]) -> None:
    console.print(
        "  " + trend("p95 latency", [r.worst_p95_ms for r in runs], "{:.1f} ms", True),
        highlight=False,
    )
    console.print(
        "  "
        + trend(
            "availability",
            [None if r.min_availability is None else r.min_availability * 100 for r in runs],
            "{:.2f} %",
            False,
        ),
        highlight=False,
    )
    console.print(
        "  " + trend("MTTR", [r.worst_mttr_s for r in runs], "{:.1f} s", True), highlight=False
    )
    passed = sum(r.verdict == "pass" for r in runs)
    console.print(f"  verdicts: {passed} of {len(runs)} passed", highlight=False)


def _print_deployments(console: Console, store: HistoryStore, target_name: str | None) -> None:
    from ..deployments import deployment_metrics

    deployments = store.deployments(target=target_name)
    if deployments:
        m = deployment_metrics(deployments, window_s=30 * 86400)
        rate = "—" if m.success_rate is None else f"{m.success_rate * 100:.1f} %"
        dur = "—" if m.mean_duration_s is None else f"{m.mean_duration_s:.0f} s"
        console.print(
            f"deployments (30 days): {m.deployments} finished, success rate {rate}, "
            f"{m.per_day:.2f} per day, mean duration {dur}",
            highlight=False,
        )
