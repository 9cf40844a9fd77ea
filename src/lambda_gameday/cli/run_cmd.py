"""`gameday run`: a game day — run a plan, show progress, write the report, store history."""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from ..console import make_console
from ..exceptions import (
    GamedayError,
    TargetError,
    VerdictFailed,
    VerdictInconclusive,
)
from .options import (
    UrlType,
    allow_production_option,
    db_option,
    open_target,
    plan_option,
    target_option,
    valued_option,
)

if TYPE_CHECKING:
    from ..config import Target
    from ..deployments import DeploymentRecord
    from ..gameday.model import RunResult

__all__ = ["run"]

DEFAULT_REPORT_DIR = ".gameday/reports"


def _publish(target: Target, result: RunResult, deployments: list[DeploymentRecord]) -> None:
    from ..aws import Clients
    from ..dashboard import publish_run_metrics
    from ..deployments import deployment_metrics, publish_metrics

    clients = Clients(target)
    publish_run_metrics(clients, result)
    publish_metrics(clients, deployment_metrics(deployments))


@click.command()
@plan_option
@target_option
@valued_option(
    "--report-dir",
    type=click.Path(file_okay=False),
    default=DEFAULT_REPORT_DIR,
    envvar="GAMEDAY_REPORT_DIR",
    help="Each run writes <report-dir>/<run-id>/.",
)
@db_option()
@click.option("--no-history", is_flag=True, help="Do not store the run in the history database.")
@allow_production_option("destructive phases against a target of class production")
@click.option(
    "--publish",
    is_flag=True,
    help="Publish the run's SLO numbers to HASIVU/SLO and deployment metrics to "
    "HASIVU/Deployment on the target (the dashboard's data).",
)
@click.option(
    "--slack-webhook",
    envvar="GAMEDAY_SLACK_WEBHOOK",
    default=None,
    type=UrlType(),
    help="Post the verdict to this Slack webhook. Env: GAMEDAY_SLACK_WEBHOOK.",
)
def run(
    plan_file: str | None,
    target_file: str | None,
    report_dir: str,
    db: str | None,
    no_history: bool,
    allow_production: bool,
    publish: bool,
    slack_webhook: str | None,
) -> None:
    """Run a game day: every phase of PLAN against the target, one verdict.

    Without --plan, the default plan (conformance, lint, synthetics, cold starts, a short
    load run, a faulty-canary chaos experiment) runs on the embedded sandbox. Ctrl-C stops
    cleanly: faults are removed and the report is still written (exit 130).

    \b
    Exit codes:
      0  every SLO asserted            1  an SLO breached (or had no data)
      2  bad input                     3  target unusable (before or during a phase)
      4  harness error                 5  refused for safety
      6  inconclusive: nothing breached, but an SLO lacked the evidence to be asserted
      130 interrupted (faults removed)
    A notification (Slack) that fails is a warning, never another exit code.
    """
    from ..config import load_target
    from ..deployments import collect_deployments, mark_drills
    from ..gameday.orchestrator import GameDay, check_report_parent
    from ..gameday.plan import check_references, default_plan, load_plan
    from ..gameday.view import print_run
    from ..history import HistoryStore
    from ..report import write_reports

    console = make_console()
    plan = load_plan(plan_file) if plan_file else default_plan()
    check_references(plan)  # experiments, thresholds, checks: refused before anything starts
    if target_file is not None:
        load_target(target_file)  # a bad target file is bad input before the report dir exists
    parent = Path(report_dir)
    check_report_parent(parent)
    store = None if no_history else HistoryStore(db)
    if store is not None:
        store.check()

    problems: list[str] = []  # side channels the user asked for that failed: exit 4
    warnings: list[str] = []  # side channels that never change the exit code
    deployments: list[DeploymentRecord] = []
    from ..gameday.reachability import unreachable
    from ..lock import target_lock

    with open_target(target_file) as target, contextlib.ExitStack() as held:
        started = time.time()  # the run's clock starts before the lock: taking it is run time
        # An unreachable target is judged before the lock, whose AWS calls would first sleep
        # through botocore's retry back-offs (seconds) against an endpoint that is not there;
        # nothing can change such a target, so there is nothing to lock.
        if unreachable(target) is None:
            held.enter_context(target_lock(target, f"gameday run {plan.name}", unreachable_ok=True))
        console.print(
            f"[bold]game day[/] {escape(plan.name)} on {escape(target.name)} ({target.kind}, "
            f"{target.environment}) — {len(plan.phases)} phases"
        )
        gameday = GameDay(
            plan,
            target,
            report_parent=parent,
            console=console,
            allow_production=allow_production,
        )
        result, out_dir = gameday.run(started_at=started)
        if result.verdict not in ("interrupted", "unusable"):
            try:
                from ..aws import Clients

                windows = [
                    (p.started_at, p.finished_at) for p in result.phases if p.kind == "chaos"
                ]
                deployments = mark_drills(collect_deployments(Clients(target)), windows)
            except GamedayError as exc:
                warnings.append(f"deployments not recorded: {exc.one_line()}")
            if publish:
                try:
                    _publish(target, result, deployments)
                except GamedayError as exc:
                    problems.append(f"metrics not published: {exc.one_line()}")
        slos = target.slos

    report_html = out_dir / "report.html" if out_dir else None
    if slack_webhook:
        from ..report.notify import notify_slack

        # A notification is a side channel: its failure is a warning in the report and
        # on the terminal, never a different verdict or exit code.
        try:
            notify_slack(slack_webhook, result, report_url=str(report_html) if out_dir else None)
        except GamedayError as exc:
            warnings.append(f"notification not sent: {exc.one_line()}")
    result = replace(result, warnings=result.warnings + tuple(warnings))
    written = write_reports(result, out_dir, slos) if out_dir else []
    if store is not None:
        try:
            store.record_run(
                result, report_dir=str(out_dir) if out_dir else None, deployments=deployments
            )
        except GamedayError as exc:
            problems.append(exc.one_line())
    print_run(console, result)
    if written:
        console.print(f"report: {written[-1]}", highlight=False)
    for p in problems:
        console.print(f"[yellow]warning:[/] {escape(p)}", highlight=False)

    detail = "; ".join(result.failures()[:3])
    if result.verdict == "interrupted":
        raise KeyboardInterrupt
    if result.verdict == "unusable":
        raise TargetError(f"{result.headline()}: {detail}")
    if result.verdict == "error":
        raise GamedayError(f"{result.headline()}: {detail}")
    if result.verdict == "fail":
        raise VerdictFailed(f"{result.headline()}: {detail}")
    if problems:
        raise GamedayError("; ".join(problems))
    if result.verdict == "inconclusive":
        raise VerdictInconclusive(f"{result.headline()}: " + "; ".join(result.unasserted()[:3]))
