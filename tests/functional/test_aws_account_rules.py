"""The harness against what a real account refuses and shares (issue 12, part 2), on the
sandbox: the fault layer is the target Region's and joins the function's own layers (at
most 5), the drill queue carries the SNS queue policy and loses it, experiments' names come
from the target file, and lint / conformance / deployment metrics read only the target's
resources — another team's alarm in ALARM and more than a page of them change nothing."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lambda_gameday.aws import Clients
from lambda_gameday.chaos.awslambda import actions as lam_actions
from lambda_gameday.chaos.awslambda.layers import MAX_LAYERS, chaos_layer_for
from lambda_gameday.chaos.context import ledger_for
from lambda_gameday.chaos.lint import LintInputs, lint
from lambda_gameday.chaos.lint_reader import read_target
from lambda_gameday.chaos.names import NotApplicable, resolve_names
from lambda_gameday.chaos.sns import actions as sns_actions
from lambda_gameday.chaos.undo import apply_undo
from lambda_gameday.config import Target, sandbox_target
from lambda_gameday.deployments import collect_deployments
from lambda_gameday.exceptions import ConfigError, TargetError
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.shared_account import FOREIGN_ALARM_IN_ALARM, TEAM
from lambda_gameday.synthetics.conformance import run_conformance

Client = Callable[[str], Any]
FN = "hasivu-dev-health-startup"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A strict twin in an account shared with another team (the `orders-prod` functions,
    110 alarms — one in ALARM — and deployment groups)."""
    config = SandboxConfig(init_duration_ms=100.0, seed=7, shared_account=True, legacy=frozenset())
    with Sandbox(config) as sb:
        yield sb


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Target:
    return sandbox_target(sandbox.api_url, sandbox.endpoint_url, region=sandbox.config.region)


def conf(sandbox: Sandbox, tmp_path: Path, run_id: str = "r1") -> dict[str, object]:
    return {
        "aws_region": sandbox.config.region,
        "gameday_endpoint_url": sandbox.endpoint_url,
        "gameday_api_url": sandbox.api_url,
        "gameday_ledger": str(tmp_path / "ledger.jsonl"),
        "gameday_run_id": run_id,
    }


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("python/lib.py", "X = 1\n")
    return buf.getvalue()


def own_layers(lam: Any, count: int) -> list[str]:
    """`count` layer versions of this account, in the function's Region."""
    return [
        lam.publish_layer_version(LayerName=f"own-layer-{i}", Content={"ZipFile": _zip()})[
            "LayerVersionArn"
        ]
        for i in range(count)
    ]


def layers_of(lam: Any, fn: str) -> list[str]:
    return [x["Arn"] for x in lam.get_function_configuration(FunctionName=fn).get("Layers", [])]


@pytest.fixture
def with_layers(sandbox_client: Client) -> Iterator[Callable[[int], list[str]]]:
    lam = sandbox_client("lambda")
    before = layers_of(lam, FN)

    def give(count: int) -> list[str]:
        arns = own_layers(lam, count)
        lam.update_function_configuration(FunctionName=FN, Layers=arns)
        return arns

    yield give
    lam.update_function_configuration(FunctionName=FN, Layers=before)


def test_extension_layer_is_the_regions_and_joins_the_functions_own(
    sandbox: Sandbox,
    sandbox_client: Client,
    with_layers: Callable[[int], list[str]],
    tmp_path: Path,
) -> None:
    lam = sandbox_client("lambda")
    region = sandbox.config.region
    # GIVEN a function with two layers of its own (Powertools, OTel...)
    own = with_layers(2)
    c = conf(sandbox, tmp_path)
    # WHEN a chaos-lambda-extension fault is injected
    lam_actions.inject_error(FN, configuration=c)
    # THEN its layers are its own plus the extension layer of ITS Region (not us-east-1)
    during = layers_of(lam, FN)
    assert during[:2] == own and len(during) == 3
    assert during[2] == chaos_layer_for(region) and f":lambda:{region}:" in during[2]
    # WHEN the fault is removed THEN exactly its own layers are back, in order
    lam_actions.remove_faults(FN, configuration=c)
    assert layers_of(lam, FN) == own
    assert ledger_for(c).open_entries() == []


def test_a_sixth_layer_is_refused_before_anything_changes(
    sandbox: Sandbox,
    sandbox_client: Client,
    with_layers: Callable[[int], list[str]],
    tmp_path: Path,
) -> None:
    lam = sandbox_client("lambda")
    own = with_layers(MAX_LAYERS)
    c = conf(sandbox, tmp_path)
    with pytest.raises(TargetError) as err:
        lam_actions.inject_latency(FN, latency_s=1, configuration=c)
    assert f"already has {MAX_LAYERS} layers" in str(err.value)
    assert "\n" not in str(err.value)
    # nothing was written to the ledger, nothing changed on the function
    assert ledger_for(c).entries() == [] and layers_of(lam, FN) == own


def test_a_layer_override_from_another_region_is_bad_input(sandbox: Sandbox) -> None:
    region = sandbox.config.region
    other = chaos_layer_for("us-east-1")
    with pytest.raises(ConfigError, match="only attaches layers of the function's own Region"):
        chaos_layer_for(region, override=other)
    assert chaos_layer_for(region, override=chaos_layer_for(region, "arm64")).endswith(":12")
    assert "aarch64" in chaos_layer_for(region, "arm64")


def test_drill_queue_allows_only_the_topic_and_the_ledger_removes_it(
    sandbox: Sandbox, sandbox_client: Client, target: Target, tmp_path: Path
) -> None:
    sqs = sandbox_client("sqs")
    c = conf(sandbox, tmp_path)
    assert target.alert_topic is not None
    sub = sns_actions.subscribe_queue(target.alert_topic, configuration=c)
    try:
        # THEN the queue's policy lets sns.amazonaws.com SendMessage for that topic only
        policy = json.loads(
            sqs.get_queue_attributes(QueueUrl=sub["queue_url"], AttributeNames=["Policy"])[
                "Attributes"
            ]["Policy"]
        )
        (stmt,) = policy["Statement"]
        assert stmt["Principal"] == {"Service": "sns.amazonaws.com"}
        assert stmt["Action"] == "sqs:SendMessage" and stmt["Resource"] == sub["queue_arn"]
        assert stmt["Condition"] == {"ArnEquals": {"aws:SourceArn": sub["topic_arn"]}}
        # AND the ledger knows how to take it away (before the queue itself goes)
        (entry,) = ledger_for(c).open_entries()
        ops = [s["op"] for s in entry.undo]
        assert ops == ["unsubscribe", "restore_queue_policy", "delete_queue"]
        apply_undo(Clients(target), entry.undo[1])
        attrs = sqs.get_queue_attributes(QueueUrl=sub["queue_url"], AttributeNames=["Policy"])
        assert "Policy" not in attrs.get("Attributes", {})
    finally:
        sns_actions.remove_subscription(configuration=c)
    queues = sqs.list_queues().get("QueueUrls", [])
    assert sub["queue_url"] not in queues and ledger_for(c).open_entries() == []


def test_experiment_names_come_from_the_target_file(
    sandbox: Sandbox, target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        f'name = "team"\nkind = "sandbox"\nenvironment = "dev"\n'
        f'region = "{sandbox.config.region}"\n'
        f'endpoint_url = "{sandbox.endpoint_url}"\napi_url = "{sandbox.api_url}"\n'
        'application = "hasivu-dev"\nalert_topic = "hasivu-dev-alerts"\n'
        '[[functions]]\nname = "hasivu-dev-health-liveness"\npath = "/health/live"\n'
        'alias = "canary"\n'
        'alarms = ["hasivu-dev-health-liveness-duration",'
        ' "hasivu-dev-health-liveness-error-rate"]\n'
        'deployment_group = "hasivu-dev-health-liveness"\n'
    )
    experiment = json.loads(
        (Path(__file__).parents[2] / "experiments" / "faulty-canary.json").read_text()
    )
    c: dict[str, object] = dict(experiment["configuration"]) | {"gameday_target": str(path)}
    resolve_names(c)
    assert c["function"] == "hasivu-dev-health-liveness"
    assert c["alias"] == "canary"  # the target's, not a guessed "production"
    # the function's alarm on Errors, chosen by what it watches, not by its name
    assert c["error_alarm"] == "hasivu-dev-health-liveness-error-rate"
    assert (c["application"], c["deployment_group"]) == ("hasivu-dev", c["function"])
    # a target file without the alarms: the drill does not apply (one line saying why,
    # no guessed alarm name); NotApplicable is a ConfigError for the stock `chaos run`
    path.write_text(path.read_text().replace("alarms = [", "# alarms = ["))
    c = dict(experiment["configuration"]) | {"gameday_target": str(path)}
    with pytest.raises(NotApplicable, match=r"unguarded: .* has no alarms"):
        resolve_names(c)
    assert issubclass(NotApplicable, ConfigError)


def test_foreign_resources_do_not_reach_lint_conformance_or_deployments(
    target: Target, sandbox_client: Client
) -> None:
    cw = sandbox_client("cloudwatch")
    every = [
        a["AlarmName"]
        for p in cw.get_paginator("describe_alarms").paginate()
        for a in p["MetricAlarms"]
    ]
    assert FOREIGN_ALARM_IN_ALARM in every and len(every) > 100  # the account is shared
    assert (
        cw.describe_alarms(AlarmNames=[FOREIGN_ALARM_IN_ALARM])["MetricAlarms"][0]["StateValue"]
        == "ALARM"
    )
    clients = Clients(target)
    alarms, groups = read_target(clients, target)
    assert {a.name for a in alarms} <= set(target.alarms) | {n for g in groups for n in g.alarms}
    assert alarms and not any(a.name.startswith(TEAM) for a in alarms)
    findings = lint(
        LintInputs(
            alarms=alarms,
            groups=groups,
            faults=[],
            function_alarms={f.name: f.alarms for f in target.functions},
            budget_s=target.slos.mttr_s,
            on_aws=False,
        )
    )
    assert not any(TEAM in f.line() for f in findings)
    conformance = run_conformance(target, clients=clients)
    assert not any(TEAM in f.line() for f in conformance)
    assert all(r.application == "hasivu-dev" for r in collect_deployments(clients))


def test_a_target_without_a_deployment_group_list_reads_only_its_application(
    target: Target,
) -> None:
    bare = replace(target, deployment_groups=())
    _, groups = read_target(Clients(bare), bare)
    assert groups and all(g.application == "hasivu-dev" for g in groups)


def test_clients_learn_the_aws_clock_offset_from_responses(target: Target) -> None:
    clients = Clients(target)
    lam = clients.lambda_()
    for _ in range(12):
        lam.get_function(FunctionName=FN)
    # the sandbox here stamps Date from the local clock: the offset is 0 to within a second
    assert clients.clock.known and clients.clock.samples >= 12
    assert abs(clients.clock.seconds) < 1.0 and clients.clock.uncertainty <= 1.0


def test_preflight_refuses_a_failure_lambda_canary_it_cannot_deliver(
    sandbox: Sandbox, sandbox_client: Client, tmp_path: Path
) -> None:
    from lambda_gameday.chaos.preflight import check_experiment

    lam, iam = sandbox_client("lambda"), sandbox_client("iam")
    role = iam.create_role(RoleName="team-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    fn = "team-unwrapped"
    lam.create_function(
        FunctionName=fn,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    lam.create_alias(
        FunctionName=fn,
        Name="live",
        FunctionVersion=lam.publish_version(FunctionName=fn)["Version"],
    )

    def experiment(fault: str) -> dict[str, Any]:
        args = {"function_name": fn, "alias": "live", "fault": fault}
        return {
            "title": "t",
            "method": [
                {
                    "type": "action",
                    "name": "ship",
                    "provider": {
                        "type": "python",
                        "module": "lambda_gameday.chaos.awslambda.actions",
                        "func": "deploy_canary",
                        "arguments": args,
                    },
                }
            ],
        }

    c = conf(sandbox, tmp_path)
    # GIVEN a function not wrapped by failure-lambda: the fix is named, before any change
    with pytest.raises(TargetError, match="not set up for failure-lambda") as err:
        check_experiment(experiment("exception"), c)
    assert "FAILURE_INJECTION_PARAM" in str(err.value) and "\n" not in str(err.value)
    check_experiment(experiment("error_body"), c)  # the extension needs no wrapper
    # GIVEN it is wrapped, but its role may not read the canary's parameter
    lam.update_function_configuration(
        FunctionName=fn, Environment={"Variables": {"FAILURE_INJECTION_PARAM": "/team/fl"}}
    )
    with pytest.raises(TargetError, match="may not read /gameday/team-unwrapped/canary-failure"):
        check_experiment(experiment("latency"), c)
    # GIVEN the role may read it (an explicit Deny elsewhere would still win)
    iam.put_role_policy(
        RoleName="team-role",
        PolicyName="fl",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ssm:Get*",
                        "Resource": "arn:aws:ssm:*:*:parameter/gameday/*",
                    },
                ],
            }
        ),
    )
    check_experiment(experiment("exception"), c)
    assert ledger_for(c).entries() == []


# --- each refusal: the raw call gets AWS's error, the harness's path succeeds ------------


def test_raw_cross_region_layer_is_refused_the_harness_uses_the_regions(
    sandbox: Sandbox, sandbox_client: Client, tmp_path: Path
) -> None:
    import botocore.exceptions

    lam = sandbox_client("lambda")
    before = layers_of(lam, FN)
    with pytest.raises(botocore.exceptions.ClientError):  # the us-east-1 ARN in ap-south-1
        lam.update_function_configuration(FunctionName=FN, Layers=[chaos_layer_for("us-east-1")])
    assert layers_of(lam, FN) == before
    c = conf(sandbox, tmp_path)
    lam_actions.inject_latency(FN, latency_s=1, configuration=c)
    assert layers_of(lam, FN)[-1] == chaos_layer_for(sandbox.config.region)
    lam_actions.remove_faults(FN, configuration=c)
    assert layers_of(lam, FN) == before


def test_raw_subscription_without_policy_gets_nothing_the_drill_gets_its_message(
    sandbox: Sandbox, sandbox_client: Client, target: Target, tmp_path: Path
) -> None:
    sqs, sns = sandbox_client("sqs"), sandbox_client("sns")
    assert target.alert_topic is not None
    topic = sns_actions.topic_arn(sns_actions.scope(conf(sandbox, tmp_path)), target.alert_topic)
    url = sqs.create_queue(QueueName="raw-no-policy")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    raw_sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    from lambda_gameday.chaos.run import open_run

    c = conf(sandbox, tmp_path)
    alarm = "hasivu-dev-health-startup-error-rate"
    with open_run("drill"):  # one run: the drill's activities share its subscription
        sns_actions.subscribe_queue(target.alert_topic, configuration=c)
        try:
            sns_actions.force_alarm_state(alarm, "ALARM", configuration=c)
            got = sns_actions.wait_for_alarm_message(alarm, "ALARM", timeout_s=20, configuration=c)
            assert got["new_state"] == "ALARM"
            # the queue without the policy received nothing (SNS dropped it, as AWS does)
            assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
        finally:
            sns_actions.remove_subscription(configuration=c)
            sns.unsubscribe(SubscriptionArn=raw_sub)
            sqs.delete_queue(QueueUrl=url)


def test_no_version_header_over_http_the_harness_reads_release_id(
    sandbox: Sandbox, target: Target
) -> None:
    import httpx

    from lambda_gameday.synthetics.definitions import CheckDefinition, Expectations
    from lambda_gameday.synthetics.engine import CheckRunner

    resp = httpx.get(target.url("/health/live"), timeout=5)
    assert resp.status_code == 200 and "x-amz-executed-version" not in resp.headers
    check = CheckDefinition(name="live", endpoint="/health/live", expect=Expectations())
    with CheckRunner(target) as runner:
        assert runner.run(check).executed_version == resp.json()["releaseId"]


def test_a_throttled_account_slows_the_harness_but_never_fails_it(
    sandbox: Sandbox, sandbox_client: Client, tmp_path: Path
) -> None:
    import threading
    import time

    import boto3
    import botocore.exceptions
    from botocore.config import Config

    from lambda_gameday.chaos.cloudwatch.probes import wait_for_alarm_quiet
    from lambda_gameday.chaos.context import clients_for, target_from

    alarm = "hasivu-dev-health-startup-duration"
    raw = boto3.client(
        "cloudwatch",
        endpoint_url=sandbox.endpoint_url,
        region_name=sandbox.config.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    c = conf(sandbox, tmp_path)
    # the 429s the harness's own client meets (botocore backs off and retries them)
    harness_throttled: list[float] = []

    def on_retry(response: Any = None, **_: Any) -> None:
        if response is not None and response[1].get("Error", {}).get("Code") == "Throttling":
            harness_throttled.append(time.time())

    clients_for(target_from(c)).cloudwatch().meta.events.register("needs-retry", on_retry)
    neighbour_throttled: list[float] = []
    stop = threading.Event()

    def neighbour() -> None:
        # another team's dashboards polling DescribeAlarms far above its 9/s quota
        while not stop.is_set():
            try:
                raw.describe_alarms(AlarmNames=[alarm])
            except botocore.exceptions.ClientError as exc:
                if exc.response["Error"]["Code"] == "Throttling":
                    neighbour_throttled.append(time.time())

    threads = [threading.Thread(target=neighbour) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 10
        while not neighbour_throttled:
            assert time.monotonic() < deadline, "the neighbours never got throttled"
            time.sleep(0.01)
        # The harness's polls in the throttled account: slowed, not failed. At least five, and
        # on until one has met a throttle: on a starved CPU the neighbours' rate dips below the
        # quota at times, and a poll that found tokens left proves nothing either way.
        polls, deadline = 0, time.monotonic() + 60
        while polls < 5 or not harness_throttled:
            assert time.monotonic() < deadline, (
                f"the harness never met a throttle in {polls} polls: the test would prove nothing"
            )
            assert wait_for_alarm_quiet(alarm, timeout_s=60, configuration=c) != "ALARM"
            polls += 1
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert harness_throttled, "the harness never met a throttle: the test would prove nothing"
