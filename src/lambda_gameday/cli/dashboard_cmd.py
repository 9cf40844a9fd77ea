"""`gameday dashboard`: the seed's CloudWatch dashboard JSON, extended with the SLOs."""

from __future__ import annotations

import click

from ..console import make_console
from .options import DASHBOARD_NAME, db_option, open_target, target_option

__all__ = ["dashboard"]


@click.command()
@target_option
@click.option(
    "--put",
    "put_name",
    default=None,
    metavar="NAME",
    type=DASHBOARD_NAME,
    help="Also create/replace the dashboard NAME on the target (put_dashboard).",
)
@click.option(
    "--publish-deployments",
    is_flag=True,
    help="Publish deployment success rate, frequency and duration (from the history "
    "database and the target's CodeDeploy) to HASIVU/Deployment.",
)
@db_option("History database for --publish-deployments. Env: GAMEDAY_DB.")
def dashboard(
    target_file: str | None, put_name: str | None, publish_deployments: bool, db: str | None
) -> None:
    """Print the dashboard body JSON (the seed's two widgets plus one per SLO).

    Without --target the sandbox's function names are used and nothing is started,
    unless --put or --publish-deployments needs a live target.
    """
    from ..dashboard import dashboard_json, put_dashboard

    if put_name is None and not publish_deployments:
        if target_file is None:
            from ..config import sandbox_target

            target = sandbox_target("http://127.0.0.1", "http://127.0.0.1", region="ap-south-1")
        else:
            from ..config import load_target

            target = load_target(target_file)
        click.echo(dashboard_json(target), nl=False)
        return

    from ..aws import Clients
    from ..deployments import collect_deployments, deployment_metrics, publish_metrics
    from ..history import HistoryStore

    console = make_console(stderr=True)
    with open_target(target_file) as target:
        click.echo(dashboard_json(target), nl=False)
        clients = Clients(target)
        if put_name:
            put_dashboard(clients, put_name)
            console.print(f"dashboard {put_name} written to {target.name}", highlight=False)
        if publish_deployments:
            store = HistoryStore(db)
            store.record_deployments(collect_deployments(clients))
            m = deployment_metrics(store.deployments(target=target.name))
            sent = publish_metrics(clients, m)
            rate = "—" if m.success_rate is None else f"{m.success_rate * 100:.1f} %"
            console.print(
                f"published {sent} metrics to HASIVU/Deployment: {m.deployments} deployments, "
                f"success rate {rate}",
                highlight=False,
            )
