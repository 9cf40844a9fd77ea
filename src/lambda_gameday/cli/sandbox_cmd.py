"""`gameday sandbox`: run the local twin until Ctrl-C / SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from .options import PORT, SEED, STAGE, Finite

__all__ = ["sandbox"]


@click.command("sandbox")
@click.option(
    "--stage", type=STAGE, default="dev", show_default=True, help="Serverless stage name."
)
@click.option("--api-port", type=PORT, default=0, help="Gateway port (default: any free port).")
@click.option(
    "--aws-port", type=PORT, default=0, help="AWS endpoint port (default: any free port)."
)
@click.option(
    "--init-ms",
    type=Finite(0, 60_000),
    default=150.0,
    show_default=True,
    help="Cold-start init duration.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds routing and faults.")
@click.option(
    "--faithful",
    is_flag=True,
    help="Use the seed's exact alarm periods (60 s x 2) and Linear10PercentEvery3Minutes "
    "instead of the fast test timings.",
)
@click.option(
    "--serverless",
    "serverless_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Build the stack from a Serverless Framework file (e.g. examples/serverless.yml).",
)
def sandbox(
    stage: str,
    api_port: int,
    aws_port: int,
    init_ms: float,
    seed: int,
    faithful: bool,
    serverless_file: str | None,
) -> None:
    """Start the sandbox on 127.0.0.1: the seed's four health endpoints behind an API Gateway
    stage, and an AWS endpoint (moto) for boto3, the aws CLI and chaostoolkit-aws."""
    from ..sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        stage=stage,
        api_port=api_port,
        aws_port=aws_port,
        init_duration_ms=init_ms,
        seed=seed,
        timing="faithful" if faithful else "fast",
        serverless_file=serverless_file,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Sandbox(config) as sb:
            timing = "faithful (seed periods)" if faithful else "fast (short alarm periods)"
            click.echo(
                f"sandbox: stage {stage}, region {sb.config.region}, seed {seed}, timing {timing}"
            )
            for path, route in sorted(sb.routes.items()):
                click.echo(f"  GET {sb.api_url}{path}  ->  {route.function}:{route.alias}")
            click.echo("point boto3 / the aws CLI / chaostoolkit-aws here:")
            for key, value in sb.env().items():
                click.echo(f"  export {key}={value}")
            click.echo("press Ctrl-C to stop", nl=True)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
            click.echo("sandbox: stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("sandbox: stopped")
