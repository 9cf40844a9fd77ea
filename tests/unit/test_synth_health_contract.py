"""The application/health+json contract, judged without I/O."""

from __future__ import annotations

import pytest

from lambda_gameday.synthetics.definitions import ObservedLimit
from lambda_gameday.synthetics.health_contract import check_health, check_observed

GOOD_CHECKS = {
    "database:responseTime": [
        {
            "componentId": "db-1",
            "componentType": "datastore",
            "observedValue": 4.2,
            "observedUnit": "ms",
            "status": "pass",
            "time": "2026-01-01T00:00:00Z",
        }
    ],
    "memory:utilization": [{"observedValue": 61, "observedUnit": "percent", "status": "warn"}],
    "uptime": [{"observedValue": 1200, "observedUnit": "s", "status": "pass", "output": ""}],
}


@pytest.mark.parametrize(
    ("code", "status", "ok"),
    [
        (200, "pass", True),
        (200, "warn", True),
        (304, "pass", True),
        (503, "fail", True),
        (500, "fail", True),
        (200, "fail", False),  # the case a load balancer would never notice
        (503, "pass", False),
        (429, "warn", False),
        (200, "ok", True),  # draft aliases are normalised
        (503, "down", True),
    ],
)
def test_status_must_match_http_code(code: int, status: str, ok: bool) -> None:
    report = check_health(code, {"status": status, "checks": GOOD_CHECKS})
    assert (report.violations == ()) is ok, report.violations
    assert report.status in ("pass", "warn", "fail")


def test_fail_with_200_says_why() -> None:
    report = check_health(200, {"status": "fail"})
    assert report.status == "fail"
    assert report.violations == ("health status 'fail' with HTTP 200 (fail needs 4xx-5xx)",)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "not a JSON object"),
        ({}, "health status None is not pass/warn/fail"),
        ({"status": "green"}, "'green' is not pass/warn/fail"),
        ({"status": "pass", "checks": []}, "checks is list, not an object"),
        ({"status": "pass", "checks": {"db:rt": {}}}, "is dict, not an array"),
        ({"status": "pass", "checks": {"db:rt": [3]}}, "is int, not an object"),
        ({"status": "pass", "checks": {"db:rt": [{"colour": 1}]}}, "unknown key 'colour'"),
        (
            {"status": "pass", "checks": {"db:rt": [{"observedUnit": 5}]}},
            "observedUnit has type int",
        ),
        ({"status": "pass", "checks": {"db:rt": [{"status": "meh"}]}}, "not pass/warn/fail"),
        ({"status": "pass", "checks": {"db:rt": [{"time": "yesterday"}]}}, "not an ISO 8601"),
    ],
)
def test_malformed_bodies(body: object, fragment: str) -> None:
    report = check_health(200, body)
    assert any(fragment in v for v in report.violations), report.violations


def test_failing_components_are_named() -> None:
    body = {
        "status": "fail",
        "checks": {"redis:ping": [{"status": "fail"}], "s3:rt": [{"status": "pass"}]},
    }
    assert check_health(503, body).failing_checks == ("redis:ping",)


def test_observed_limits() -> None:
    body = {"status": "pass", "checks": GOOD_CHECKS}
    assert check_observed(body, (ObservedLimit("database:responseTime", maximum=10),)) == []
    assert check_observed(body, (ObservedLimit("database:responseTime", maximum=4),)) == [
        "database:responseTime[0].observedValue 4.2ms above max 4"
    ]
    assert check_observed(body, (ObservedLimit("memory:utilization", minimum=70),)) == [
        "memory:utilization[0].observedValue 61percent below min 70"
    ]
    assert check_observed(body, (ObservedLimit("redis:ping", maximum=1),)) == [
        "health check 'redis:ping' is missing"
    ]
    assert check_observed(body, (ObservedLimit("redis:ping", maximum=1, required=False),)) == []
    odd = {"checks": {"x": [{"observedValue": "fast"}]}}
    assert check_observed(odd, (ObservedLimit("x", maximum=1),)) == [
        "x[0].observedValue 'fast' is not a number"
    ]
