"""The twin's FIS extension, on a controlled clock: slow and fast polls (faithful and fast
timing), the max-wait rule, invocationPercentage, preventExecution and the earliest of
conflicting actions; and the template refusals FIS makes."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lambda_gameday.sandbox.fis.extension import WRAPPER, FisExtension, FisTiming
from lambda_gameday.sandbox.fis.model import (
    FisValidationError,
    LambdaFault,
    config_object,
    parse_config_object,
    validate_template,
)
from lambda_gameday.sandbox.fis.store import ConfigLocation
from lambda_gameday.sandbox.public_layers import fis_extension_layer
from lambda_gameday.sandbox.truth import GroundTruth

REGION, ACCOUNT = "ap-south-1", "123456789012"
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"
LAYERS = [fis_extension_layer(REGION)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Extension(FisExtension):
    """The extension with the S3 location replaced by a list (and its reads counted)."""

    def __init__(self, clock: Clock, scale: float = 1.0, seed: int = 0):
        super().__init__(ACCOUNT, GroundTruth(), FisTiming(scale), seed, clock=clock)
        self.bucket: list[LambdaFault] = []
        self.reads = 0

    def _read(self, location: ConfigLocation, role_arn: str) -> list[LambdaFault]:
        self.reads += 1
        return parse_config_object(config_object(self.bucket))

    def call(self, env: Mapping[str, str], version: str = "1", alias: str | None = None) -> int:
        d = self.decide("env-1", env, LAYERS, "x86_64", "fn", version, alias, "role")
        assert d is not None
        if d.response is not None:
            return -1 if d.response.kind == "error" else d.response.status_code
        return d.delay_ms


ENV = {
    "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER,
    "AWS_FIS_CONFIGURATION_LOCATION": "arn:aws:s3:::bucket/FisConfigs/",
    "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS": "2000",
}


def fault(kind: str = "error", started: float = 1.0, **kw: object) -> LambdaFault:
    return LambdaFault("exp", f"a-{kind}-{started}", kind, FN_ARN, started, 100, **kw)  # type: ignore[arg-type]


def test_not_installed_without_the_layer_or_the_wrapper() -> None:
    ext = Extension(Clock())
    assert ext.decide("e", ENV, [], "x86_64", "fn", "1", None) is None
    no_wrapper = {k: v for k, v in ENV.items() if k != "AWS_LAMBDA_EXEC_WRAPPER"}
    assert ext.decide("e", no_wrapper, LAYERS, "x86_64", "fn", "1", None) is None
    assert ext.decide("e", ENV, LAYERS, "arm64", "fn", "1", None) is None  # wrong arch


def test_faithful_slow_poll_is_60_s_then_fast_while_active() -> None:
    clock = Clock()
    ext = Extension(clock)
    assert ext.call(ENV) == 0  # the environment starts and reads: nothing
    ext.bucket = [fault()]
    clock.now += 59.0
    assert ext.call(ENV) == 0  # slow poll not due yet
    clock.now += 1.0
    assert ext.call(ENV) == -1  # 60 s: read, the fault applies
    ext.bucket = []
    clock.now += 19.0
    assert ext.call(ENV) == -1  # fast poll (20 s, modelled) not due yet
    clock.now += 1.0
    assert ext.call(ENV) == 0


def test_slow_poll_interval_from_the_environment_and_fast_timing_scales_it() -> None:
    clock = Clock()
    ext = Extension(clock, scale=1 / 30)
    env = {**ENV, "AWS_FIS_SLOW_POLL_INTERVAL_SECONDS": "90"}
    ext.call(env)
    ext.bucket = [fault()]
    clock.now += 2.9  # 90 s / 30 = 3 s
    assert ext.call(env) == 0
    clock.now += 0.1
    assert ext.call(env) == -1
    assert "scaled by 1/30" in FisTiming(1 / 30).note


def test_with_max_wait_0_a_due_poll_lands_one_invocation_later() -> None:
    clock = Clock()
    ext = Extension(clock)
    env = {**ENV, "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS": "0"}
    ext.call(env)
    ext.bucket = [fault()]
    clock.now += 60.0
    assert ext.call(env) == 0  # the poll fell due while frozen: not finished yet
    assert ext.call(env) == -1


def test_earliest_of_conflicting_actions_wins_and_a_delay_combines() -> None:
    ext = Extension(Clock())
    ext.bucket = [
        fault("http-integration-response", started=5.0, status_code=503),
        fault("error", started=7.0),
        fault("add-delay", started=9.0, delay_ms=300),
        fault("add-delay", started=8.0, delay_ms=100),
    ]
    d = ext.decide("e", ENV, LAYERS, "x86_64", "fn", "1", None)
    assert d is not None and d.response is not None
    assert d.response.kind == "http-integration-response" and d.response.status_code == 503
    assert d.delay_ms == 100


def test_qualified_targets_match_their_version_or_alias_only() -> None:
    ext = Extension(Clock())
    ext.bucket = [LambdaFault("exp", "a", "error", f"{FN_ARN}:7", 1.0, 100)]
    assert ext.call(ENV, version="7") == -1
    ext2 = Extension(Clock())
    ext2.bucket = [LambdaFault("exp", "a", "error", f"{FN_ARN}:live", 1.0, 100)]
    assert ext2.call(ENV, version="3", alias="live") == -1
    ext3 = Extension(Clock())
    ext3.bucket = [LambdaFault("exp", "a", "error", f"{FN_ARN}:7", 1.0, 100)]
    assert ext3.call(ENV, version="6") == 0


def test_invocation_percentage_is_a_share_of_invocations() -> None:
    ext = Extension(Clock(), seed=4)
    ext.bucket = [LambdaFault("exp", "a", "error", FN_ARN, 1.0, 25)]
    hits = sum(ext.call(ENV) == -1 for _ in range(2000))
    assert 400 < hits < 600  # 25 % of 2000, seeded


def _template(
    action: dict[str, object], stops: list[dict[str, str]] | None = None
) -> dict[str, object]:
    return {
        "clientToken": "t",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/fis",
        "targets": {"f": {"resourceType": "aws:lambda:function", "resourceArns": [FN_ARN],
                          "selectionMode": "ALL"}},
        "actions": {"a": {**action, "targets": {"Functions": "f"}}},
        "stopConditions": stops or [{"source": "none"}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ({"actionId": "aws:lambda:invocation-add-delay",
          "parameters": {"duration": "PT1M", "startupDelayMilliseconds": "-1"}},
         "startupDelayMilliseconds"),
        ({"actionId": "aws:lambda:invocation-error",
          "parameters": {"duration": "PT1M", "preventExecution": "true",
                         "invocationPercentage": "101"}}, "invocationPercentage"),
        ({"actionId": "aws:lambda:invocation-error", "parameters": {"duration": "PT1M"}},
         "preventExecution"),
        ({"actionId": "aws:lambda:invocation-error",
          "parameters": {"duration": "PT13H", "preventExecution": "true"}}, "duration"),
        ({"actionId": "aws:lambda:invocation-http-integration-response",
          "parameters": {"duration": "PT1M", "preventExecution": "true"}}, "statusCode"),
        ({"actionId": "aws:lambda:invocation-explode", "parameters": {"duration": "PT1M"}},
         "actionId"),
    ],
)  # fmt: skip
def test_fis_refuses_what_it_refuses(action: dict[str, object], text: str) -> None:
    with pytest.raises(FisValidationError, match=text):
        validate_template(_template(action), REGION, ACCOUNT)


def test_targets_and_stop_conditions_are_checked() -> None:
    ok = {"actionId": "aws:lambda:invocation-error",
          "parameters": {"duration": "PT1M", "preventExecution": "true"}}  # fmt: skip
    other_region = _template(ok)
    other_region["targets"] = {"f": {"resourceType": "aws:lambda:function",
        "resourceArns": [FN_ARN.replace(REGION, "us-east-1")], "selectionMode": "ALL"}}  # fmt: skip
    with pytest.raises(FisValidationError, match="account and Region"):
        validate_template(other_region, REGION, ACCOUNT)
    with pytest.raises(FisValidationError, match="stop condition"):
        validate_template(
            _template(ok, [{"source": "aws:sns:topic", "value": "x"}]), REGION, ACCOUNT
        )
    spec = validate_template(_template(ok), REGION, ACCOUNT)
    assert spec.actions[0].prevent_execution and spec.actions[0].invocation_percentage == 100
