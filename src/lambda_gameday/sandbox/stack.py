"""The default stack, mirroring the seed's Serverless service: four health functions named
`<service>-<stage>-health-{comprehensive,liveness,readiness,startup}` (python3.12, memory
and timeout from the seed), version 1 published, aliases `production` and `canary` -> 1,
behind `/health`, `/health/live`, `/health/ready`, `/health/startup`.

Provisioned through the sandbox's own AWS endpoint with boto3, exactly as a deployment
would create it, so moto holds every resource the harness later reads.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .dependencies import DEPENDENCY_PARAM_PREFIX

__all__ = [
    "HEALTH_STACK",
    "FunctionDef",
    "StackInfo",
    "boto3_client",
    "code_zip",
    "lambda_role",
    "provision",
]


@dataclass(frozen=True)
class FunctionDef:
    short: str  # the Serverless function key, e.g. "health-liveness"
    path: str
    handler: str  # the seed's handler string (informational; the sandbox runs Python)
    memory_mb: int
    timeout_s: int
    # The seed's `aliases: production: provisioned: 5, canary: provisioned: 1` "for critical
    # functions": (production, canary) environments kept initialised.
    provisioned: tuple[int, int] = (0, 0)


_SRC = "src/functions/health/comprehensive-health"
HEALTH_STACK: tuple[FunctionDef, ...] = (
    FunctionDef(
        "health-comprehensive", "/health", f"{_SRC}.comprehensiveHealthCheck", 512, 10, (5, 1)
    ),
    FunctionDef("health-liveness", "/health/live", f"{_SRC}.livenessProbe", 256, 3),
    FunctionDef("health-readiness", "/health/ready", f"{_SRC}.readinessProbe", 512, 5, (5, 1)),
    FunctionDef("health-startup", "/health/startup", f"{_SRC}.startupProbe", 256, 5),
)
ALIASES = ("production", "canary")


@dataclass(frozen=True)
class StackInfo:
    functions: Mapping[str, FunctionDef]  # full function name -> definition
    bucket: str
    role_arn: str


def boto3_client(service: str, endpoint_url: str, region: str) -> Any:
    """A client for the sandbox endpoint, from its own session (never the default one)."""
    import boto3

    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="testing",
    )


def code_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
    return buf.getvalue()


def lambda_role(iam: Any, name: str) -> str:
    """Create an execution role Lambda may assume (its trust policy names
    lambda.amazonaws.com); returns the role's ARN."""
    return str(
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
    )


def provision(
    endpoint_url: str,
    region: str,
    *,
    service: str,
    stage: str,
    dependency_env: Mapping[str, str],
    before_publish: Any = None,
    bucket_suffix: str = "",
) -> StackInfo:
    """Create the stack. `before_publish(function_name)` runs after each function is created
    and before version 1 is published (the data plane registers the handler there)."""
    iam = boto3_client("iam", endpoint_url, region)
    s3 = boto3_client("s3", endpoint_url, region)
    ssm = boto3_client("ssm", endpoint_url, region)
    lam = boto3_client("lambda", endpoint_url, region)

    role = lambda_role(iam, f"{service}-{stage}-lambda-role")
    # bucket names are global across accounts: a second twin's account suffixes its own
    bucket = f"{service}-{stage}-health-check{bucket_suffix}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    for dep in ("database", "redis", "s3"):
        ssm.put_parameter(
            Name=DEPENDENCY_PARAM_PREFIX + dep,
            Type="String",
            Value=json.dumps({"state": "up", "latency_ms": 0}),
            Overwrite=True,
        )

    code = code_zip()
    functions: dict[str, FunctionDef] = {}
    for fdef in HEALTH_STACK:
        name = f"{service}-{stage}-{fdef.short}"
        functions[name] = fdef
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=fdef.handler,
            Code={"ZipFile": code},
            MemorySize=fdef.memory_mb,
            Timeout=fdef.timeout_s,
            Environment={
                "Variables": {
                    "FUNCTION_NAME": fdef.short,
                    "STAGE": stage,
                    "S3_BUCKET": bucket,
                    # the seed's functions are wrapped with failure-lambda (its own parameter)
                    "FAILURE_INJECTION_PARAM": f"/{service}-{stage}/failure-lambda/{fdef.short}",
                    **dependency_env,
                }
            },
        )
        if before_publish is not None:
            before_publish(name)
        version = lam.publish_version(FunctionName=name)["Version"]
        for alias, count in zip(ALIASES, fdef.provisioned, strict=True):
            lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
            if count:
                lam.put_provisioned_concurrency_config(
                    FunctionName=name, Qualifier=alias, ProvisionedConcurrentExecutions=count
                )
    # failure-lambda reads its parameter with the function's role: the team's own and the
    # game day's canary parameters (docs/aws.md, "failure-lambda")
    iam.put_role_policy(
        RoleName=f"{service}-{stage}-lambda-role",
        PolicyName="failure-lambda-parameters",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ssm:GetParameter",
                        "Resource": [
                            f"arn:aws:ssm:{region}:*:parameter/{service}-{stage}/failure-lambda/*",
                            f"arn:aws:ssm:{region}:*:parameter/gameday/*",
                        ],
                    }
                ],
            }
        ),
    )
    return StackInfo(functions, bucket, role)
