"""A shared account: other teams' resources next to the stack under test.

On a real account DescribeAlarms, ListFunctions and ListDeployments also return other
teams' resources, one page at a time, and some of those alarms are in ALARM for reasons that
have nothing to do with the game day. A harness must read the target's resources by name.
`SandboxConfig(shared_account=True)` / `gameday sandbox --shared-account` adds:

* 55 functions of an `orders` team (more than a 50-function ListFunctions page);
* 110 alarms on its SQS queues (more than a 100-record DescribeAlarms page), one of them —
  `orders-prod-dlq-age` on the unrelated queue `orders-prod-dlq` — already in ALARM;
* a CodeDeploy application `orders-prod` with 3 deployment groups and 105 past deployments
  (more than a 100-deployment ListDeployments page);
* a CodeDeploy application `payments-prod` with 105 deployment groups, and 100 archived
  applications: more than a 100-item ListDeploymentGroups and ListApplications page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .stack import boto3_client

if TYPE_CHECKING:
    from .core import Sandbox

__all__ = [
    "ARCHIVED_APPLICATIONS",
    "BIG_APPLICATION",
    "BIG_APPLICATION_GROUPS",
    "FOREIGN_ALARM_IN_ALARM",
    "SharedAccount",
]

TEAM = "orders-prod"
FOREIGN_ALARM_IN_ALARM = f"{TEAM}-dlq-age"
FUNCTIONS = 55
ALARMS = 110
GROUPS = 3
PAST_DEPLOYMENTS = 105
BIG_APPLICATION = "payments-prod"
BIG_APPLICATION_GROUPS = 105
ARCHIVED_APPLICATIONS = 100


class SharedAccount:
    """The sandbox component that adds the other teams' resources (after the stack)."""

    def start(self, sandbox: Sandbox) -> None:
        from .control import control_loops
        from .stack import code_zip

        cfg = sandbox.config
        url, region = sandbox.endpoint_url, cfg.region
        lam = boto3_client("lambda", url, region)
        cw = boto3_client("cloudwatch", url, region)
        cd = boto3_client("codedeploy", url, region)
        assert sandbox.dataplane is not None and sandbox.dataplane.stack is not None
        role = sandbox.dataplane.stack.role_arn
        for i in range(FUNCTIONS):
            lam.create_function(
                FunctionName=f"{TEAM}-worker-{i:02d}",
                Runtime="python3.12",
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": code_zip()},
            )
        for i in range(ALARMS - 1):
            queue = f"{TEAM}-queue-{i:03d}"
            _queue_alarm(
                cw, f"{queue}-depth", queue, "ApproximateNumberOfMessagesVisible", 5, 1000.0
            )
        # no data: it stays in ALARM, as the team left it
        _queue_alarm(
            cw, FOREIGN_ALARM_IN_ALARM, f"{TEAM}-dlq", "ApproximateAgeOfOldestMessage", 1, 300.0
        )
        cw.set_alarm_state(
            AlarmName=FOREIGN_ALARM_IN_ALARM,
            StateValue="ALARM",
            StateReason="Threshold Crossed: the orders DLQ has held a message for hours.",
        )
        groups = [f"{TEAM}-worker-{i:02d}" for i in range(GROUPS)]
        _lambda_application(cd, TEAM, groups, role)
        _lambda_application(
            cd,
            BIG_APPLICATION,
            [f"{BIG_APPLICATION}-fn-{i:03d}" for i in range(BIG_APPLICATION_GROUPS)],
            role,
        )
        for i in range(ARCHIVED_APPLICATIONS):
            cd.create_application(applicationName=f"archived-{i:03d}", computePlatform="Lambda")
        deployments = control_loops(sandbox).deployments
        assert deployments is not None
        start = sandbox.clock.now() - PAST_DEPLOYMENTS * 3600
        for i in range(PAST_DEPLOYMENTS):
            status = "Failed" if i % 10 == 3 else "Succeeded"
            deployments.add_past_deployment(TEAM, groups[i % GROUPS], status, start + i * 3600)

    def stop(self) -> None:
        pass  # moto's reset removes everything with the sandbox


def _queue_alarm(
    cw: Any, name: str, queue: str, metric: str, evaluation_periods: int, threshold: float
) -> None:
    """An alarm of the other team's kind: the queue's metric's Maximum over 60 s periods;
    missing data is ignored (the alarm keeps its state)."""
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SQS",
        MetricName=metric,
        Dimensions=[{"Name": "QueueName", "Value": queue}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=evaluation_periods,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )


def _lambda_application(cd: Any, application: str, groups: list[str], role: str) -> None:
    """A CodeDeploy Lambda application with one blue/green deployment group per name."""
    cd.create_application(applicationName=application, computePlatform="Lambda")
    for group in groups:
        cd.create_deployment_group(
            applicationName=application,
            deploymentGroupName=group,
            serviceRoleArn=role,
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
        )
