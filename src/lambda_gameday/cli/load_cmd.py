"""`gameday load`: a bounded Locust run against the target, gated on raw-histogram thresholds."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from ..console import make_console
from .options import (
    SEED,
    Finite,
    NameType,
    UrlType,
    allow_production_option,
    gathered,
    open_target,
    out_option,
    refuse_production,
    valued_option,
    writing_command,
)

if TYPE_CHECKING:
    from ..load.runner import LoadOptions

__all__ = ["load"]

_SHAPES = ("steady", "ramp", "step", "spike", "canary")


def _load_options() -> type[LoadOptions]:
    from ..load.runner import LoadOptions

    return LoadOptions


def _thresholds(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Parsed now, so `p95<<100` is refused before a sandbox or Locust starts."""
    from ..load.thresholds import parse_thresholds

    parse_thresholds(value)
    return value


def _checked(what: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """--mix / --think checked by the runner's own rules while the command line is read."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from ..load.runner import _check_mix, _check_think

        if value is not None:
            (_check_mix if what == "mix" else _check_think)(value)
        return value

    return check


@writing_command(derived=lambda kw: [(Path(f"{kw['out']}.log"), "Locust's log")])
@valued_option("-u", "--users", type=click.IntRange(1, 10_000), default=5, help="Peak users.")
@valued_option(
    "-r", "--spawn-rate", type=Finite(0, 10_000, low_open=True), default=5.0, help="Users/s."
)
@valued_option(
    "-t", "--run-time", "run_time", type=click.IntRange(1, 86_400), default=10, help="Seconds."
)
@valued_option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    help="Locust worker processes on this machine (0: one local process).",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    callback=_thresholds,
    help="Repeatable, e.g. 'p95<100', 'p95{endpoint=/health}<100', 'p95{version=2}<150', "
    "'error_rate<0.005', 'rps>200'. Default: from the target's SLOs.",
)
@click.option(
    "--locustfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Default: loadtests/health.py.",
)
@click.option(
    "--user-class",
    type=NameType(r"[A-Za-z_][A-Za-z0-9_]*", "a Python class name"),
    default=None,
    help="Locust user class (default: HealthUser).",
)
@click.option("--shape", type=click.Choice(_SHAPES), default=None, help="Load shape.")
@click.option(
    "--mix",
    default=None,
    callback=_checked("mix"),
    help="Endpoint weights, e.g. '/health=4,/health/live=1'. Default: the target's GET "
    "routes, equally weighted (the seed's health routes: 4,3,2,1).",
)
@click.option(
    "--think",
    default=None,
    callback=_checked("think"),
    help="Think time range in seconds, 'min,max'.",
)
@click.option(
    "--pace-ms",
    type=Finite(0, 60_000, low_open=True),
    default=None,
    help="Open model: each user sends every PACE_MS and latency is timed from the "
    "intended send time (coordinated-omission corrected).",
)
@click.option(
    "--abort-after",
    "abort_after_s",
    type=Finite(0, 86_400),
    default=None,
    help="Abort-on-fail: after this grace period (s) the run stops at the first breach.",
)
@click.option(
    "--warmup",
    type=Finite(0, 3600),
    default=None,
    help="Seconds at the start whose requests (cold starts, connects) are counted, not "
    "gated. Default: 2, or a quarter of a run shorter than 8 s.",
)
@click.option(
    "--host", type=UrlType(), default=None, help="Base URL override; must be the target's own host."
)
@valued_option("--seed", type=SEED, default=0)
@out_option(
    ".gameday/load.json",
    "Results file (merged raw histograms, JSON); Locust's log goes to OUT.log.",
)
@allow_production_option("load against a production target")
@gathered("options", _load_options)
def load(
    target_file: str | None,
    run_time: int,
    warmup: float | None,
    allow_production: bool,
    options: Callable[..., LoadOptions],
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
    from ..load.runner import check_report, default_warmup_s, run_load
    from ..load.table import render_report

    run = options(
        run_time_s=run_time,
        warmup_s=warmup if warmup is not None else default_warmup_s(run_time),
    )
    console = make_console()
    err = make_console(stderr=True)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # the runner then kills Locust's process groups; exit 130

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with open_target(target_file) as target, err.status("load: starting Locust") as status:
            refuse_production(target, allow_production, "load reaches its users' capacity")

            def progress(elapsed: float, requests: int) -> None:
                status.update(
                    f"load on {target.name}: {elapsed:.0f}/{run_time} s, {requests:,} requests"
                )

            if run.mix is None and run.locustfile is None:
                from dataclasses import replace

                from ..gameday.phases.load import target_mix

                # no mix written: the target's GET routes (the seed keeps its weights)
                run = replace(run, mix=target_mix(target))
            report = run_load(target, run, progress=progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(render_report(report))
    console.print(f"results: {report.results.path}", highlight=False)
    check_report(report)
