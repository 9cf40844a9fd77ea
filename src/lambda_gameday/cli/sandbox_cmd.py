"""`gameday sandbox`: run the local twin until Ctrl-C / SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from ..sandbox.relaxations import DEFAULT_LEGACY, RELAXATIONS
from .options import (
    PORT,
    SEED,
    Finite,
    file_option,
    gathered,
    key_values,
    param_option,
    stage_option,
    valued_option,
)

if TYPE_CHECKING:
    from ..sandbox import SandboxConfig
    from ..sandbox.describe import SandboxFacts

__all__ = ["sandbox", "target_toml"]

DEFAULT_TARGET_OUT = Path(".gameday") / "sandbox-target.toml"


def _sandbox_config() -> type[SandboxConfig]:
    from ..sandbox import SandboxConfig

    return SandboxConfig


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's


def target_toml(facts: SandboxFacts) -> str:
    """A target file for the running sandbox, from what the sandbox says it serves."""
    lines = [
        "# Written by `gameday sandbox --target-out`: valid while that sandbox runs.",
        f"name = {_q(f'sandbox-{facts.stage}-{facts.account_id}')}",
        'kind = "sandbox"',
        'environment = "dev"',
        f"region = {_q(facts.region)}",
        f"endpoint_url = {_q(facts.endpoint_url)}",
        f"api_url = {_q(facts.api_url)}",
    ]
    if facts.application:
        lines.append(f"application = {_q(facts.application)}")
    if facts.alert_topic:
        lines.append(f"alert_topic = {_q(facts.alert_topic)}")
    for fn in facts.functions:
        lines += ["", "[[functions]]", f"name = {_q(fn.name)}", f"path = {_q(fn.path)}"]
        lines.append(f"alias = {_q(fn.alias)}")
        if fn.provisioned_concurrency:
            lines.append("critical = true")
            lines.append(f"provisioned_concurrency = {fn.provisioned_concurrency}")
        if fn.alarms:
            lines.append("alarms = [" + ", ".join(_q(a) for a in fn.alarms) + "]")
        if fn.deployment_group:
            lines.append(f"deployment_group = {_q(fn.deployment_group)}")
    return "\n".join(lines) + "\n"


@click.command("sandbox")
@stage_option("Serverless stage name.")
@click.option("--api-port", type=PORT, default=0, help="Gateway port (default: any free port).")
@click.option(
    "--aws-port", type=PORT, default=0, help="AWS endpoint port (default: any free port)."
)
@valued_option(
    "--init-ms",
    "init_duration_ms",
    type=Finite(0, 60_000),
    default=150.0,
    help="Cold-start init duration.",
)
@valued_option("--seed", type=SEED, default=0, help="Seeds routing and faults.")
@click.option(
    "--faithful",
    is_flag=True,
    help="Use the seed's exact alarm periods (60 s x 2) and Linear10PercentEvery3Minutes "
    "instead of the fast test timings.",
)
@file_option(
    "--stack",
    "--serverless",
    "stack_file",
    exists=True,
    help="Build the stack from a SAM, CloudFormation (cdk synth) or Serverless Framework file "
    "(format detected from the content; --serverless is the older name).",
)
@param_option("Override a CloudFormation/SAM template parameter (repeatable).")
@valued_option(
    "--account-id",
    type=click.STRING,
    default="123456789012",
    help="The AWS account the twin plays (two twins in one process need different ones).",
)
@valued_option(
    "--clock-skew",
    "clock_skew_s",
    type=Finite(-86_400, 86_400),
    default=0.0,
    help="Seconds AWS's clock runs ahead of the local one (negative: behind); applied to "
    "every timestamp AWS stamps.",
)
@click.option(
    "--shared-account",
    is_flag=True,
    help="Add other teams' functions, alarms (one in ALARM) and deployment groups, "
    "more than one page of each.",
)
@click.option(
    "--legacy",
    "legacy_names",  # not SandboxConfig.legacy: the names are checked into that
    multiple=True,
    type=click.Choice(sorted(RELAXATIONS)),
    help="Relax one AWS refusal by name (repeatable; temporary, not as AWS). Default: "
    "$GAMEDAY_SANDBOX_LEGACY (comma-separated, or 'none'), else "
    + ", ".join(sorted(DEFAULT_LEGACY))
    + ".",
)
@click.option(
    "--strict",
    is_flag=True,
    help="No relaxations: refuse and limit everything AWS does (overrides --legacy).",
)
@file_option(
    "--iam",
    "iam_policy",
    exists=True,
    help="IAM enforcing mode: callers hold only this identity policy (JSON); a call it "
    "does not allow gets AccessDeniedException.",
)
@valued_option(
    "--target-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_TARGET_OUT,
    help="Write a ready target file for this sandbox here.",
)
@gathered("sandbox_config", _sandbox_config)
def sandbox(
    faithful: bool,
    params: tuple[str, ...],
    account_id: str,
    legacy_names: tuple[str, ...],
    strict: bool,
    target_out: Path,
    sandbox_config: Callable[..., SandboxConfig],
) -> None:
    """Start the sandbox on 127.0.0.1: the seed's four health endpoints behind an API Gateway
    stage, and an AWS endpoint (moto) for boto3, the aws CLI and chaostoolkit-aws."""
    from ..sandbox import Sandbox, SandboxError
    from ..sandbox.describe import describe
    from ..sandbox.relaxations import legacy_from_env, parse_legacy

    if not (len(account_id) == 12 and account_id.isdigit()):
        raise click.BadParameter("an AWS account id is 12 digits", param_hint="--account-id")
    try:
        if strict:
            relaxed: frozenset[str] = frozenset()
        elif legacy_names:
            relaxed = parse_legacy(",".join(legacy_names))
        else:
            relaxed = legacy_from_env()
    except SandboxError as exc:
        raise click.BadParameter(str(exc), param_hint="--legacy") from None
    config = sandbox_config(
        timing="faithful" if faithful else "fast",
        stack_parameters=key_values(params),
        account_id=account_id,
        legacy=relaxed,
    )
    if config.stack_file:  # read before the twin starts: a bad file is bad input (exit 2)
        from ..sandbox.stacks import StackFileError, load_stack

        try:
            load_stack(config.stack_file, stage=config.stage, parameters=config.stack_parameters)
        except StackFileError as exc:
            raise click.BadParameter(str(exc), param_hint="--stack") from None
    iam_policy = config.iam_policy
    if iam_policy is not None:
        from ..sandbox.iam import IamPolicy

        try:
            IamPolicy.load(iam_policy)
        except SandboxError as exc:
            raise click.BadParameter(str(exc), param_hint="--iam") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Sandbox(config) as sb:
            timing = "faithful (seed periods)" if faithful else "fast (short alarm periods)"
            click.echo(
                f"sandbox: stage {config.stage}, account {sb.config.account_id}, region "
                f"{sb.config.region}, seed {config.seed}, timing {timing}, clock skew "
                f"{config.clock_skew_s:+g} s"
            )
            from ..sandbox.fis.api import FisService

            for component in sb.components:  # fast timing scales FIS polls too: said aloud
                if isinstance(component, FisService) and component.timing is not None:
                    click.echo(component.timing.note)
            if relaxed:
                click.echo("relaxed (NOT as AWS; temporary, see --strict):")
                for name in sorted(relaxed):
                    click.echo(f"  {name}: {RELAXATIONS[name]}")
            else:
                click.echo("strict: refuses and limits what AWS does (timing: see above)")
            if iam_policy is not None:
                click.echo(f"IAM enforcing: callers hold only {iam_policy}")
            for path, route in sorted(sb.routes.items()):
                methods, alias = ",".join(route.methods), route.alias or "$LATEST"
                url = sb.dataplane.url(path) if sb.dataplane else sb.api_url + path
                click.echo(f"  {methods} {url}  ->  {route.function}:{alias}")
            target_out.parent.mkdir(parents=True, exist_ok=True)
            target_out.write_text(target_toml(describe(sb)), encoding="utf-8")
            click.echo(f"target file: {target_out}  (gameday ... --target {target_out})")
            click.echo("point boto3 / the aws CLI / chaostoolkit-aws here:")
            for key, value in sb.env().items():
                click.echo(f"  export {key}={value}")
            click.echo(f"  export GAMEDAY_API_URL={sb.api_url}")
            click.echo("press Ctrl-C to stop", nl=True)
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
            click.echo("sandbox: stopping")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("sandbox: stopped")
