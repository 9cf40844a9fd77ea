"""`gameday load`: a bounded Locust run against the target, gated on raw-histogram thresholds."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from ..console import make_console
from .options import open_target, target_option

__all__ = ["load"]

_SHAPES = ("steady", "ramp", "step", "spike", "canary")


@click.command()
@target_option
@click.option("-u", "--users", type=int, default=5, show_default=True, help="Peak users.")
@click.option("-r", "--spawn-rate", type=float, default=5.0, show_default=True, help="Users/s.")
@click.option(
    "-t", "--run-time", "run_time", type=int, default=10, show_default=True, help="Seconds."
)
@click.option(
    "--workers",
    type=int,
    default=0,
    show_default=True,
    help="Locust worker processes on this machine (0: one local process).",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    help="Repeatable, e.g. 'p95<100', 'p95{endpoint=/health}<100', 'p95{version=2}<150', "
    "'error_rate<0.005', 'rps>200'. Default: from the target's SLOs.",
)
@click.option(
    "--locustfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: loadtests/health.py.",
)
@click.option("--user-class", default=None, help="Locust user class (default: HealthUser).")
@click.option("--shape", type=click.Choice(_SHAPES), default=None, help="Load shape.")
@click.option("--mix", default=None, help="Endpoint weights, e.g. '/health=4,/health/live=1'.")
@click.option("--think", default=None, help="Think time range in seconds, 'min,max'.")
@click.option(
    "--pace-ms",
    type=float,
    default=None,
    help="Open model: each user sends every PACE_MS and latency is timed from the "
    "intended send time (coordinated-omission corrected).",
)
@click.option(
    "--abort-after",
    type=float,
    default=None,
    help="Abort-on-fail: after this grace period (s) the run stops at the first breach.",
)
@click.option(
    "--warmup",
    type=float,
    default=None,
    help="Seconds at the start whose requests (cold starts, connects) are counted, not "
    "gated. Default: 2, or a quarter of a run shorter than 8 s.",
)
@click.option("--host", default=None, help="Base URL override; must be the target's own host.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gameday-load.json"),
    show_default=True,
    help="Results file (merged raw histograms, JSON); Locust's log goes to OUT.log.",
)
@click.option(
    "--allow-production",
    is_flag=True,
    help="Allow load against a production target (or one with no declared class).",
)
def load(
    target_file: str | None,
    users: int,
    spawn_rate: float,
    run_time: int,
    workers: int,
    thresholds: tuple[str, ...],
    locustfile: Path | None,
    user_class: str | None,
    shape: str | None,
    mix: str | None,
    think: str | None,
    pace_ms: float | None,
    abort_after: float | None,
    warmup: float | None,
    host: str | None,
    seed: int,
    out: Path,
    allow_production: bool,
) -> None:
    """Run Locust against the target and gate on thresholds from raw HdrHistograms.

    Without --target, a short run against the embedded sandbox. Locust runs as its own
    process(es), headless and bounded; only the target's own host is ever addressed.

    \b
    Exit codes:
      0  every threshold held
      1  a threshold was breached (or abort-on-fail stopped the run)
      2  bad configuration: missing locustfile, bad threshold expression, a threshold
         whose tags match nothing or that has no samples, a host not the target's
      3  the target is unreachable (checked before Locust starts)
      4  run error: Locust crashed, timed out or wrote no complete results
      5  refused: a production target without --allow-production (or
         GAMEDAY_ALLOW_PRODUCTION=1)
    """
    from ..chaos.guard import production_granted
    from ..exceptions import SafetyError
    from ..load.runner import LoadOptions, check_report, default_warmup_s, run_load
    from ..load.table import render_report

    options = LoadOptions(
        locustfile=locustfile,
        user_class=user_class,
        users=users,
        spawn_rate=spawn_rate,
        run_time_s=run_time,
        workers=workers,
        thresholds=thresholds,
        shape=shape,
        out=out,
        host=host,
        mix=mix,
        think=think,
        pace_ms=pace_ms,
        warmup_s=warmup if warmup is not None else default_warmup_s(run_time),
        seed=seed,
        abort_after_s=abort_after,
    )
    console = make_console()
    err = make_console(stderr=True)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # the runner then kills Locust's process groups; exit 130

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with open_target(target_file) as target, err.status("load: starting Locust") as status:
            if target.is_production and not (allow_production or production_granted()):
                raise SafetyError(
                    f"target {target.name} is production: load reaches its users' capacity;"
                    " pass --allow-production to run it"
                )

            def progress(elapsed: float, requests: int) -> None:
                status.update(
                    f"load on {target.name}: {elapsed:.0f}/{run_time} s, {requests:,} requests"
                )

            report = run_load(target, options, progress=progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(render_report(report))
    console.print(f"results: {report.results.path}", highlight=False)
    check_report(report)
