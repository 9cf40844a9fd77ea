"""`gameday iam-policy`: the least-privilege IAM policy for what a plan will do."""

from __future__ import annotations

import json
import re

import click

from .options import experiments_dir_option, plan_option, target_option_with, valued_option

__all__ = ["iam_policy"]


@click.command("iam-policy")
@target_option_with(
    "Target TOML file whose resources the policy names (default: the sandbox's layout)."
    " Env: GAMEDAY_TARGET."
)
@plan_option
@valued_option(
    "--account-id",
    type=click.STRING,
    default="*",
    help="The target's AWS account id, written into every ARN.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="The run will be `gameday run --publish`: add cloudwatch:PutMetricData, limited to"
    " the run's metric namespaces.",
)
@experiments_dir_option("Where the plan's experiment names are looked up.")
def iam_policy(
    target_file: str | None,
    plan_file: str | None,
    account_id: str,
    publish: bool,
    experiments_dir: str,
) -> None:
    """Print the IAM policy (JSON) the harness's credentials need for PLAN on TARGET:
    read-only for a plan of gates (conformance, lint, synthetics, load), plus exactly the
    writes of its chaos experiments and their undo steps. Nothing is called.

    \b
    Exit codes: 0 printed; 2 bad input (target, plan, experiment, account id).
    """
    from ..config import load_target, sandbox_target
    from ..exceptions import ConfigError
    from ..gameday.plan import check_references, default_plan, load_plan
    from ..iam_policy import policy_for

    if account_id != "*" and not re.fullmatch(r"\d{12}", account_id):
        raise ConfigError(f"--account-id {account_id!r}: an AWS account id is 12 digits")
    plan = load_plan(plan_file) if plan_file else default_plan()
    check_references(plan)
    if target_file is not None:
        target = load_target(target_file)
    else:  # the sandbox's layout; its URLs do not appear in a policy
        target = sandbox_target("http://127.0.0.1:1", "http://127.0.0.1:1", region="ap-south-1")
    doc = policy_for(
        plan, target, account=account_id, experiments_dir=experiments_dir, publish=publish
    )
    click.echo(json.dumps(doc, indent=2))
