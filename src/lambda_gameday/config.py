"""The target model: one TOML file describes where the harness points and what it promises.

A target names the AWS side (region, profile or endpoint URL), the HTTP side (API base
URL), the functions behind the health paths, the alarms and deployment groups to watch,
and the SLOs. The embedded sandbox needs no file: `sandbox_target()` builds one.

Settings precedence is explicit argument > environment variable > file > default.
A file must declare its `environment`; a sandbox target names its loopback endpoint, and an
aws target points at loopback only with `allow_loopback = true` (never a silent fallback
to the default AWS endpoints).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from .exceptions import ConfigError
from .validate.documents import read_document
from .validate.limits import MAX_ITEMS, MAX_NAME_CHARS
from .validate.models import Name, Region, StrictModel, Url, validate_model
from .validate.text import shown
from .validate.values import is_loopback_url

__all__ = [
    "BACKENDS",
    "ENV_CLASSES",
    "Backend",
    "FisSettings",
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
# How Lambda faults are delivered (docs/chaos.md compares them).
Backend = Literal["fis", "extension", "failure-lambda"]
BACKENDS: tuple[Backend, ...] = ("fis", "extension", "failure-lambda")

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
class FisSettings:
    """The target's AWS FIS set-up (the `[fis]` table): the experiment role FIS assumes,
    the S3 location its Lambda extension reads, and how long a fault may take to reach
    traffic before the run fails as "fault never reached traffic" (default: the
    extension's 60 s slow poll plus margin)."""

    role_arn: str
    configuration_location: str
    ramp_up_bound_s: float = 75.0


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
    chaos_backend: Backend | None = None  # None: each fault's own default backend
    fis: FisSettings | None = None
    # where an HTTP answer says which function version served it: "header:NAME" or
    # "json:FIELD" (API Gateway passes no version header of its own); None: unknown
    version_source: str | None = None
    chaos_layer: str | None = None  # the chaos-lambda-extension layer ARN in `region`

    @property
    def is_production(self) -> bool:
        # Fails closed: anything but a declared dev or staging class is production.
        return self.environment not in ("dev", "staging")

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
    environment: EnvClass = "dev",
) -> Target:
    """The target for a running sandbox: the seed's four health functions, alarms and groups,
    with its environment class declared (dev unless said otherwise). The file rules (a
    sandbox names a loopback endpoint) apply to target *files*; chaos/context.py also uses
    this as the seed's layout for targets built from Chaos Toolkit configuration."""
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
        environment=environment,
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
# The file's schema. Each field's description is what an error says was expected.

_PositiveMs = Annotated[float, Field(gt=0, le=3_600_000)]
_Fraction = Annotated[float, Field(gt=0, le=1)]


class _SLOFile(StrictModel):
    health_latency_ms: _PositiveMs = Field(100.0, description="a positive number (milliseconds)")
    cold_start_ms: _PositiveMs = Field(500.0, description="a positive number (milliseconds)")
    availability: _Fraction = Field(0.995, description="a fraction between 0 and 1, such as 0.995")
    mttr_s: Annotated[float, Field(gt=0, le=86_400)] = Field(
        120.0, description="a positive number (seconds, at most a day)"
    )
    deployment_success: _Fraction = Field(
        0.95, description="a fraction between 0 and 1, such as 0.95"
    )


_Names = Annotated[list[Name], Field(max_length=MAX_ITEMS)]


class _FisFile(StrictModel):
    role_arn: Annotated[
        str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
    ] = Field(description="an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    configuration_location: Annotated[
        str, Field(pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}/[!-~]{0,900}$")
    ] = Field(description="an S3 ARN with a prefix, such as arn:aws:s3:::bucket/FisConfigs/")
    ramp_up_bound_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        75.0, description="a positive number of seconds (at most 3600)"
    )


class _FunctionFile(StrictModel):
    name: Name = Field(description="the Lambda function name")
    path: Annotated[str, Field(pattern=r"^/[^\s]*$", max_length=MAX_NAME_CHARS)] = Field(
        description="the HTTP path, starting with '/'"
    )
    alias: Name = Field("production", description="the alias that serves traffic")
    aliases: _Names = Field(["production", "canary"], description="a list of alias names")
    critical: bool = Field(False, description="true or false")
    provisioned_concurrency: Annotated[int, Field(ge=0, le=10_000)] = Field(
        0, description="a whole number from 0 to 10000"
    )
    alarms: _Names = Field([], description="a list of alarm names")
    deployment_group: Name | None = Field(None, description="a CodeDeploy deployment group name")


class _TargetFile(StrictModel):
    name: Name = Field(description="a string")
    kind: TargetKind = Field("aws", description="one of " + ", ".join(KINDS))
    environment: EnvClass = Field(
        description="one of " + ", ".join(ENV_CLASSES) + "; every target file declares its class"
    )
    region: Region = Field(description="an AWS Region code such as 'ap-south-1'")
    profile: Name | None = Field(None, description="an AWS profile name")
    endpoint_url: Url | None = Field(None, description="an http(s) URL")
    api_url: Url = Field(description="an http(s) URL")
    allow_loopback: bool = Field(
        False, description="true or false (an aws target may point at loopback only if true)"
    )
    application: Name | None = Field(None, description="a CodeDeploy application name")
    alarms: _Names = Field([], description="a list of alarm names")
    deployment_groups: _Names = Field([], description="a list of deployment group names")
    alert_topic: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        None, description="an SNS topic name or ARN"
    )
    slo: _SLOFile = Field(default_factory=_SLOFile, description="a table of SLOs")
    chaos_backend: Backend | None = Field(
        None, description="one of " + ", ".join(BACKENDS) + " (how Lambda faults are delivered)"
    )
    fis: _FisFile | None = Field(None, description="a [fis] table (role_arn, ...)")
    version_source: (
        Annotated[str, Field(pattern=r"^(header|json):[A-Za-z0-9_.\-]{1,200}$")] | None
    ) = Field(
        None, description="'header:<name>' or 'json:<field>' (where answers name their version)"
    )
    chaos_layer: (
        Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$")]
        | None
    ) = Field(None, description="a Lambda layer version ARN in the target's region")
    functions: Annotated[list[_FunctionFile], Field(min_length=1, max_length=MAX_ITEMS)] = Field(
        description="a non-empty array of [[functions]] tables"
    )


def _check_endpoints(t: _TargetFile, source: str) -> None:
    """Where the target points must match its kind; the harness never falls back to AWS."""
    if t.kind == "sandbox":
        if t.endpoint_url is None:
            raise ConfigError(
                f"{source}: kind = 'sandbox' needs endpoint_url (the sandbox's AWS endpoint,"
                " http://127.0.0.1:PORT); without it the harness would talk to real AWS"
            )
        for key, url in (("endpoint_url", t.endpoint_url), ("api_url", t.api_url)):
            if not is_loopback_url(url):
                raise ConfigError(
                    f"{source}: {key} = {shown(url)} is not loopback; a sandbox target "
                    "listens on 127.0.0.1 only"
                )
        return
    if t.allow_loopback:
        return
    for key, maybe in (("endpoint_url", t.endpoint_url), ("api_url", t.api_url)):
        if maybe is not None and is_loopback_url(maybe):
            raise ConfigError(
                f"{source}: {key} = {shown(maybe)} is loopback but kind = 'aws'; use kind ="
                " 'sandbox' for the twin, or set allow_loopback = true if this is intended"
            )


def parse_target(data: Mapping[str, object], source: str) -> Target:
    """Build a Target from parsed TOML; every problem names `source` and the key."""
    t = validate_model(_TargetFile, data, source)
    seen: set[str] = set()
    for fn in t.functions:
        if fn.path in seen:
            raise ConfigError(f"{source}: two functions serve path {fn.path!r}")
        seen.add(fn.path)
    _check_endpoints(t, source)
    functions = tuple(
        FunctionSpec(
            name=f.name,
            path=f.path,
            alias=f.alias,
            aliases=tuple(f.aliases) or ("production", "canary"),
            critical=f.critical,
            provisioned_concurrency=f.provisioned_concurrency,
            alarms=tuple(f.alarms),
            deployment_group=f.deployment_group,
        )
        for f in t.functions
    )
    return Target(
        name=t.name,
        kind=t.kind,
        environment=t.environment,
        region=t.region,
        profile=t.profile,
        endpoint_url=t.endpoint_url,
        api_url=t.api_url,
        functions=functions,
        application=t.application,
        alarms=tuple(t.alarms) or tuple(a for f in functions for a in f.alarms),
        deployment_groups=tuple(t.deployment_groups)
        or tuple(f.deployment_group for f in functions if f.deployment_group),
        alert_topic=t.alert_topic,
        slos=SLOs(**t.slo.model_dump()),
        source=source,
        chaos_backend=t.chaos_backend,
        fis=FisSettings(**t.fis.model_dump()) if t.fis is not None else None,
        version_source=t.version_source,
        chaos_layer=t.chaos_layer,
    )


def load_target(path: str | os.PathLike[str]) -> Target:
    """Read and validate a target file. Raises ConfigError with a one-line reason."""
    p = Path(path)
    data = read_document(p, "target file", "toml")
    assert isinstance(data, dict)  # tomllib returns a table
    return parse_target(data, str(p))
