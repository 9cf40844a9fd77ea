"""Named, temporary relaxations of the strict twin.

The sandbox refuses and limits what AWS refuses and limits (issue 12). A few of those
refusals break harness code that has not yet been ported to what a real account allows; each
such refusal can be relaxed by name until the harness no longer needs it. They are
AWS-incompatible by definition: every one listed in `DEFAULT_LEGACY` is a promise to delete it.

Choose them with `SandboxConfig(legacy=...)`, `gameday sandbox --legacy NAME` / `--strict`, or
the environment variable `GAMEDAY_SANDBOX_LEGACY` (comma-separated names; `none` or empty
for none), which sets the default for every sandbox started in the process.
"""

from __future__ import annotations

import os
from typing import Final

from .errors import SandboxError

__all__ = ["DEFAULT_LEGACY", "ENV_VAR", "RELAXATIONS", "legacy_from_env", "parse_legacy"]

ENV_VAR: Final = "GAMEDAY_SANDBOX_LEGACY"

RELAXATIONS: Final[dict[str, str]] = {
    # API Gateway never returns the Lambda Invoke API's X-Amz-Executed-Version header to an
    # HTTP client (the harness reads the version the answer names, `version_source`).
    "executed-version-header": "API Gateway responses carry X-Amz-Executed-Version",
    # AWS counts control-plane calls per account and Region (Lambda 15/s...); the harness
    # paces every call (pacing.py).
    "unthrottled-api": "AWS API request-rate quotas are not enforced",
    # SNS delivers to SQS only with a queue policy allowing sns.amazonaws.com for the topic
    # (the notification drill sets one, through the ledger).
    "sns-sqs-without-policy": "SNS delivers to SQS queues whose policy does not allow it",
    # A function may use only layers of its own Region (the harness attaches its Region's
    # chaos-lambda-extension layer, chaos/awslambda/layers.py).
    "cross-region-layers": "functions may use public extension layers of another Region",
}

# Empty: the harness runs on the strict twin (issue 12). A name here is a promise to remove
# it; each stays available by name for reproducing an old run.
DEFAULT_LEGACY: Final[frozenset[str]] = frozenset()


def parse_legacy(raw: str) -> frozenset[str]:
    """`a,b` -> {a, b}; `none` or empty -> {}. Unknown names are a SandboxError."""
    names = {n.strip() for n in raw.split(",") if n.strip() and n.strip() != "none"}
    unknown = sorted(names - RELAXATIONS.keys())
    if unknown:
        raise SandboxError(
            f"unknown sandbox relaxation(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(RELAXATIONS))}"
        )
    return frozenset(names)


def legacy_from_env() -> frozenset[str]:
    raw = os.environ.get(ENV_VAR)
    return DEFAULT_LEGACY if raw is None else parse_legacy(raw)
