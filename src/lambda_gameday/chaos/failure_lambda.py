"""failure-lambda's preconditions, checked before a canary relies on them.

failure-lambda (github.com/gunnargrosch/failure-lambda) is a wrapper *in the function's
code*; it reads its configuration from the SSM parameter named by the function's
`FAILURE_INJECTION_PARAM` environment variable (or AppConfig, `FAILURE_APPCONFIG_*`). A
function set up for it carries that variable; one without it is not wrapped, and a fault
written to a parameter changes nothing — the run would then wait for an alarm that can
never fire and blame detection. And the function's execution role must be allowed
`ssm:GetParameter` on the parameter the canary version reads, or the wrapper cannot see
the fault either.

So before a failure-lambda canary: the function's environment names a failure-lambda
source, and the role's policies (inline and attached, read through IAM) allow
`ssm:GetParameter` on the canary's parameter. No wrapper at all is `HookMissing` (the plan
skips the experiment with the reason; alone it exits 3); a wrapped function whose role
may not read the parameter is a TargetError (exit 3). Both say how to fix it. When the
harness may not read IAM, the role check is skipped with a warning (the fault then may
still not reach traffic).
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from ..aws import aws_errors
from ..exceptions import ResourceNotFound, TargetError
from .faults import Scope

__all__ = [
    "FAILURE_LAMBDA_FAULTS",
    "canary_parameter",
    "check_failure_lambda",
    "hook_missing",
    "policy_allows",
]

log = logging.getLogger(__name__)

FAILURE_LAMBDA_FAULTS = ("exception", "latency", "statuscode", "timeout")
_SOURCES = ("FAILURE_INJECTION_PARAM", "FAILURE_APPCONFIG_APPLICATION")


def hook_missing(function: str, activity: str) -> str:
    """The one-line reason an experiment cannot reach `function` (not wrapped)."""
    return (
        f"no failure-injection hook: {function} is not set up for failure-lambda (no"
        f" FAILURE_INJECTION_PARAM or FAILURE_APPCONFIG_APPLICATION in its environment), so"
        f" {activity}'s fault could never reach traffic: wrap its handler with failure-lambda,"
        " or deliver the fault with the extension or fis backend"
    )


def canary_parameter(function: str) -> str:
    """The parameter only a canary version of `function` reads (deploy_canary writes it)."""
    return f"/gameday/{function}/canary-failure"


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _matches(patterns: Iterable[str], value: str) -> bool:
    # IAM wildcards: * any run, ? one character; action names are case-insensitive
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


def policy_allows(documents: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Whether identity policies allow `action` on `resource`: some Allow matches and no
    Deny does. Conditions are assumed met (so an Allow under a condition counts)."""
    allowed = False
    for doc in documents:
        statements = doc.get("Statement", [])
        for st in statements if isinstance(statements, list) else [statements]:
            if not isinstance(st, Mapping):
                continue
            acts, res = _listed(st.get("Action")), _listed(st.get("Resource"))
            if "NotAction" in st:
                hit_action = not _matches(_listed(st.get("NotAction")), action)
            else:
                hit_action = _matches(acts, action)
            if "NotResource" in st:
                hit_resource = not _matches(_listed(st.get("NotResource")), resource)
            else:
                hit_resource = _matches(res, resource)
            if hit_action and hit_resource:
                if st.get("Effect") == "Deny":
                    return False
                allowed = allowed or st.get("Effect") == "Allow"
    return allowed


def _document(raw: object) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):  # IAM returns URL-encoded JSON over the query protocol
        try:
            doc = json.loads(unquote(raw))
        except ValueError:
            return {}
        return doc if isinstance(doc, Mapping) else {}
    return {}


def _role_documents(sc: Scope, role_name: str) -> list[Mapping[str, Any]]:
    iam: Any = sc.clients.client("iam")
    docs: list[Mapping[str, Any]] = []
    with aws_errors(f"reading the policies of role {role_name}"):
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                got = iam.get_role_policy(RoleName=role_name, PolicyName=name)
                docs.append(_document(got["PolicyDocument"]))
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            for attached in page["AttachedPolicies"]:
                arn = attached["PolicyArn"]
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                got = iam.get_policy_version(PolicyArn=arn, VersionId=version)
                docs.append(_document(got["PolicyVersion"]["Document"]))
    return docs


def check_failure_lambda(sc: Scope, activity: str, function: str) -> None:
    """Raise TargetError with the fix when `function` cannot take a failure-lambda canary."""
    with aws_errors(f"{activity}: reading {function}'s configuration"):
        cfg = sc.clients.lambda_().get_function(FunctionName=function)["Configuration"]
    env = cfg.get("Environment", {}).get("Variables", {})
    if not any(env.get(k) for k in _SOURCES):
        from .names import HookMissing

        raise HookMissing(sc.target.source, hook_missing(function, activity))
    role_arn = str(cfg.get("Role", ""))
    role_name = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "*"
    param = canary_parameter(function)
    resource = f"arn:aws:ssm:{sc.target.region}:{account}:parameter{param}"
    try:
        docs = _role_documents(sc, role_name)
    except ResourceNotFound:
        raise TargetError(
            f"{activity}: {function}'s execution role {role_arn} does not exist"
        ) from None
    except TargetError as exc:
        log.warning("cannot check %s's role (%s); continuing", function, exc.one_line())
        return
    if not policy_allows(docs, "ssm:GetParameter", resource):
        raise TargetError(
            f"{activity}: {function}'s role {role_name} may not read {param}, so the canary"
            f" version could not see its fault: allow ssm:GetParameter on {resource} (e.g."
            f" arn:aws:ssm:{sc.target.region}:{account}:parameter/gameday/*) in the role's policy"
        )
