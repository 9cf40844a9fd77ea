"""Lint rules: pure, table-driven. The seed's own alarms are the first customers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.chaos.lint import (
    AlarmSpec,
    DeploymentGroupSpec,
    FaultSpec,
    LintInputs,
    fastest_detection_s,
    lint,
)
from lambda_gameday.chaos.lint_reader import alarms_from_template, faults_from_experiments
from lambda_gameday.exceptions import ConfigError

# The seed's resources block, verbatim in what matters (tags and variables included).
SEED = """
service: hasivu
resources:
  Resources:
    ErrorRateAlarm:
      Type: AWS::CloudWatch::Alarm
      Properties:
        AlarmName: ${self:service}-${self:provider.stage}-error-rate
        AlarmDescription: Trigger rollback on high error rate
        MetricName: Errors
        Namespace: AWS/Lambda
        Statistic: Sum
        Period: 60
        EvaluationPeriods: 2
        Threshold: 10
        ComparisonOperator: GreaterThanThreshold
        TreatMissingData: notBreaching
        AlarmActions:
          - !Ref AlertTopic
    DurationAlarm:
      Type: AWS::CloudWatch::Alarm
      Properties:
        AlarmName: ${self:service}-${self:provider.stage}-duration
        MetricName: Duration
        Namespace: AWS/Lambda
        Statistic: Average
        Period: 60
        EvaluationPeriods: 2
        Threshold: 10000
        ComparisonOperator: GreaterThanThreshold
        TreatMissingData: notBreaching
    AlertTopic:
      Type: AWS::SNS::Topic
"""


@pytest.fixture
def seed_alarms(tmp_path: Path) -> list[AlarmSpec]:
    path = tmp_path / "serverless.yml"
    path.write_text(SEED)
    return alarms_from_template(path, {"self:provider.stage": "production"})


def test_seed_error_rate_alarm_cannot_meet_a_120s_mttr_and_the_arithmetic_is_shown(
    seed_alarms: list[AlarmSpec],
) -> None:
    # GIVEN the seed's alarms on a real AWS target and the seed's 2-minute MTTR
    findings = lint(LintInputs(alarms=seed_alarms, budget_s=120, on_aws=True))
    # THEN ErrorRateAlarm is flagged, with the arithmetic spelled out
    (over,) = [
        f for f in findings if f.rule == "detection-over-budget" and "error-rate" in f.resource
    ]
    assert over.resource == "alarm hasivu-production-error-rate"
    assert over.severity == "error"
    assert "60 s x 2 datapoints = 120 s + 60-120 s AWS/Lambda metric delay = 180-240 s" in (
        over.message
    )
    assert "120 s MTTR budget" in over.message and "Fix:" in over.line()
    # AND the alarms without dimensions are region-wide
    dims = [f for f in findings if f.rule == "wrong-dimensions"]
    assert {f.resource for f in dims} == {
        "alarm hasivu-production-error-rate",
        "alarm hasivu-production-duration",
    }


def test_without_metric_delay_the_seed_alarm_still_uses_the_whole_budget(
    seed_alarms: list[AlarmSpec],
) -> None:
    findings = lint(LintInputs(alarms=seed_alarms[:1], budget_s=120, on_aws=False))
    (over,) = [f for f in findings if f.rule == "detection-over-budget"]
    assert "60 s x 2 datapoints = 120 s, which already reaches" in over.message


def test_a_fast_alarm_passes_the_budget_rule() -> None:
    a = AlarmSpec(
        "fast",
        "HASIVU/Synthetics",
        "SuccessPercent",
        10,
        3,
        90,
        "LessThanThreshold",
        "Average",
        datapoints_to_alarm=2,
    )
    assert fastest_detection_s(a, None) == (20.0, 20.0)
    assert [f for f in lint(LintInputs([a])) if f.rule == "detection-over-budget"] == []


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"period": 45}, "Period 45 s is rejected by AWS"),
        ({"period": 0}, "Period 0 s is rejected"),
        ({"datapoints_to_alarm": 3}, "DatapointsToAlarm 3 exceeds EvaluationPeriods 2"),
        ({"period": 3600, "evaluation_periods": 25}, "exceeds one day"),
        ({"comparison": "Bigger"}, "ComparisonOperator 'Bigger'"),
        ({"statistic": "Median"}, "Statistic 'Median'"),
        ({"statistic": None, "extended_statistic": "q99"}, "ExtendedStatistic 'q99'"),
        ({"treat_missing": "zero"}, "TreatMissingData 'zero'"),
    ],
)
def test_configurations_aws_rejects(changes: dict[str, object], text: str) -> None:
    base = dict(
        name="a",
        namespace="AWS/Lambda",
        metric="Errors",
        period=60,
        evaluation_periods=2,
        threshold=1,
        comparison="GreaterThanThreshold",
        dimensions=(("FunctionName", "f"),),
    )
    base.update(changes)
    findings = lint(LintInputs([AlarmSpec(**base)], budget_s=1e9))  # type: ignore[arg-type]
    assert [f.message for f in findings if f.rule == "period-invalid" and text in f.message]


def test_sub_minute_period_on_lambda_metrics_warns_on_aws_only() -> None:
    a = AlarmSpec(
        "a",
        "AWS/Lambda",
        "Errors",
        10,
        1,
        1,
        "GreaterThanThreshold",
        dimensions=(("FunctionName", "f"),),
    )
    assert any(f.rule == "period-below-resolution" for f in lint(LintInputs([a], on_aws=True)))
    assert not any(f.rule == "period-below-resolution" for f in lint(LintInputs([a], on_aws=False)))


def test_function_wide_alarm_guarding_a_canary_is_flagged() -> None:
    a = AlarmSpec(
        "fn-errors",
        "AWS/Lambda",
        "Errors",
        60,
        1,
        1,
        "GreaterThanThreshold",
        dimensions=(("FunctionName", "fn"),),
    )
    g = DeploymentGroupSpec(
        "g",
        "app",
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        ("fn-errors",),
        True,
        ("DEPLOYMENT_STOP_ON_ALARM",),
    )
    (f,) = [f for f in lint(LintInputs([a], [g], on_aws=False)) if f.rule == "wrong-dimensions"]
    assert "Resource=fn:<alias>" in f.fix
    ok = AlarmSpec(
        "fn-errors",
        "AWS/Lambda",
        "Errors",
        60,
        1,
        1,
        "GreaterThanThreshold",
        dimensions=(("FunctionName", "fn"), ("Resource", "fn:production")),
    )
    assert not [
        f for f in lint(LintInputs([ok], [g], on_aws=False)) if f.rule == "wrong-dimensions"
    ]


ERRORS = AlarmSpec(
    "fn-errors",
    "AWS/Lambda",
    "Errors",
    60,
    1,
    1,
    "GreaterThanThreshold",
    dimensions=(("FunctionName", "fn"), ("Resource", "fn:production")),
)
DURATION = AlarmSpec(
    "fn-duration",
    "AWS/Lambda",
    "Duration",
    60,
    1,
    10_000,
    "GreaterThanThreshold",
    "Average",
    dimensions=(("FunctionName", "fn"), ("Resource", "fn:production")),
)


@pytest.mark.parametrize(
    ("fault", "invisible", "fix"),
    [
        (FaultSpec("x.json", "exception", "fn"), False, ""),
        (FaultSpec("x.json", "timeout", "fn"), False, ""),
        (FaultSpec("x.json", "error_body", "fn"), True, "body swap does not move Lambda Errors"),
        (FaultSpec("x.json", "throttle", "fn"), True, "Throttles"),
        (FaultSpec("x.json", "dependency", "fn"), True, "5XXError"),
        (FaultSpec("x.json", "latency", "fn", 2000), True, "p99"),
        (FaultSpec("x.json", "latency", "fn", 15000), False, ""),
    ],
)
def test_faults_their_alarms_cannot_see(fault: FaultSpec, invisible: bool, fix: str) -> None:
    inputs = LintInputs(
        [ERRORS, DURATION],
        faults=[fault],
        function_alarms={"fn": ("fn-errors", "fn-duration")},
        on_aws=False,
    )
    found = [f for f in lint(inputs) if f.rule == "fault-invisible"]
    assert bool(found) is invisible
    if invisible:
        assert fix in found[0].fix
        assert found[0].resource == f"{fault.kind} fault on fn (x.json)"


def test_unguarded_deployment_groups_and_short_bakes() -> None:
    no_alarms = DeploymentGroupSpec("g1", "app", "CodeDeployDefault.LambdaAllAtOnce", ())
    no_rollback = DeploymentGroupSpec(
        "g2",
        "app",
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        ("fn-errors",),
        True,
        ("DEPLOYMENT_FAILURE",),
    )
    short = DeploymentGroupSpec(
        "g3",
        "app",
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        ("fn-errors",),
        True,
        ("DEPLOYMENT_STOP_ON_ALARM",),
    )
    findings = lint(LintInputs([ERRORS], [no_alarms, no_rollback, short], on_aws=True))
    by_group = {(f.rule, f.resource) for f in findings}
    assert ("deployment-unguarded", "deployment group app/g1") in by_group
    assert ("deployment-unguarded", "deployment group app/g2") in by_group
    assert ("bake-shorter-than-detection", "deployment group app/g3") in by_group


def test_experiments_are_read_for_faults_with_configuration_substituted(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_text(
        '{"configuration": {'
        ' "stage": {"type": "env", "key": "GAMEDAY_TEST_STAGE_UNSET", "default": "dev"}},'
        ' "method": ['
        '{"type": "action", "name": "a", "provider": {"type": "python", "module": "m",'
        ' "func": "deploy_canary", "arguments":'
        ' {"function_name": "hasivu-${stage}-health-liveness", "fault": "exception"}}},'
        '{"type": "action", "name": "b", "provider": {"type": "python", "module": "m",'
        ' "func": "dependency_down", "arguments": {"dependency": "database"}}},'
        '{"type": "action", "name": "c", "provider": {"type": "python", "module": "m",'
        ' "func": "deploy_canary", "arguments": {"function_name": "f", "fault": "latency",'
        ' "latency_ms": 1500, "timeout_s": 1}}}]}'
    )
    faults = faults_from_experiments([tmp_path / "e.json"], "ready-fn")
    assert [(f.kind, f.function) for f in faults] == [
        ("exception", "hasivu-dev-health-liveness"),
        ("dependency", "ready-fn"),
        ("timeout", "f"),
    ]


def test_bad_template_is_one_line_config_error(tmp_path: Path) -> None:
    p = tmp_path / "t.yml"
    p.write_text("Resources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML") as err:
        alarms_from_template(p)
    assert "\n" not in str(err.value)


def test_short_period_is_an_error_on_aws_and_a_warning_on_the_sandbox() -> None:
    # GIVEN the sandbox's fast-timing alarm (2 s), WHEN linted for AWS THEN AWS would reject
    # it (error); WHEN linted for the sandbox that accepted it THEN it is only a warning.
    a = AlarmSpec(
        name="fast",
        namespace="AWS/Lambda",
        metric="Errors",
        period=2,
        evaluation_periods=2,
        threshold=1,
        comparison="GreaterThanThreshold",
        dimensions=(("FunctionName", "f"),),
    )
    on_aws = [f for f in lint(LintInputs([a], on_aws=True)) if f.rule == "period-invalid"]
    offline = [f for f in lint(LintInputs([a], on_aws=False)) if f.rule == "period-invalid"]
    assert [f.severity for f in on_aws] == ["error"]
    assert [f.severity for f in offline] == ["warning"]
    assert "--faithful" in offline[0].fix
