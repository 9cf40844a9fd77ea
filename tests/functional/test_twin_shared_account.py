"""A shared account: other teams' functions, alarms and deployments next to the stack, and
every list answered one page at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.control import control_loops
from lambda_gameday.sandbox.shared_account import (
    ALARMS,
    ARCHIVED_APPLICATIONS,
    BIG_APPLICATION,
    BIG_APPLICATION_GROUPS,
    FOREIGN_ALARM_IN_ALARM,
    FUNCTIONS,
    PAST_DEPLOYMENTS,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(init_duration_ms=20.0, shared_account=True, legacy=frozenset())
    with Sandbox(config) as sb:
        yield sb


def test_describe_alarms_answers_pages_and_holds_a_foreign_alarm_in_alarm(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cw = sandbox_client("cloudwatch")
    first = cw.describe_alarms()
    assert len(first["MetricAlarms"]) == 50 and first["NextToken"]
    names = [
        a["AlarmName"]
        for p in cw.get_paginator("describe_alarms").paginate()
        for a in p["MetricAlarms"]
    ]
    ours = [n for n in names if n.startswith(sandbox.function_name(""))]
    assert len(names) == len(set(names)) == ALARMS + len(ours)
    assert len(ours) == 8  # the stack's two alarms per health function
    # another team's alarm is in ALARM, and evaluation leaves it there
    control_loops(sandbox).alarms.evaluate_all(sandbox.clock.now())  # type: ignore[union-attr]
    (foreign,) = cw.describe_alarms(AlarmNames=[FOREIGN_ALARM_IN_ALARM])["MetricAlarms"]
    assert foreign["StateValue"] == "ALARM"
    assert foreign["Dimensions"] == [{"Name": "QueueName", "Value": "orders-prod-dlq"}]
    with pytest.raises(ClientError) as err:
        cw.describe_alarms(NextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"


def test_list_functions_answers_pages_of_fifty(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    first = lam.list_functions()
    assert len(first["Functions"]) == 50 and first["NextMarker"]
    names = [
        f["FunctionName"]
        for p in lam.get_paginator("list_functions").paginate()
        for f in p["Functions"]
    ]
    assert len(names) == len(set(names)) == FUNCTIONS + 4


def test_list_deployments_answers_pages_of_a_hundred(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cd = sandbox_client("codedeploy")
    first = cd.list_deployments()
    assert len(first["deployments"]) == 100 and first["nextToken"]
    ids = [d for p in cd.get_paginator("list_deployments").paginate() for d in p["deployments"]]
    assert len(ids) == len(set(ids)) >= PAST_DEPLOYMENTS
    groups = cd.list_deployment_groups(applicationName="orders-prod")["deploymentGroups"]
    assert len(groups) == 3
    info = cd.get_deployment(deploymentId=ids[-1])["deploymentInfo"]
    assert info["applicationName"] == "orders-prod"


def test_list_applications_and_deployment_groups_answer_pages_of_a_hundred(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cd = sandbox_client("codedeploy")
    first = cd.list_applications()
    assert len(first["applications"]) == 100 and first["nextToken"]
    apps = [a for p in cd.get_paginator("list_applications").paginate() for a in p["applications"]]
    # the archived ones, the two teams' applications and the stack's own
    assert len(apps) == len(set(apps)) == ARCHIVED_APPLICATIONS + 3
    assert {"orders-prod", BIG_APPLICATION, "hasivu-dev"} <= set(apps)

    first = cd.list_deployment_groups(applicationName=BIG_APPLICATION)
    assert len(first["deploymentGroups"]) == 100 and first["nextToken"]
    second = cd.list_deployment_groups(
        applicationName=BIG_APPLICATION, nextToken=first["nextToken"]
    )
    assert "nextToken" not in second
    groups = first["deploymentGroups"] + second["deploymentGroups"]
    assert len(groups) == len(set(groups)) == BIG_APPLICATION_GROUPS
    # a small application is one page, with no token
    small = cd.list_deployment_groups(applicationName="orders-prod")
    assert len(small["deploymentGroups"]) == 3 and "nextToken" not in small


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"applicationName": "no-such-app"}, "ApplicationDoesNotExistException"),
        (
            {"applicationName": BIG_APPLICATION, "nextToken": "made-up"},
            "InvalidNextTokenException",
        ),
    ],
)
def test_list_deployment_groups_refuses_what_aws_refuses(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any], kwargs: dict[str, str], code: str
) -> None:
    with pytest.raises(ClientError) as err:
        sandbox_client("codedeploy").list_deployment_groups(**kwargs)
    assert err.value.response["Error"]["Code"] == code


def test_a_token_is_bound_to_its_query(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cd = sandbox_client("codedeploy")
    token = cd.list_deployment_groups(applicationName=BIG_APPLICATION)["nextToken"]
    with pytest.raises(ClientError) as err:  # another application's listing
        cd.list_deployment_groups(applicationName="orders-prod", nextToken=token)
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"
    cw = sandbox_client("cloudwatch")
    token = cw.describe_alarm_history()["NextToken"]
    with pytest.raises(ClientError) as err:  # another query's token
        cw.describe_alarm_history(HistoryItemType="StateUpdate", NextToken=token)
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"


def test_describe_alarm_history_answers_pages_of_a_hundred(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    cw = sandbox_client("cloudwatch")
    first = cw.describe_alarm_history(HistoryItemType="ConfigurationUpdate")
    assert len(first["AlarmHistoryItems"]) == 100 and first["NextToken"]
    items = [
        (i["AlarmName"], i["HistorySummary"])
        for p in cw.get_paginator("describe_alarm_history").paginate(
            HistoryItemType="ConfigurationUpdate", PaginationConfig={"PageSize": 30}
        )
        for i in p["AlarmHistoryItems"]
    ]
    created = {name for name, summary in items if summary == f'Alarm "{name}" created'}
    # every alarm of the account was created once: each creation is read exactly once
    alarms = {
        a["AlarmName"]
        for p in cw.get_paginator("describe_alarms").paginate()
        for a in p["MetricAlarms"]
    }
    assert len(items) == len(set(items)) and created == alarms
    with pytest.raises(ClientError) as err:
        cw.describe_alarm_history(MaxRecords=101)
    assert err.value.response["Error"]["Code"] == "ValidationError"
