"""The data plane's pure rules, table-tested: fault parsing (chaos-lambda-extension env vars,
failure-lambda 0.x / 1.x), API Gateway's reading of a proxy response, function names."""

from __future__ import annotations

import json

import pytest

from lambda_gameday.sandbox.dependencies import DependencyState, parse_dependency_state
from lambda_gameday.sandbox.faults import chaos_extension, parse_failure_config
from lambda_gameday.sandbox.gateway import proxy_response
from lambda_gameday.sandbox.lambda_rules import split_function_name
from lambda_gameday.sandbox.runtime import RawPayload

LAYER = (
    "arn:aws:lambda:us-east-1:871265522301:layer:"
    "chaos-lambda-extension-x86_64-unknown-linux-gnu-release:12"
)
LATENCY_ENV = {
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    "CHAOS_EXTENSION__LAMBDA__ENABLE_LATENCY": "true",
    "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": "2",
    "CHAOS_EXTENSION__LAMBDA__LATENCY_PROBABILITY": "0.3",
}


def test_chaos_extension_needs_its_layer_and_wrapper() -> None:
    ext = chaos_extension(LATENCY_ENV, [LAYER])
    assert ext is not None and (ext.latency_s, ext.latency_p, ext.response_body) == (2.0, 0.3, None)
    assert chaos_extension(LATENCY_ENV, []) is None  # variables without the layer do nothing
    assert chaos_extension({**LATENCY_ENV, "AWS_LAMBDA_EXEC_WRAPPER": ""}, [LAYER]) is None
    # remove_latency leaves LATENCY_VALUE behind; without ENABLE_LATENCY nothing is active
    leftover = {
        "CHAOS_EXTENSION__LAMBDA__LATENCY_VALUE": "2",
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    }
    assert chaos_extension(leftover, [LAYER]) is None


def test_chaos_extension_response_body() -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "CHAOS_EXTENSION__RESPONSE__ENABLE_CHANGE_RESPONSE_BODY": "true",
        "CHAOS_EXTENSION__RESPONSE__DEFAULT_RESPONSE": '{"statusCode": 500}',
        "CHAOS_EXTENSION__RESPONSE__CHANGE_RESPONSE_PROBABILITY": "1",
    }
    ext = chaos_extension(env, [LAYER])
    assert ext is not None and (ext.response_body, ext.response_p, ext.latency_s) == (
        '{"statusCode": 500}',
        1.0,
        None,
    )


@pytest.mark.parametrize(
    ("value", "modes"),
    [
        (None, []),
        ("not json", []),
        ("[]", []),
        (json.dumps({"latency": {"enabled": False}}), []),
        (
            json.dumps(
                {
                    "latency": {"enabled": True, "min_latency": 1, "max_latency": 2},
                    "exception": {"enabled": True},
                }
            ),
            ["latency", "exception"],
        ),
        (
            json.dumps(
                {
                    "isEnabled": True,
                    "failureMode": "latency",
                    "rate": 0.5,
                    "minLatency": 100,
                    "maxLatency": 400,
                }
            ),
            ["latency"],
        ),
        (json.dumps({"isEnabled": False, "failureMode": "latency"}), []),
        (json.dumps({"isEnabled": True, "failureMode": "nonsense"}), []),
    ],
)
def test_failure_lambda_config(value: str | None, modes: list[str]) -> None:
    assert [f.mode for f in parse_failure_config(value)] == modes


def test_failure_lambda_0x_is_normalised() -> None:
    (flag,) = parse_failure_config(
        json.dumps(
            {
                "isEnabled": True,
                "failureMode": "latency",
                "rate": 0.5,
                "minLatency": 100,
                "maxLatency": 400,
            }
        )
    )
    assert (flag.percentage, flag.min_latency_ms, flag.max_latency_ms) == (50.0, 100.0, 400.0)


@pytest.mark.parametrize(
    ("payload", "status", "body"),
    [
        ({"statusCode": 200, "body": "ok"}, 200, b"ok"),
        ({"statusCode": 204}, 204, b""),
        ({"statusCode": "201", "body": "x"}, 201, b"x"),
        ({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}, 200, b"hi"),
        (RawPayload('{"statusCode": 500, "body": "chaos"}'), 500, b"chaos"),
    ],
)
def test_proxy_response_accepted(payload: object, status: int, body: bytes) -> None:
    response = proxy_response(payload)
    assert response is not None and (response.status, response.body) == (status, body)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "a string",
        {"body": "no status"},
        {"statusCode": 200, "extra": 1},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 999},
        {"statusCode": True},
        RawPayload("not json"),
    ],
)
def test_proxy_response_malformed(payload: object) -> None:
    assert proxy_response(payload) is None


def test_multi_value_headers_win() -> None:
    response = proxy_response(
        {"statusCode": 200, "headers": {"A": "1", "B": "2"}, "multiValueHeaders": {"A": ["x", "y"]}}
    )
    assert response is not None
    assert [(k, v) for k, v in response.headers if k in (b"A", b"B")] == [
        (b"B", b"2"),
        (b"A", b"x"),
        (b"A", b"y"),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("fn", ("fn", None)),
        ("fn:live", ("fn", "live")),
        ("arn:aws:lambda:ap-south-1:123456789012:function:fn", ("fn", None)),
        ("arn:aws:lambda:ap-south-1:123456789012:function:fn:3", ("fn", "3")),
        (
            "arn%3Aaws%3Alambda%3Aap-south-1%3A123456789012%3Afunction%3Afn%3A%24LATEST",
            ("fn", "$LATEST"),
        ),
    ],
)
def test_split_function_name(raw: str, expected: tuple[str, str | None]) -> None:
    assert split_function_name(raw) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"state": "down"}', DependencyState("down", 0.0)),
        ('{"state": "up", "latency_ms": 250}', DependencyState("up", 250.0)),
        ('{"state": "sideways"}', None),
        ('{"latency_ms": -1}', None),
        ("nope", None),
    ],
)
def test_dependency_state(value: str, expected: DependencyState | None) -> None:
    assert parse_dependency_state(value) == expected
