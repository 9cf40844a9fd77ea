"""Lint over stack files: unguarded preferences, hooks that never report, $LATEST routes,
and the live rules (dimensions, detection time) on the file's alarms."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_gameday.chaos.lint_stack import lint_stack
from lambda_gameday.findings import Finding
from lambda_gameday.sandbox.stacks import load_stack, parse_stack

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"
SAM = STACKS / "sam-app" / "template.yaml"
CDK = STACKS / "cdk-app" / "GreeterStack.template.json"
SLS = STACKS / "sls-app" / "serverless.yml"


def _rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.resource.split(": ", 1)[1]) for f in findings]


def test_sam_app_unguarded_canary_and_silent_hook() -> None:
    findings = lint_stack(load_stack(SAM, parameters={"AlarmPeriod": "10"}), budget_s=120)
    unguarded = [f for f in findings if f.rule == "deployment-unguarded"]
    assert len(unguarded) == 1
    assert unguarded[0].resource.endswith(
        "Resources.CatalogFunction.Properties.DeploymentPreference"
    )
    assert "unguarded: rolls back only on hook failure" in unguarded[0].message
    assert "CodeDeployHook_shop-catalog-pre" in unguarded[0].message
    hooks = [f for f in findings if f.rule == "hook-never-reports"]
    # smoke_only.py never reports; pre_traffic.py does
    assert len(hooks) == 1 and "smoke_only.py" in hooks[0].message
    assert hooks[0].severity == "error"
    assert not [f for f in findings if f.rule in ("route-latest", "wrong-dimensions")]
    # Period 10 on an AWS/Lambda metric: below its 1-minute resolution
    assert ("period-below-resolution", "alarm shop-orders-live-errors") in _rules(findings)


def test_cdk_template_guarded_on_the_alias() -> None:
    findings = lint_stack(load_stack(CDK), budget_s=300)
    rules = {f.rule for f in findings}
    assert not rules & {"deployment-unguarded", "wrong-dimensions", "route-latest"}
    assert "detection-over-budget" not in rules  # 60 s + AWS/Lambda delay < 300 s
    tight = lint_stack(load_stack(CDK), budget_s=120)
    assert "detection-over-budget" in {f.rule for f in tight}


def test_serverless_function_wide_alarm_latest_route_and_unguarded_canary() -> None:
    findings = lint_stack(load_stack(SLS), budget_s=300)
    rules = _rules(findings)
    assert ("deployment-unguarded", "functions.getStats.deploymentSettings") in rules
    assert ("wrong-dimensions", "alarm notes-dev-listNotes-functionErrors") in rules
    assert ("route-latest", "route POST /notes/new") in rules


def test_account_wide_alarm_guarding_a_canary_is_an_error() -> None:
    text = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.h
      Runtime: python3.12
      CodeUri: s3://b/k.zip
      AutoPublishAlias: live
      DeploymentPreference:
        Type: AllAtOnce
        Alarms: [!Ref AnyErrors]
  AnyErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: Errors
      Namespace: AWS/Lambda
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
"""
    findings = lint_stack(parse_stack(text, source="t.yaml"), budget_s=600)
    wrong = [f for f in findings if f.rule == "wrong-dimensions"]
    assert len(wrong) == 1 and wrong[0].severity == "error"
    assert "every function in the region" in wrong[0].message


@pytest.mark.parametrize(("path", "code"), [(SAM, 1), (SLS, 1)])
def test_gameday_lint_template_says_unguarded(path: Path, code: int, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", "lint", "--template", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == code, proc.stderr
    assert "unguarded: rolls back only on hook failure" in proc.stdout
    assert "hasivu" not in proc.stdout  # no sandbox was started and linted


def test_group_without_rollback_on_alarm_is_unguarded() -> None:
    template = json.loads(CDK.read_text())
    group = template["Resources"]["GreeterDeploymentGroup1C2D3E4F"]["Properties"]
    group["AutoRollbackConfiguration"] = {"Enabled": False}
    stack = parse_stack(json.dumps(template), source="GreeterStack.template.json")
    assert stack.groups[0].rollback_events == ()
    findings = [f for f in lint_stack(stack, budget_s=300) if f.rule == "deployment-unguarded"]
    assert len(findings) == 1 and "DEPLOYMENT_STOP_ON_ALARM is off" in findings[0].message
