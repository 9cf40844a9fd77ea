"""The target model: one TOML file describes where the harness points and what it promises.

A target names the AWS side (region, profile or endpoint URL), the HTTP side (API base
URL), the functions behind the health paths, the alarms and deployment groups to watch,
and the SLOs. The embedded sandbox needs no file: `sandbox_target()` builds one.

Settings precedence is explicit argument > environment variable > file > default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, cast

from .exceptions import ConfigError

__all__ = [
    "ENV_CLASSES",
    "FunctionSpec",
    "SLOs",
    "Target",
    "load_target",
    "sandbox_target",
]

TargetKind = Literal["sandbox", "aws"]
EnvClass = Literal["dev", "staging", "production"]
ENV_CLASSES: tuple[EnvClass, ...] = ("dev", "staging", "production")
KINDS: tuple[TargetKind, ...] = ("sandbox", "aws")

HEALTH_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("health-comprehensive", "/health"),
    ("health-liveness", "/health/live"),
    ("health-readiness", "/health/ready"),
    ("health-startup", "/health/startup"),
)


@dataclass(frozen=True)
class SLOs:
    """The promises a target is held to. Defaults are the seed's week-1 targets."""

    health_latency_ms: float = 100.0
    cold_start_ms: float = 500.0
    availability: float = 0.995
    mttr_s: float = 120.0
    deployment_success: float = 0.95


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function behind one HTTP path."""

    name: str
    path: str
    alias: str = "production"
    aliases: tuple[str, ...] = ("production", "canary")
    critical: bool = False
    provisioned_concurrency: int = 0
    alarms: tuple[str, ...] = ()
    deployment_group: str | None = None


@dataclass(frozen=True)
class Target:
    """Everything the harness needs to reach and judge one environment."""

    name: str
    kind: TargetKind
    environment: EnvClass
    region: str
    api_url: str
    functions: tuple[FunctionSpec, ...]
    profile: str | None = None
    endpoint_url: str | None = None
    application: str | None = None
    alarms: tuple[str, ...] = ()
    deployment_groups: tuple[str, ...] = ()
    alert_topic: str | None = None
    slos: SLOs = field(default_factory=SLOs)
    source: str = "<built-in>"
    # where an HTTP answer says which function version served it: "header:NAME" or
    # "json:FIELD" (API Gateway passes no version header of its own); None: unknown
    version_source: str | None = None
    chaos_layer: str | None = None  # the chaos-lambda-extension layer ARN in `region`

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def function(self, name_or_path: str) -> FunctionSpec:
        """The function with this name, short name (`health-liveness`) or path (`/health/live`)."""
        for fn in self.functions:
            if name_or_path in (fn.name, fn.path) or fn.name.endswith("-" + name_or_path):
                return fn
        known = ", ".join(f.name for f in self.functions) or "none"
        raise ConfigError(
            f"{self.source}: no function {name_or_path!r} in the target (known: {known})"
        )

    def url(self, path: str) -> str:
        return self.api_url.rstrip("/") + path

    def with_overrides(self, **changes: object) -> Target:
        return replace(self, **changes)  # type: ignore[arg-type]


def sandbox_target(
    api_url: str,
    endpoint_url: str,
    *,
    stage: str = "dev",
    region: str = "us-east-1",
    slos: SLOs | None = None,
) -> Target:
    """The target for a running sandbox: the seed's four health functions, alarms and groups."""
    service = "hasivu"
    functions = tuple(
        FunctionSpec(
            name=f"{service}-{stage}-{short}",
            path=path,
            critical=short in ("health-comprehensive", "health-readiness"),
            # as the sandbox provisions them (the seed: production 5 for critical functions)
            provisioned_concurrency=5
            if short in ("health-comprehensive", "health-readiness")
            else 0,
            alarms=(
                f"{service}-{stage}-{short}-error-rate",
                f"{service}-{stage}-{short}-duration",
            ),
            deployment_group=f"{service}-{stage}-{short}",
        )
        for short, path in HEALTH_FUNCTIONS
    )
    return Target(
        name=f"sandbox-{stage}",
        kind="sandbox",
        environment="dev",
        region=region,
        api_url=api_url,
        endpoint_url=endpoint_url,
        functions=functions,
        application=f"{service}-{stage}",
        alarms=tuple(a for f in functions for a in f.alarms),
        deployment_groups=tuple(f.deployment_group for f in functions if f.deployment_group),
        alert_topic=f"{service}-{stage}-alerts",
        slos=slos or SLOs(),
        version_source="json:releaseId",  # the stand-in health handlers' health+json field
    )


# --- loading -----------------------------------------------------------------------------

_TOP_KEYS = {
    "name": "a string",
    "kind": "one of " + ", ".join(KINDS),
    "environment": "one of " + ", ".join(ENV_CLASSES),
    "region": "an AWS region name such as 'ap-south-1'",
    "profile": "an AWS profile name",
    "endpoint_url": "an http(s) URL",
    "api_url": "an http(s) URL",
    "application": "a CodeDeploy application name",
    "alarms": "a list of alarm names",
    "deployment_groups": "a list of deployment group names",
    "alert_topic": "an SNS topic name or ARN",
    "slo": "a table of SLOs",
    "functions": "an array of [[functions]] tables",
    "version_source": "'header:<name>' or 'json:<field>' (where answers name their version)",
    "chaos_layer": "a Lambda layer version ARN in the target's region",
}
_SLO_KEYS = {
    "health_latency_ms": "a positive number (milliseconds)",
    "cold_start_ms": "a positive number (milliseconds)",
    "availability": "a fraction between 0 and 1, such as 0.995",
    "mttr_s": "a positive number (seconds)",
    "deployment_success": "a fraction between 0 and 1, such as 0.95",
}
_FN_KEYS = {
    "name": "the Lambda function name",
    "path": "the HTTP path, starting with '/'",
    "alias": "the alias that serves traffic",
    "aliases": "a list of alias names",
    "critical": "true or false",
    "provisioned_concurrency": "a whole number >= 0",
    "alarms": "a list of alarm names",
    "deployment_group": "a CodeDeploy deployment group name",
}


class _Reader:
    """Typed access to a TOML table that reports errors as `file: key: problem`."""

    def __init__(
        self, source: str, table: Mapping[str, object], prefix: str, allowed: dict[str, str]
    ):
        self.source, self.table, self.prefix = source, table, prefix
        for key in table:
            if key not in allowed:
                raise ConfigError(
                    f"{source}: unknown key {prefix}{key}; allowed: {', '.join(sorted(allowed))}"
                )
        self.allowed = allowed

    def _fail(self, key: str, value: object) -> ConfigError:
        where = f"{self.source}: {self.prefix}{key}"
        return ConfigError(f"{where} = {value!r} is invalid; expected {self.allowed[key]}")

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(key, default)
        if value is None:
            if required:
                raise ConfigError(
                    f"{self.source}: missing key {self.prefix}{key} ({self.allowed[key]})"
                )
            return None
        if not isinstance(value, str) or not value:
            raise self._fail(key, value)
        return value

    def choice(self, key: str, choices: Sequence[str], default: str) -> str:
        value = self.string(key, default)
        if value is None or value not in choices:
            raise self._fail(key, value)
        return value

    def url(self, key: str, *, required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is not None and not value.startswith(("http://", "https://")):
            raise self._fail(key, value)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, value)
        return tuple(cast(list[str], value))

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self._fail(key, value)
        return float(value)

    def integer(self, key: str, default: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(key, value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, value)
        return value

    def table_of(self, key: str) -> Mapping[str, object]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self._fail(key, value)
        return cast(Mapping[str, object], value)


def _parse_slos(source: str, table: Mapping[str, object]) -> SLOs:
    r = _Reader(source, table, "slo.", _SLO_KEYS)
    inf = float("inf")
    return SLOs(
        health_latency_ms=r.number("health_latency_ms", 100.0, low=0, high=inf),
        cold_start_ms=r.number("cold_start_ms", 500.0, low=0, high=inf),
        availability=r.number("availability", 0.995, low=0, high=1),
        mttr_s=r.number("mttr_s", 120.0, low=0, high=inf),
        deployment_success=r.number("deployment_success", 0.95, low=0, high=1),
    )


def _parse_function(source: str, index: int, table: object) -> FunctionSpec:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: functions[{index}] must be a table")
    r = _Reader(source, cast(Mapping[str, object], table), f"functions[{index}].", _FN_KEYS)
    name = cast(str, r.string("name", required=True))
    path = cast(str, r.string("path", required=True))
    if not path.startswith("/"):
        raise r._fail("path", path)
    aliases = r.strings("aliases") or ("production", "canary")
    alias = cast(str, r.string("alias", "production"))
    return FunctionSpec(
        name=name,
        path=path,
        alias=alias,
        aliases=aliases,
        critical=r.boolean("critical", False),
        provisioned_concurrency=r.integer("provisioned_concurrency", 0),
        alarms=r.strings("alarms"),
        deployment_group=r.string("deployment_group"),
    )


def parse_target(data: Mapping[str, object], source: str) -> Target:
    """Build a Target from parsed TOML; every problem names `source` and the key."""
    r = _Reader(source, data, "", _TOP_KEYS)
    kind = cast(TargetKind, r.choice("kind", KINDS, "aws"))
    raw_functions = data.get("functions", [])
    if not isinstance(raw_functions, list) or not raw_functions:
        raise ConfigError(f"{source}: functions must be a non-empty array of [[functions]] tables")
    functions = tuple(_parse_function(source, i, t) for i, t in enumerate(raw_functions))
    seen: set[str] = set()
    for fn in functions:
        if fn.path in seen:
            raise ConfigError(f"{source}: two functions serve path {fn.path!r}")
        seen.add(fn.path)
    endpoint_url = r.url("endpoint_url")
    return Target(
        name=cast(str, r.string("name", required=True)),
        kind=kind,
        environment=cast(EnvClass, r.choice("environment", ENV_CLASSES, "dev")),
        region=cast(str, r.string("region", required=True)),
        profile=r.string("profile"),
        endpoint_url=endpoint_url,
        api_url=cast(str, r.url("api_url", required=True)),
        functions=functions,
        application=r.string("application"),
        alarms=r.strings("alarms") or tuple(a for f in functions for a in f.alarms),
        deployment_groups=r.strings("deployment_groups")
        or tuple(f.deployment_group for f in functions if f.deployment_group),
        alert_topic=r.string("alert_topic"),
        slos=_parse_slos(source, r.table_of("slo")),
        source=source,
        version_source=_version_source(r),
        chaos_layer=r.string("chaos_layer"),
    )


def _version_source(r: _Reader) -> str | None:
    value = r.string("version_source")
    if value is not None:
        kind, _, name = value.partition(":")
        if kind not in ("header", "json") or not name:
            raise r._fail("version_source", value)
    return value


def load_target(path: str | os.PathLike[str]) -> Target:
    """Read and validate a target file. Raises ConfigError with a one-line reason."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: target file not found") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read target file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    target = parse_target(data, str(p))
    env_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if target.endpoint_url is None and env_endpoint and target.kind == "sandbox":
        target = replace(target, endpoint_url=env_endpoint)
    return target
