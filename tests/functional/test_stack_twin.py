"""Any stack file builds the twin: its routes are served through its aliases by stand-in
handlers, and a faulty canary deployed through its deployment group is rolled back by its
alarm, exactly as for the seed's stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.control import control_loops

STACKS = Path(__file__).parents[1] / "fixtures" / "stacks"


@dataclass(frozen=True)
class Case:
    file: Path
    params: dict[str, str]
    routes: dict[str, tuple[str, str, str]]  # path -> (method, function, served version)
    guarded: tuple[str, str, str, str]  # (path, function, alias, alarm) of the guarded canary
    stages: dict[str, str]  # path -> the URL prefix of its API's stage ("": HTTP $default)


CASES = {
    "sam": Case(
        STACKS / "sam-app" / "template.yaml",
        {"AlarmPeriod": "1"},
        {
            "/orders": ("GET", "shop-orders", "1"),
            "/orders/{orderId}": ("GET", "shop-orders", "1"),
            "/catalog": ("GET", "shop-catalog", "1"),
        },
        ("/orders", "shop-orders", "live", "shop-orders-live-errors"),
        {"/orders": "/Prod", "/orders/{orderId}": "/Prod", "/catalog": ""},
    ),
    "cdk": Case(
        STACKS / "cdk-app" / "GreeterStack.template.json",
        {"AlarmPeriod": "1"},
        {"/greetings": ("GET", "GreeterStack-GreeterFunction5E6F7A8B", "1")},
        (
            "/greetings",
            "GreeterStack-GreeterFunction5E6F7A8B",
            "live",
            "GreeterStack-GreeterErrors9E0F1A2B",
        ),
        {"/greetings": "/dev"},  # the template's Stage resource (StageName: !Ref Stage)
    ),
    "sls": Case(
        STACKS / "sls-app" / "serverless.yml",
        {},
        {
            "/notes": ("GET", "notes-dev-listNotes", "1"),
            "/stats": ("GET", "notes-dev-getStats", "1"),
            "/notes/new": ("POST", "notes-dev-createNote", "$LATEST"),
        },
        ("/notes", "notes-dev-listNotes", "Live", "notes-dev-listNotes-functionErrors"),
        {"/notes": "/dev", "/notes/new": "/dev", "/stats": ""},  # http: stage; httpApi: root
    ),
}


@pytest.fixture(params=sorted(CASES), scope="module")
def twin(request: pytest.FixtureRequest) -> Iterator[tuple[Case, Sandbox]]:
    case = CASES[request.param]
    mp = pytest.MonkeyPatch()
    mp.setenv("NOTES_ALARM_PERIOD", "1")  # the Serverless fixture's alarm period
    try:
        # A deployment "minute" of 3 s (fast default 1 s) keeps detection (1 s alarm periods)
        # well inside the first steps even on a starved runner, as it is on AWS (alarms in
        # 1-3 min, a linear deployment in 10); at 1 s, a loaded 2-core runner let a
        # Linear10PercentEvery1Minute canary finish before its alarm's first evaluation.
        config = SandboxConfig(
            stack_file=str(case.file),
            stack_parameters=case.params,
            seed=5,
            extra={"deploy_minute_s": 3},
        )
        with Sandbox(config) as sb:
            yield case, sb
    finally:
        mp.undo()


def _aws(sb: Sandbox, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sb.config.region
    )
    return session.client(service, endpoint_url=sb.endpoint_url)  # type: ignore[call-overload]


def test_routes_are_served_through_the_stacks_aliases(twin: tuple[Case, Sandbox]) -> None:
    case, sb = twin
    assert set(sb.routes) == set(case.routes)  # the seed's health routes are gone
    functions = {f["FunctionName"] for f in _aws(sb, "lambda").list_functions()["Functions"]}
    assert not any(name.startswith("hasivu-") for name in functions)
    assert not [w for w in control_loops(sb).warnings if "not in the sandbox" in w]
    assert sb.dataplane is not None
    root = "{0.scheme}://{0.netloc}".format(urlsplit(sb.api_url))
    with httpx.Client(timeout=5) as http:
        for path, (method, function, version) in case.routes.items():
            url = sb.dataplane.url(path).replace("{orderId}", "o-17")
            r = http.request(method, url)
            assert r.status_code == 200, (path, r.text)
            assert r.headers["content-type"] == "application/health+json"
            body = r.json()
            assert body["status"] == "pass" and body["serviceId"] == function
            assert body["releaseId"] == version  # the version, as the function itself says
            assert "x-amz-executed-version" not in r.headers  # API Gateway never passes it
        # REST routes under the stack's REST stage, HTTP API routes at the root ($default)
        for path, prefix in case.stages.items():
            assert sb.dataplane.url(path) == root + prefix + path
        # each API refuses what it does not have, in its own words
        rest = next(p for p in case.stages.values() if p)
        missing = http.get(root + rest + "/nowhere")
        assert (missing.status_code, missing.json()) == (
            403,
            {"message": "Missing Authentication Token"},
        )
        if "" in case.stages.values():
            gone = http.get(root + "/nowhere")
            assert (gone.status_code, gone.json()) == (404, {"message": "Not Found"})
        # a single-stage stack's api_url is its stage's URL; a mixed one's is the host's
        assert sb.api_url == root + (rest if "" not in case.stages.values() else "")


def _publish_faulty(sb: Sandbox, function: str) -> str:
    lam, ssm = _aws(sb, "lambda"), _aws(sb, "ssm")
    ssm.put_parameter(
        Name=f"/drill/{function}",
        Type="String",
        Value=json.dumps({"isEnabled": True, "failureMode": "exception", "rate": 1}),
        Overwrite=True,
    )
    current = lam.get_function_configuration(FunctionName=function)
    variables = {
        **current.get("Environment", {}).get("Variables", {}),
        "FAILURE_INJECTION_PARAM": f"/drill/{function}",
    }
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
    return str(lam.publish_version(FunctionName=function)["Version"])


def test_faulty_canary_is_rolled_back_by_the_stacks_alarm(twin: tuple[Case, Sandbox]) -> None:
    case, sb = twin
    path, function, alias, alarm = case.guarded
    cd, lam = _aws(sb, "codedeploy"), _aws(sb, "lambda")
    groups = [
        (app, g)
        for app in cd.list_applications()["applications"]
        for g in cd.list_deployment_groups(applicationName=app)["deploymentGroups"]
    ]
    app, group = next(
        (a, g)
        for a, g in groups
        if [
            x["name"]
            for x in cd.get_deployment_group(applicationName=a, deploymentGroupName=g)[
                "deploymentGroupInfo"
            ]["alarmConfiguration"]["alarms"]
        ]
        == [alarm]
    )
    bad = _publish_faulty(sb, function)
    spec = {
        "version": 0.0,
        "Resources": [
            {
                "fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": function,
                        "Alias": alias,
                        "CurrentVersion": "1",
                        "TargetVersion": bad,
                    },
                }
            }
        ],
    }
    started = time.time()
    dep_id = cd.create_deployment(
        applicationName=app,
        deploymentGroupName=group,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(spec)},
        },
    )["deploymentId"]
    served: dict[str, int] = {}
    deadline = time.monotonic() + 30
    assert sb.dataplane is not None
    url = sb.dataplane.url(path)
    with httpx.Client(timeout=5) as http:
        for i in range(100_000):
            if time.monotonic() > deadline:
                break
            r = http.get(url)
            # the version as the answer names it (health+json releaseId); a failed answer
            # names none, and only the faulty canary fails
            v = str(r.json().get("releaseId", "?")) if r.status_code == 200 else "failed"
            served[v] = served.get(v, 0) + 1
            if i % 20 == 0:
                status = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]["status"]
                if status in ("Succeeded", "Failed", "Stopped"):
                    break
    assert served.get("failed", 0) > 0, served  # the canary really served traffic
    fired = sb.truth.wait_for("alarm", alarm, timeout=5, after=started, new="ALARM")
    assert fired is not None
    info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert info["status"] == "Stopped", info
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    rollback = info["rollbackInfo"]["rollbackDeploymentId"]
    assert sb.truth.wait_for("deployment", rollback, timeout=5, status="Succeeded") is not None
    current = lam.get_alias(FunctionName=function, Name=alias)
    assert current["FunctionVersion"] == "1"
    assert not (current.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    with httpx.Client(timeout=5) as http:
        after = {http.get(url).json()["releaseId"] for _ in range(20)}
    assert after == {"1"}
