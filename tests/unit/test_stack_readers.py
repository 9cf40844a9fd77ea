"""Stack readers: SAM, CloudFormation and Serverless files into one stack model; bad files
are one line naming the place in the file, and exit 2 through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lambda_gameday.sandbox.stacks import StackFileError, load_stack, parse_stack

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"
SAM = STACKS / "sam-app" / "template.yaml"
CDK = STACKS / "cdk-app" / "GreeterStack.template.json"
SLS = STACKS / "sls-app" / "serverless.yml"
BAD = STACKS / "bad"


def test_sam_app_through_the_transform() -> None:
    stack = load_stack(SAM, parameters={"AlarmPeriod": "10"})
    assert stack.format == "sam" and stack.name == "sam-app"
    orders = stack.function("OrdersFunction")
    assert orders is not None and orders.name == "shop-orders"
    assert [(r.method, r.path, r.alias, r.api, r.stage) for r in orders.routes] == [
        ("GET", "/orders", "live", "REST", "Prod"),  # SAM's implicit API deploys stage Prod
        ("GET", "/orders/{orderId}", "live", "REST", "Prod"),
    ]
    assert [(a.name, a.version, a.provisioned) for a in orders.aliases] == [("live", "1", 1)]
    assert orders.memory_mb == 256 and orders.timeout_s == 5  # from Globals
    assert dict(orders.environment) == {"TABLE_NAME": "shop-orders"}
    catalog = stack.function("CatalogFunction")
    assert catalog is not None
    assert [(r.method, r.path, r.api, r.stage) for r in catalog.routes] == [
        ("GET", "/catalog", "HTTP", "$default")
    ]
    groups = {g.function: g for g in stack.groups}
    assert groups["shop-orders"].alarms == ("shop-orders-live-errors",)
    assert groups["shop-orders"].config == "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
    assert groups["shop-orders"].pre_traffic_hook == "CodeDeployHook_shop-orders-pre"
    assert groups["shop-orders"].where == "Resources.OrdersFunction.Properties.DeploymentPreference"
    assert groups["shop-catalog"].alarms == ()
    # DeploymentPreference Enabled: false on the hooks: no group for them
    assert set(groups) == {"shop-orders", "shop-catalog"}
    (alarm,) = stack.alarms
    assert alarm.period == 10  # the parameter override
    assert dict(alarm.dimensions) == {"FunctionName": "shop-orders", "Resource": "shop-orders:live"}
    assert stack.unsupported == ("AWS::SQS::Queue",)
    assert set(stack.api_kinds) == {"REST", "HTTP"}


def test_cdk_style_template() -> None:
    stack = load_stack(CDK)
    assert stack.format == "cloudformation" and stack.name == "GreeterStack"
    (fn,) = stack.functions
    assert fn.name == "GreeterStack-GreeterFunction5E6F7A8B"
    assert fn.memory_mb == 256  # Fn::If on a false condition
    assert [(r.method, r.path, r.alias) for r in fn.routes] == [("GET", "/greetings", "live")]
    assert fn.code_path == "asset.3f1e0c"
    (group,) = stack.groups
    assert (group.function, group.alias) == (fn.name, "live")
    (alarm,) = stack.alarms
    assert group.alarms == (alarm.name,)
    # Fn::Join / Fn::Select / Fn::Split over the alias ARN
    assert dict(alarm.dimensions)["Resource"] == f"{fn.name}:live"
    (topic,) = stack.topics
    assert alarm.topics == (topic.name,)
    assert topic.subscriptions == (("email", "oncall@example.com"),)
    assert stack.unsupported == ()  # IAM, permissions, stages, CDK metadata are quiet
    prod = load_stack(CDK, parameters={"Stage": "prod"})
    assert prod.functions[0].memory_mb == 1024


def test_serverless_short_http_alerts_and_canary_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTES_ALARM_PERIOD", "30")
    stack = load_stack(SLS, stage="qa")
    assert stack.format == "serverless" and stack.application == "notes-qa"
    routes = {(r.method, r.path): (f.name, r.alias, r.api) for f, r in stack.routes}
    assert routes == {
        ("GET", "/notes"): ("notes-qa-listNotes", "Live", "REST"),
        ("GET", "/stats"): ("notes-qa-getStats", "Live", "HTTP"),
        ("POST", "/notes/new"): ("notes-qa-createNote", None, "REST"),
    }
    (alarm,) = stack.alarms
    assert alarm.name == "notes-qa-listNotes-functionErrors"
    assert (alarm.metric, alarm.statistic, alarm.period, alarm.threshold) == (
        "Errors",
        "Sum",
        30,
        0,
    )
    assert alarm.dimensions == (("FunctionName", "notes-qa-listNotes"),)
    assert alarm.topics == ("notes-qa-alerts",)
    groups = {g.function: g for g in stack.groups}
    # the canary plugin's alarms reference the aws-alerts logical id
    assert groups["notes-qa-listNotes"].alarms == (alarm.name,)
    assert groups["notes-qa-getStats"].alarms == ()
    assert "notes-qa-createNote" not in groups
    assert stack.unsupported == ("AWS::DynamoDB::Table",)


def test_http_api_routes_and_rest_resources_in_plain_cloudformation() -> None:
    text = """
Parameters:
  Name: {Type: String, Default: api}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "${Name}-fn"
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: "x"}
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {ProtocolType: HTTP, Name: h}
  Integ:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Fn.Arn
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: GET /items
      Target: !Join ["/", [integrations, !Ref Integ]]
"""
    stack = parse_stack(text, source="h.yaml")
    (fn,) = stack.functions
    assert fn.name == "api-fn"
    assert [(r.method, r.path, r.alias, r.api) for r in fn.routes] == [
        ("GET", "/items", None, "HTTP")
    ]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("broken.yaml", "broken.yaml: not valid YAML (line 7, column 6: "),
        (
            "missing-handler.yaml",
            "missing-handler.yaml: Resources.Fn.Properties.Handler is required",
        ),
        (
            "ref-to-nothing.yaml",
            "ref-to-nothing.yaml: Resources.Errors.Properties.Dimensions[0].Value.Ref: "
            "Ref to 'Fnn', which is not a parameter or resource",
        ),
        (
            "unsupported-intrinsic.yaml",
            "unsupported-intrinsic.yaml: Resources.Fn.Properties.Environment.Variables.TABLE."
            "Fn::ImportValue: unsupported intrinsic function Fn::ImportValue",
        ),
    ],
)
def test_bad_templates_are_one_line_naming_the_place(name: str, fragment: str) -> None:
    with pytest.raises(StackFileError) as err:
        load_stack(BAD / name)
    message = str(err.value)
    assert fragment in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("just: a mapping\n", "not a stack file"),
        ("- a list\n", "the top level must be a mapping"),
        (
            "Parameters: {Env: {Type: String}}\nResources:\n  T: {Type: AWS::SNS::Topic}\n",
            "Parameters.Env: no Default; give one with --param Env=VALUE",
        ),
        (
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Condition: Nope\n",
            "Resources.A.Condition: condition 'Nope' is not defined in Conditions",
        ),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
            "    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12}\n",
            "t.yaml: Resources.F:",
        ),
    ],
)
def test_more_bad_input(text: str, fragment: str) -> None:
    with pytest.raises(StackFileError) as err:
        parse_stack(text, source="t.yaml")
    assert fragment in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(StackFileError, match="--param Nope names no parameter"):
        load_stack(CDK, parameters={"Nope": "1"})


@pytest.mark.parametrize(
    "name", ["broken.yaml", "ref-to-nothing.yaml", "unsupported-intrinsic.yaml"]
)
def test_cli_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    for args in (
        ["target", "init", "--stack", str(BAD / name)],
        ["lint", "--template", str(BAD / name)],
        ["sandbox", "--stack", str(BAD / name)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "lambda_gameday.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], (args, proc.stderr)
        assert "Traceback" not in proc.stderr
