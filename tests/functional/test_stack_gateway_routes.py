"""The twin's gateway routes as API Gateway does: path variables and a greedy `{proxy+}`
with AWS's priority (literal segments, then variables, greedy last) and `pathParameters`
in the proxy event; REST API routes under their stage, HTTP API routes on their own
(`$default`: the root); and each API's refusal of a route it does not have."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import make_function

from lambda_gameday.sandbox import Sandbox

MISSING = {"message": "Missing Authentication Token"}
NOT_FOUND = {"message": "Not Found"}


def _echo(tag: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen = {
            "tag": tag,
            "resource": event["resource"],
            "path": event["path"],
            "pathParameters": event["pathParameters"],
            "stage": event["requestContext"]["stage"],
            "requestPath": event["requestContext"]["path"],
        }
        return {"statusCode": 200, "body": json.dumps(seen)}

    return handler


@pytest.fixture(scope="module")
def routed(
    sandbox: Sandbox, sandbox_client: Callable[[str], Any]
) -> Iterator[tuple[Sandbox, httpx.Client]]:
    assert sandbox.dataplane is not None
    dp = sandbox.dataplane
    lam = sandbox_client("lambda")
    # REST API on the twin's stage (`dev`, as the seed's routes)
    for tag, path in (
        ("list", "/pets"),
        ("dog1", "/pets/dog/1"),
        ("dog", "/pets/dog/{id}"),
        ("pet", "/pets/{petId}"),
        ("toy", "/pets/{petId}/toys/{toyId}"),
        ("proxy", "/files/{proxy+}"),
    ):
        make_function(sandbox, lam, f"rt-{tag}", _echo(tag))
        dp.add_route(path, f"rt-{tag}", "live")
    # an HTTP API on `$default` and one route on a named HTTP stage
    make_function(sandbox, lam, "rt-http", _echo("http"))
    dp.add_route("/catalog/{item}", "rt-http", "live", api="HTTP")
    make_function(sandbox, lam, "rt-any", _echo("any"))
    dp.add_route("/shop/{proxy+}", "rt-any", "live", api="HTTP")
    make_function(sandbox, lam, "rt-beta", _echo("beta"))
    dp.add_route("/beta-only", "rt-beta", "live", api="HTTP", stage="beta")
    root = sandbox.api_url.rsplit("/", 1)[0]
    try:
        with httpx.Client(base_url=root, timeout=10) as http:
            yield sandbox, http
    finally:
        for path in (
            "/pets",
            "/pets/dog/1",
            "/pets/dog/{id}",
            "/pets/{petId}",
            "/pets/{petId}/toys/{toyId}",
            "/files/{proxy+}",
            "/catalog/{item}",
            "/shop/{proxy+}",
            "/beta-only",
        ):
            sandbox.routes.pop(path, None)


@pytest.mark.parametrize(
    ("url", "tag", "params"),
    [
        ("/dev/pets", "list", None),
        ("/dev/pets/dog/1", "dog1", None),  # a literal route beats the variables
        ("/dev/pets/dog/2", "dog", {"id": "2"}),  # a literal segment beats {petId}
        ("/dev/pets/cat", "pet", {"petId": "cat"}),
        ("/dev/pets/cat/toys/ball", "toy", {"petId": "cat", "toyId": "ball"}),
        ("/dev/files/a/b/c.txt", "proxy", {"proxy": "a/b/c.txt"}),
        ("/catalog/42", "http", {"item": "42"}),
        ("/shop/x/y", "any", {"proxy": "x/y"}),
        ("/beta/beta-only", "beta", None),
    ],
)
def test_routes_match_with_aws_priority_and_path_parameters(
    routed: tuple[Sandbox, httpx.Client], url: str, tag: str, params: dict[str, str] | None
) -> None:
    _, http = routed
    r = http.get(url)
    assert r.status_code == 200, (url, r.text)
    seen = r.json()
    assert seen["tag"] == tag
    assert seen["pathParameters"] == params
    assert "{" in seen["resource"] or params is None
    assert seen["requestPath"] == url  # the stage prefix, then the path inside it
    assert seen["stage"] == (url.split("/")[1] if tag not in ("http", "any") else "$default")


def test_the_url_of_a_route_is_under_its_stage(routed: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, _ = routed
    assert sandbox.dataplane is not None
    root = sandbox.api_url.rsplit("/", 1)[0]
    assert sandbox.dataplane.url("/pets") == root + "/dev/pets"
    assert sandbox.dataplane.url("/catalog/{item}") == root + "/catalog/{item}"
    assert sandbox.dataplane.url("/beta-only") == root + "/beta/beta-only"


@pytest.mark.parametrize(
    ("method", "url", "status", "body"),
    [
        ("GET", "/dev/nowhere", 403, MISSING),  # the REST stage: no such resource
        ("POST", "/dev/pets", 403, MISSING),  # the resource, not the method
        ("GET", "/dev/files", 403, MISSING),  # {proxy+} needs one segment at least
        ("GET", "/dev/pets/cat/toys", 403, MISSING),
        ("GET", "/nowhere", 404, NOT_FOUND),  # the HTTP API's $default stage: no route
        ("GET", "/catalog", 404, NOT_FOUND),
        ("DELETE", "/catalog/42", 404, NOT_FOUND),  # HTTP APIs match route and method
        ("GET", "/beta/catalog/42", 404, NOT_FOUND),  # not on the beta stage
        ("GET", "/pets", 404, NOT_FOUND),  # a REST route is not served without its stage
    ],
)
def test_each_api_refuses_what_it_does_not_have(
    routed: tuple[Sandbox, httpx.Client], method: str, url: str, status: int, body: object
) -> None:
    _, http = routed
    r = http.request(method, url)
    assert (r.status_code, r.json()) == (status, body), url
