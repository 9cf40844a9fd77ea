"""Aliases, versions and weighted routing, driven by the stock tools users have: the aws
CLI and chaostoolkit-aws's own actions, pointed at the sandbox endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import make_function

from lambda_gameday.sandbox import Sandbox
from lambda_gameday.sandbox.public_layers import chaos_extension_layer

AWS_CLI = str(Path(sys.executable).parent / "aws")


def _version_of(response: httpx.Response) -> str:
    # API Gateway passes no X-Amz-Executed-Version: the handlers here answer their version
    return response.text


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": context.function_version}


def test_aws_cli_update_alias_changes_which_version_serves(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "rt-cli", _ok, path="/cli")
    lam.update_function_configuration(FunctionName="rt-cli", Description="v2")
    assert lam.publish_version(FunctionName="rt-cli")["Version"] == "2"
    url = sandbox.api_url + "/cli"
    assert _version_of(httpx.get(url)) == "1"
    # WHEN the stock aws CLI moves the alias
    proc = subprocess.run(
        [
            AWS_CLI,
            "lambda",
            "update-alias",
            "--function-name",
            "rt-cli",
            "--name",
            "live",
            "--function-version",
            "2",
            "--endpoint-url",
            sandbox.endpoint_url,
        ],
        env={**os.environ, **sandbox.env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # THEN the very next request is served by version 2, and the change is in the ground truth
    r = httpx.get(url)
    assert _version_of(r) == "2"
    event = sandbox.truth.wait_for("alias", "rt-cli:live", timeout=2, version="2")
    assert event is not None and event.detail["previous_version"] == "1"


def test_chaostoolkit_add_latency_weighted_in_at_half_slows_about_half(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chaosaws.awslambda.actions import add_latency

    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "rt-canary", _ok, path="/canary", alias="production")
    make_function(sandbox, lam, "rt-bystander", _ok, path="/bystander", alias="production")
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    # GIVEN chaostoolkit-aws's own add_latency on $LATEST (1 s, always), with the extension
    # layer of the function's Region (its default, us-east-1's, is refused elsewhere)
    t_inject = time.time()
    add_latency(
        "rt-canary",
        latency=1,
        probability=1.0,
        layer=chaos_extension_layer(sandbox.config.region),
        configuration={"aws_region": sandbox.config.region},
    )
    cfg = lam.get_function_configuration(FunctionName="rt-canary")
    assert "chaos-lambda-extension" in cfg["Layers"][0]["Arn"]
    fault = sandbox.truth.wait_for("fault", "rt-canary", timeout=2, fault="chaos_latency")
    assert fault is not None and fault.at >= t_inject - 0.01
    # ... published and weighted in at 0.5 on the production alias
    version = lam.publish_version(FunctionName="rt-canary")["Version"]
    lam.update_alias(
        FunctionName="rt-canary",
        Name="production",
        RoutingConfig={"AdditionalVersionWeights": {version: 0.5}},
    )

    # WHEN 24 requests go through the alias, 12 at a time (and 6 to a bystander function)
    def timed(_: int) -> tuple[str, float]:
        start = time.perf_counter()
        r = httpx.get(sandbox.api_url + "/canary", timeout=10)
        assert r.status_code == 200
        return _version_of(r), time.perf_counter() - start

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(timed, range(24)))
    slow = {"1": 0, version: 0}
    counts = {"1": 0, version: 0}
    for served, elapsed in results:
        counts[served] += 1
        slow[served] += elapsed >= 1.0
    with httpx.Client(timeout=10) as client:
        bystander = []
        for _ in range(6):
            start = time.perf_counter()
            client.get(sandbox.api_url + "/bystander")
            bystander.append(time.perf_counter() - start)
    # THEN every request the new version served paid the injected second (a lower bound the
    # clock cannot break), about half were routed there, and version 1 and the bystander
    # stayed mostly fast (a ratio, not a wall-clock window: a busy runner slows a few)
    assert slow[version] == counts[version]
    assert 6 <= counts[version] <= 18, counts
    assert slow["1"] <= counts["1"] // 2, (slow, counts)
    assert sorted(bystander)[len(bystander) // 2] < 1.0
    # and version 1 (published before the fault) never carries it
    assert not lam.get_function_configuration(FunctionName="rt-canary", Qualifier="1").get("Layers")


@pytest.mark.parametrize(
    ("routing", "primary", "code"),
    [
        ({"AdditionalVersionWeights": {"2": 1.5}}, "1", "ValidationException"),
        ({"AdditionalVersionWeights": {"2": -0.1}}, "1", "ValidationException"),
        ({"AdditionalVersionWeights": {"$LATEST": 0.1}}, "1", "ValidationException"),
        ({"AdditionalVersionWeights": {"2": 0.1}}, "$LATEST", "InvalidParameterValueException"),
        ({"AdditionalVersionWeights": {"1": 0.1}}, "1", "InvalidParameterValueException"),
        ({"AdditionalVersionWeights": {"9": 0.1}}, "1", "ResourceNotFoundException"),
    ],
)
def test_alias_routing_validation_matches_aws(
    sandbox: Sandbox,
    sandbox_client: Callable[[str], Any],
    routing: dict[str, Any],
    primary: str,
    code: str,
) -> None:
    from botocore.config import Config

    # botocore checks the minimum client-side; the sandbox must reject on its own, like AWS.
    lam = sandbox_client("lambda")
    raw = boto3.session.Session().client(
        "lambda",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.config.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    if "/valid" not in sandbox.routes:
        make_function(sandbox, lam, "rt-valid", _ok, path="/valid")
        lam.update_function_configuration(FunctionName="rt-valid", Description="v2")
        lam.publish_version(FunctionName="rt-valid")
    with pytest.raises(ClientError) as err:
        raw.update_alias(
            FunctionName="rt-valid", Name="live", FunctionVersion=primary, RoutingConfig=routing
        )
    assert err.value.response["Error"]["Code"] == code
    alias = lam.get_alias(FunctionName="rt-valid", Name="live")
    assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights"
    )


def test_published_versions_are_immutable(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "rt-immutable", _ok, path="/immutable", env={"MODE": "one"})
    arn = lam.get_function_configuration(FunctionName="rt-immutable")["FunctionArn"]
    # WHEN configuration or code changes are addressed to version 1 (name:1, ARN:1, alias)
    for target in ("rt-immutable:1", f"{arn}:1", "rt-immutable:live"):
        with pytest.raises(ClientError) as err:
            lam.update_function_configuration(FunctionName=target, Timeout=9)
        assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
        with pytest.raises(ClientError):
            lam.put_function_concurrency(FunctionName=target, ReservedConcurrentExecutions=1)
    # ... and $LATEST gets new code and configuration
    lam.update_function_configuration(
        FunctionName="rt-immutable", Timeout=9, Environment={"Variables": {"MODE": "two"}}
    )
    sandbox.register_handler(
        "rt-immutable", lambda e, c: {"statusCode": 200, "body": "new code " + c.env["MODE"]}
    )
    # THEN version 1 still runs its own handler and configuration
    one = lam.get_function_configuration(FunctionName="rt-immutable", Qualifier="1")
    assert (one["Timeout"], one["Environment"]["Variables"]["MODE"]) == (3, "one")
    assert httpx.get(sandbox.api_url + "/immutable").text == "1"
    # and a newly published version carries the new handler and configuration
    v2 = lam.publish_version(FunctionName="rt-immutable")["Version"]
    lam.update_alias(FunctionName="rt-immutable", Name="live", FunctionVersion=v2)
    assert httpx.get(sandbox.api_url + "/immutable").text == "new code two"


def test_lambda_invoke_api_runs_through_the_data_plane(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    response = lam.invoke(
        FunctionName=sandbox.function_name("health-liveness"), Qualifier="production"
    )
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "1"
    assert b'"statusCode": 200' in response["Payload"].read()
