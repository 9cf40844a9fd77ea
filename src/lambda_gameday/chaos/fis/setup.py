"""What a Lambda function needs before FIS can inject into it, checked (preflight) or
listed as changes a team would make (`gameday fis plan`).

The FIS user guide's prerequisites (docs.aws.amazon.com/fis/latest/userguide/
use-lambda-actions.html): an S3 bucket in the function's Region; the function's role may
`s3:ListBucket` (prefix condition) and `s3:GetObject` under the configuration location; the
experiment role may write there; the function carries the FIS extension layer of its
Region and architecture (ARN in the public SSM parameter
`/aws/service/fis/lambda-extension/AWS-FIS-extension-<arch>/1.x.x`, docs.aws.amazon.com/
fis/latest/userguide/actions-lambda-extension-arns.html), `AWS_LAMBDA_EXEC_WRAPPER=
/opt/aws-fis/bootstrap` and `AWS_FIS_CONFIGURATION_LOCATION`.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

from ...aws import Clients, aws_errors
from ...config import FisSettings, Target
from ...exceptions import ConfigError, ResourceNotFound

__all__ = [
    "WRAPPER",
    "Change",
    "FunctionSetup",
    "extension_layer",
    "parse_location",
    "plan_changes",
    "preflight",
    "read_setup",
]

WRAPPER = "/opt/aws-fis/bootstrap"
PARAMETER = "/aws/service/fis/lambda-extension/AWS-FIS-extension-{arch}/1.x.x"
MAX_LAYERS = 5  # Lambda's limit on layers per function

ChangeKind = Literal["layer", "env", "bucket", "role-policy", "experiment-role", "template"]


@dataclass(frozen=True)
class Change:
    """One change a team makes for FIS; `fix` is the one line a preflight prints."""

    kind: ChangeKind
    problem: str
    fix: str
    detail: str = ""  # a policy or template document, for the plan


@dataclass(frozen=True)
class FunctionSetup:
    name: str
    arch: str
    role_arn: str
    layers: tuple[str, ...]
    env: Mapping[str, str]


def parse_location(location: str) -> tuple[str, str]:
    """`arn:aws:s3:::bucket/prefix/` -> (bucket, prefix/)."""
    rest = location.split(":::", 1)[-1]
    bucket, _, prefix = rest.partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def settings_of(target: Target) -> FisSettings:
    if target.fis is None:
        raise ConfigError(
            f"{target.source}: the fis backend needs a [fis] table with role_arn (the"
            " experiment role) and configuration_location (arn:aws:s3:::BUCKET/FisConfigs/)"
        )
    return target.fis


def read_setup(clients: Clients, function: str, qualifier: str | None = None) -> FunctionSetup:
    """The configuration of `function` ($LATEST, or the version a qualifier names)."""
    where = f"{function}:{qualifier}" if qualifier else function
    with aws_errors(f"reading {where}'s configuration"):
        if qualifier:
            cfg = clients.lambda_().get_function_configuration(
                FunctionName=function, Qualifier=qualifier
            )
        else:
            cfg = clients.lambda_().get_function_configuration(FunctionName=function)
    return FunctionSetup(
        name=function,
        arch=str((cfg.get("Architectures") or ["x86_64"])[0]),
        role_arn=str(cfg.get("Role", "")),
        layers=tuple(str(layer["Arn"]) for layer in cfg.get("Layers", [])),
        env=dict(cfg.get("Environment", {}).get("Variables", {})),
    )


def extension_layer(clients: Clients, arch: str) -> str:
    """The FIS extension's layer ARN for the target's Region and `arch`, from the public
    SSM parameter (never a hard-coded ARN)."""
    name = PARAMETER.format(arch=arch)
    with aws_errors(f"reading the public SSM parameter {name}"):
        return str(clients.ssm().get_parameter(Name=name)["Parameter"]["Value"])


def _role_documents(clients: Clients, role_arn: str) -> list[Mapping[str, Any]]:
    """The identity policies of a role (inline and attached, default versions)."""
    iam: Any = clients.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    docs: list[Mapping[str, Any]] = []

    def doc(raw: object) -> Mapping[str, Any]:
        text = raw if isinstance(raw, str) else json.dumps(raw)
        parsed = json.loads(unquote(text)) if isinstance(text, str) else {}
        return parsed if isinstance(parsed, Mapping) else {}

    with aws_errors(f"reading role {role}'s policies"):
        for name in iam.list_role_policies(RoleName=role).get("PolicyNames", []):
            docs.append(doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]))
        for att in iam.list_attached_role_policies(RoleName=role).get("AttachedPolicies", []):
            pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"]
            )
            docs.append(doc(version["PolicyVersion"]["Document"]))
    return docs


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def allows(docs: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow (and no Deny) statement covers `action` on `resource` (wildcards as
    IAM matches them; conditions are not evaluated, so this can only over-approve a
    statement whose condition does not hold)."""
    allowed = False
    for document in docs:
        for st in _as_list_of_maps(document.get("Statement")):
            actions = _as_list(st.get("Action"))
            resources = _as_list(st.get("Resource"))
            hit = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources
            )
            if hit and st.get("Effect") == "Deny":
                return False
            allowed = allowed or (hit and st.get("Effect") == "Allow")
    return allowed


def _as_list_of_maps(value: object) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def read_policy(bucket: str, prefix: str) -> dict[str, object]:
    """The function role's policy, as the FIS user guide gives it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowListingConfigLocation",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
            {
                "Sid": "AllowReadingObjectFromConfigLocation",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
            },
        ],
    }


def write_policy(bucket: str, prefix: str) -> dict[str, object]:
    """The experiment role's policy for Lambda actions (user guide: write the
    configuration; read the target functions)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowWritingConfig",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
            },
            {
                "Sid": "AllowReadingTargets",
                "Effect": "Allow",
                "Action": ["lambda:GetFunction"],
                "Resource": "*",
            },
            {
                "Sid": "AllowListingTargets",
                "Effect": "Allow",
                "Action": ["tag:GetResources"],
                "Resource": "*",
            },
        ],
    }


def _bucket_exists(clients: Clients, bucket: str) -> bool:
    import botocore.exceptions

    with aws_errors(f"reading bucket {bucket}"):
        try:
            clients.s3().head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            # HeadBucket has no body: the error code is the HTTP status
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                return False
            raise
    return True


def plan_changes(
    clients: Clients, target: Target, function: str, qualifier: str | None = None
) -> list[Change]:
    """Every change `function` (or the version `qualifier` names) still needs for FIS, in
    the order a team makes them."""
    fis = settings_of(target)
    setup = read_setup(clients, function, qualifier)
    bucket, prefix = parse_location(fis.configuration_location)
    changes: list[Change] = []
    layer = extension_layer(clients, setup.arch)
    if layer not in setup.layers:
        kept = [arn for arn in setup.layers if "aws-fis-extension" not in arn]
        if len(kept) + 1 > MAX_LAYERS:
            fix = f"{function} already has {len(kept)} layers: free one, then add {layer}"
        else:
            fix = (
                f"add layer {layer} to {function} (UpdateFunctionConfiguration replaces the"
                f" list: keep its {len(kept)} other layer(s))"
            )
        changes.append(Change("layer", f"{function}: no FIS extension layer for {setup.arch}", fix))
    want = {
        "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER,
        "AWS_FIS_CONFIGURATION_LOCATION": fis.configuration_location,
    }
    for key, value in want.items():
        if setup.env.get(key) != value:
            changes.append(
                Change(
                    "env",
                    f"{function}: {key} is {setup.env.get(key)!r}",
                    f"set {key}={value} on {function}",
                )
            )
    if not _bucket_exists(clients, bucket):
        changes.append(
            Change(
                "bucket",
                f"bucket {bucket} does not exist",
                f"create S3 bucket {bucket} in {target.region} (one bucket per Region)",
            )
        )
    try:
        docs = _role_documents(clients, setup.role_arn)
    except ResourceNotFound:
        docs = []
    readable = allows(docs, "s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}x") and allows(
        docs, "s3:ListBucket", f"arn:aws:s3:::{bucket}"
    )
    if not readable:
        changes.append(
            Change(
                "role-policy",
                f"{function}'s role {setup.role_arn} cannot read {fis.configuration_location}",
                f"attach the FIS read policy to {setup.role_arn.rsplit('/', 1)[-1]}",
                json.dumps(read_policy(bucket, prefix), indent=2),
            )
        )
    role_name = fis.role_arn.rsplit("/", 1)[-1]
    iam: Any = clients.client("iam")
    try:
        with aws_errors(f"reading the experiment role {role_name}"):
            iam.get_role(RoleName=role_name)
    except ResourceNotFound:
        changes.append(
            Change(
                "experiment-role",
                f"experiment role {fis.role_arn} does not exist",
                f"create role {role_name} trusted by fis.amazonaws.com with the FIS write policy",
                json.dumps(write_policy(bucket, prefix), indent=2),
            )
        )
    return changes


def preflight(
    clients: Clients, target: Target, function: str, qualifier: str | None = None
) -> list[str]:
    """One line per missing item, each with its fix (empty: ready)."""
    changes = plan_changes(clients, target, function, qualifier)
    return [f"{c.problem}; fix: {c.fix}" for c in changes]


def apply_changes(
    clients: Clients, target: Target, function: str, changes: list[Change]
) -> list[str]:
    """Make `changes` on a sandbox target (rehearsal only: on AWS a team makes them
    through its own infrastructure code; `gameday fis plan` prints them)."""
    from ...exceptions import SafetyError
    from ...lambda_wait import wait_function_updated

    if target.kind != "sandbox":
        raise SafetyError(
            f"{target.name} is an AWS target: `gameday fis plan` only prints the changes;"
            " make them with your infrastructure code"
        )
    fis = settings_of(target)
    bucket, prefix = parse_location(fis.configuration_location)
    setup = read_setup(clients, function)
    iam: Any = clients.client("iam")
    done: list[str] = []
    kinds = {c.kind for c in changes}
    if kinds & {"layer", "env"}:
        layers = [arn for arn in setup.layers if "aws-fis-extension" not in arn]
        layers.append(extension_layer(clients, setup.arch))
        env = dict(setup.env) | {
            "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER,
            "AWS_FIS_CONFIGURATION_LOCATION": fis.configuration_location,
        }
        with aws_errors(f"configuring {function} for FIS"):
            wait_function_updated(clients, function)
            clients.lambda_().update_function_configuration(
                FunctionName=function, Layers=layers, Environment={"Variables": env}
            )
            wait_function_updated(clients, function)
        done.append(f"{function}: FIS extension layer and environment set on $LATEST")
    if "bucket" in kinds:
        with aws_errors(f"creating bucket {bucket}"):
            if target.region == "us-east-1":
                clients.s3().create_bucket(Bucket=bucket)
            else:
                clients.s3().create_bucket(
                    Bucket=bucket,
                    CreateBucketConfiguration={"LocationConstraint": target.region},  # type: ignore[typeddict-item]
                )
        done.append(f"bucket {bucket} created")
    if "role-policy" in kinds:
        role = setup.role_arn.rsplit("/", 1)[-1]
        with aws_errors(f"attaching the FIS read policy to {role}"):
            iam.put_role_policy(
                RoleName=role,
                PolicyName="gameday-fis-read",
                PolicyDocument=json.dumps(read_policy(bucket, prefix)),
            )
        done.append(f"role {role}: FIS read policy attached")
    if "experiment-role" in kinds:
        role = fis.role_arn.rsplit("/", 1)[-1]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "fis.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        with aws_errors(f"creating the experiment role {role}"):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
            iam.put_role_policy(
                RoleName=role,
                PolicyName="gameday-fis-write",
                PolicyDocument=json.dumps(write_policy(bucket, prefix)),
            )
        done.append(f"experiment role {role} created")
    return done


def sandbox_settings(account_id: str) -> FisSettings:
    """The [fis] settings the embedded sandbox uses when none are given."""
    return FisSettings(
        role_arn=f"arn:aws:iam::{account_id}:role/gameday-fis-experiments",
        configuration_location="arn:aws:s3:::gameday-fis-config/FisConfigs/",
    )


def account_of(clients: Clients) -> str:
    """The account the target's credentials belong to."""
    sts: Any = clients.client("sts")
    with aws_errors("reading the caller identity"):
        return str(sts.get_caller_identity()["Account"])


def prepare_sandbox(clients: Clients, target: Target, functions: list[str]) -> list[str]:
    """Rehearsal on the embedded sandbox: make `gameday fis plan`'s changes for each
    function, as a team would before its first FIS game day."""
    done: list[str] = []
    for fn in functions:
        done += apply_changes(clients, target, fn, plan_changes(clients, target, fn))
    return done
