"""CodeDeploy actions: a Lambda deployment with an AppSpec, and stopping one."""

from __future__ import annotations

import json
from typing import TypedDict

from ...aws import aws_errors
from ..faults import Scope, scope
from ..guard import refuse_unless_allowed

__all__ = ["StopResult", "create_lambda_deployment", "stop_deployment"]


class StopResult(TypedDict):
    deployment_id: str
    status: str


def create_lambda_deployment(
    sc: Scope,
    application: str,
    deployment_group: str,
    function: str,
    alias: str,
    current_version: str,
    target_version: str,
    deployment_config: str | None = None,
    marker: str = "",
) -> str:
    """Start a deployment shifting `alias` from `current_version` to `target_version`
    (used by `deploy_canary(via="codedeploy")`, which records it in the ledger; `marker`
    goes into its description, for cleanup to find it by)."""
    appspec = {
        "version": 0.0,
        "Resources": [
            {
                function: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": function,
                        "Alias": alias,
                        "CurrentVersion": current_version,
                        "TargetVersion": target_version,
                    },
                }
            }
        ],
    }
    content = json.dumps(appspec)
    extra = {"deploymentConfigName": deployment_config} if deployment_config else {}
    with aws_errors(f"creating a deployment in {application}/{deployment_group}"):
        got = sc.clients.codedeploy().create_deployment(
            applicationName=application,
            deploymentGroupName=deployment_group,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": content},
            },
            description=f"gameday canary {function}:{alias} {current_version}->{target_version}"
            + (f" [{marker}]" if marker else ""),
            **extra,  # type: ignore[arg-type]
        )
    return got["deploymentId"]


def stop_deployment(
    deployment_id: str,
    auto_rollback: bool = True,
    configuration: dict[str, object] | None = None,
) -> StopResult:
    """Stop a deployment, by default letting CodeDeploy roll it back."""
    sc = scope(configuration)
    refuse_unless_allowed(sc.target, sc.run, f"stopping deployment {deployment_id}")
    with aws_errors(f"stopping deployment {deployment_id}"):
        got = sc.clients.codedeploy().stop_deployment(
            deploymentId=deployment_id, autoRollbackEnabled=auto_rollback
        )
    return StopResult(deployment_id=deployment_id, status=str(got.get("status", "")))
