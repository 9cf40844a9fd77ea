"""IAM as FIS and its Lambda extension meet it, read in-process from moto's IAM.

* The experiment role must exist and trust `fis.amazonaws.com` (sts:AssumeRole), or FIS
  cannot run the experiment (docs.aws.amazon.com/fis/latest/userguide/
  getting-started-iam-service-role.html); it needs `s3:PutObject` under the configuration
  location to write it.
* The extension reads the configuration with the function's execution role: without
  `s3:GetObject` under the location it reads nothing and injects nothing
  (docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html, prerequisites).

Identity policies only (inline and attached, default versions), through the twin's IAM
policy matcher; a statement with a Condition is not evaluated (iam.py says how it counts).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ..errors import SandboxError
from ..iam import IamPolicy

__all__ = ["role_allows", "trusts_fis"]


def _role(account_id: str, role_arn: str) -> Any | None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account_id]["global"]
    try:
        return backend.get_role(role_arn.rsplit("/", 1)[-1])
    except Exception:  # moto raises NotFoundException
        return None


def _documents(role: Any) -> list[object]:
    docs: list[object] = []
    raw = [*role.policies.values()]
    for managed in role.managed_policies.values():
        raw += [v.document for v in managed.versions if v.is_default]
    for text in raw:
        try:
            docs.append(json.loads(unquote(text)) if isinstance(text, str) else text)
        except ValueError:
            continue
    return docs


def role_allows(account_id: str, role_arn: str, action: str, resource: str) -> bool:
    """Whether the role's identity policies allow `action` on `resource` (no Deny)."""
    role = _role(account_id, role_arn)
    if role is None:
        return False
    allowed = False
    for doc in _documents(role):
        try:
            policy = IamPolicy.parse(doc)
        except SandboxError:
            continue
        matching = [s for s in policy.statements if s.matches(action, resource)]
        if any(s.effect == "Deny" for s in matching):
            return False
        allowed = allowed or any(s.effect == "Allow" for s in matching)
    return allowed


def trusts_fis(account_id: str, role_arn: str) -> bool:
    """Whether the role exists and its trust policy lets fis.amazonaws.com assume it."""
    role = _role(account_id, role_arn)
    if role is None:
        return False
    try:
        trust = json.loads(unquote(role.assume_role_policy_document or "{}"))
    except ValueError:
        return False
    raw = trust.get("Statement") if isinstance(trust, dict) else None
    for st in raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []:
        principal = st.get("Principal", {}) if isinstance(st, dict) else {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            st.get("Effect") == "Allow"
            and "fis.amazonaws.com" in services
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
        ):
            return True
    return False
