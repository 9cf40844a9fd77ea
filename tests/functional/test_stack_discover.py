"""`gameday target discover` against a stack created in the twin through CloudFormation
gives the same target as `gameday target init` on its template; the twin's CloudFormation
refuses what AWS refuses."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lambda_gameday.sandbox import Sandbox

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"
CDK = STACKS / "cdk-app" / "GreeterStack.template.json"
SAM = STACKS / "sam-app" / "template.yaml"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _cfn(sb: Sandbox) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sb.config.region
    )
    return session.client("cloudformation", endpoint_url=sb.endpoint_url)


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def _common(sb: Sandbox) -> list[str]:
    return [
        "--kind", "sandbox", "--region", sb.config.region,
        "--api-url", sb.api_url, "--endpoint-url", sb.endpoint_url,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("stack", "file", "params"),
    [
        ("GreeterStack", CDK, {"AlarmPeriod": "1"}),
        ("shop", SAM, {"AlarmPeriod": "1"}),
    ],
)
def test_discover_matches_init(sb: Sandbox, stack: str, file: Path, params: dict[str, str]) -> None:
    cfn = _cfn(sb)
    cfn.create_stack(
        StackName=stack,
        TemplateBody=file.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )
    found = gameday("target", "discover", "--stack-name", stack, *_common(sb))
    assert found.returncode == 0, found.stderr
    flags = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    written = gameday(
        "target", "init", "--stack", str(file), "--stack-name", stack, *flags, *_common(sb)
    )
    assert written.returncode == 0, written.stderr
    discovered, initialised = tomllib.loads(found.stdout), tomllib.loads(written.stdout)
    assert discovered == initialised
    assert discovered["functions"] and discovered["deployment_groups"]
    assert found.stdout.startswith("# Written by `gameday target discover` from stack ")


def test_list_stack_resources_pages_and_discover_reads_every_page(sb: Sandbox) -> None:
    resources: dict[str, Any] = {
        "App": {"Type": "AWS::CodeDeploy::Application", "Properties": {"ApplicationName": "pg"}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "pg"}},
    }
    for i in range(16):  # 16 x 7 + 2 = 114 resources: two pages
        fn = f"Fn{i}"
        resources |= {
            fn: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"pg-{i}",
                    "Handler": "i.h",
                    "Runtime": "python3.12",
                    "Role": "arn:aws:iam::123456789012:role/r",
                    "Code": {"ZipFile": "x"},
                },
            },
            f"{fn}V": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": fn}}},
            f"{fn}A": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": fn},
                    "Name": "live",
                    "FunctionVersion": {"Fn::GetAtt": [f"{fn}V", "Version"]},
                },
                "UpdatePolicy": {
                    "CodeDeployLambdaAliasUpdate": {
                        "ApplicationName": {"Ref": "App"},
                        "DeploymentGroupName": {"Ref": f"{fn}G"},
                    }
                },
            },
            f"{fn}G": {
                "Type": "AWS::CodeDeploy::DeploymentGroup",
                "Properties": {
                    "ApplicationName": {"Ref": "App"},
                    "DeploymentGroupName": f"pg-{i}",
                    "ServiceRoleArn": "arn:aws:iam::123456789012:role/cd",
                    "AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": f"pg-{i}-e"}]},
                },
            },
            f"{fn}E": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"pg-{i}-e",
                    "MetricName": "Errors",
                    "Namespace": "AWS/Lambda",
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 0,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Dimensions": [{"Name": "Resource", "Value": f"pg-{i}:live"}],
                },
            },
            f"{fn}R": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "PathPart": f"pg-{i}",
                },
            },
            f"{fn}M": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Ref": f"{fn}R"},
                    "HttpMethod": "GET",
                    "Integration": {
                        "Type": "AWS_PROXY",
                        "Uri": {
                            "Fn::Sub": f"arn:aws:apigateway:r:lambda:path/f/${{{fn}A}}/invocations"
                        },
                    },
                },
            },
        }
    cfn = _cfn(sb)
    cfn.create_stack(StackName="paged", TemplateBody=json.dumps({"Resources": resources}))
    first = cfn.list_stack_resources(StackName="paged")
    assert len(first["StackResourceSummaries"]) == 100 and "NextToken" in first
    every = [
        r
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName="paged")
        for r in page["StackResourceSummaries"]
    ]
    assert len(every) == len(resources)
    assert len(cfn.describe_stack_resources(StackName="paged")["StackResources"]) == 100
    found = gameday("target", "discover", "--stack-name", "paged", *_common(sb))
    assert found.returncode == 0, found.stderr
    target = tomllib.loads(found.stdout)
    assert sorted(f["name"] for f in target["functions"]) == sorted(f"pg-{i}" for i in range(16))
    assert len(target["deployment_groups"]) == 16 and len(target["alarms"]) == 16


@pytest.mark.parametrize(
    ("name", "body", "code", "fragment"),
    [
        (
            "shop2",
            SAM.read_text(),
            "ValidationError",
            "'AWS::Lambda::Function' with identifier 'shop-orders' already exists",
        ),
        (
            "queue",
            json.dumps({"Resources": {"Q": {"Type": "AWS::DynamoDB::Table"}}}),
            "ValidationError",
            "cannot create resources of type AWS::DynamoDB::Table",
        ),
        (
            "broken",
            (STACKS / "bad" / "ref-to-nothing.yaml").read_text(),
            "ValidationError",
            "Resources.Errors.Properties.Dimensions[0].Value.Ref: Ref to 'Fnn'",
        ),
    ],
)
def test_twin_cloudformation_refusals(
    sb: Sandbox, name: str, body: str, code: str, fragment: str
) -> None:
    cfn = _cfn(sb)
    for made, file in (("shop", SAM), ("GreeterStack", CDK)):  # unless an earlier test did
        with contextlib.suppress(ClientError):
            cfn.create_stack(StackName=made, TemplateBody=file.read_text())
    with pytest.raises(ClientError) as err:
        cfn.create_stack(StackName=name, TemplateBody=body)
    assert err.value.response["Error"]["Code"] == code
    assert fragment in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as again:
        cfn.create_stack(StackName="GreeterStack", TemplateBody=body)
    assert again.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_discover_of_an_unknown_stack_is_one_line(sb: Sandbox) -> None:
    found = gameday("target", "discover", "--stack-name", "nope", *_common(sb))
    assert found.returncode == 3, found.stderr
    assert (
        found.stderr.strip().count("\n") == 0
        and "Stack with id nope does not exist" in found.stderr
    )
