"""ListVersionsByFunction pages as AWS's does: at most 50 versions a response "even if you
set the number higher", Marker/NextMarker, opaque and bound to the function (raw boto3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import make_function

from lambda_gameday.sandbox import Sandbox

VERSIONS = 55


def _ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": "ok"}


def test_list_versions_by_function_answers_at_most_fifty_a_page(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> None:
    lam = sandbox_client("lambda")
    make_function(sandbox, lam, "pg-versions", _ok)  # version 1
    for i in range(2, VERSIONS + 1):
        lam.update_function_configuration(FunctionName="pg-versions", Description=f"v{i}")
        assert lam.publish_version(FunctionName="pg-versions")["Version"] == str(i)
    first = lam.list_versions_by_function(FunctionName="pg-versions", MaxItems=1000)
    assert len(first["Versions"]) == 50 and first["NextMarker"]
    assert first["Versions"][0]["Version"] == "$LATEST"
    second = lam.list_versions_by_function(FunctionName="pg-versions", Marker=first["NextMarker"])
    assert "NextMarker" not in second
    listed = [v["Version"] for v in first["Versions"] + second["Versions"]]
    assert listed == ["$LATEST", *(str(i) for i in range(1, VERSIONS + 1))]
    # the paginator the harness uses reads them all, a smaller page at a time
    paged = [
        v["Version"]
        for p in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName="pg-versions", PaginationConfig={"PageSize": 7}
        )
        for v in p["Versions"]
    ]
    assert paged == listed
    # a marker is bound to the listing it came from
    other = sandbox.function_name("health-liveness")
    with pytest.raises(ClientError) as err:
        lam.list_versions_by_function(FunctionName=other, Marker=first["NextMarker"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
