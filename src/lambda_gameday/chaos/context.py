"""How an activity finds its target: from the Chaos Toolkit configuration, then the environment.

Configuration keys (all optional):

    gameday_target     path to a target TOML file (wins over everything below)
    gameday_api_url    API base URL for probes          (env GAMEDAY_API_URL)
    aws_region         region                           (env AWS_REGION / AWS_DEFAULT_REGION)
    gameday_endpoint_url  AWS endpoint                  (env AWS_ENDPOINT_URL)
    gameday_stage      stage of the seed's names, "dev" (env GAMEDAY_STAGE)
    gameday_ledger     fault ledger file               (env GAMEDAY_LEDGER)
    gameday_run_id     the run's id in the ledger      (env GAMEDAY_RUN_ID; a run without
                       one gets a fresh id from its run context, see run.py)
    gameday_fis_role_arn, gameday_fis_configuration_location
                       the [fis] settings of a target built without a file
                       (env GAMEDAY_FIS_ROLE_ARN, GAMEDAY_FIS_CONFIGURATION_LOCATION)

The stock `chaos run` finds its target the same way: GAMEDAY_TARGET names the target
file. Without a target file, a loopback endpoint URL makes a target of kind sandbox (the
seed's functions, alarms and groups, class dev). Anything else — a non-loopback endpoint,
or none (the default credential chain for that region) — has no declared class unless
GAMEDAY_ENVIRONMENT (dev, staging, production) gives one, and counts as production: the
safety guard then refuses faults on it unless GAMEDAY_ALLOW_PRODUCTION=1. Only the
environment declares or grants; an experiment's configuration cannot.

Clients are cached per target, never process-wide; so is the target's account id (STS
GetCallerIdentity), which every ledger entry records as part of the target's identity.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from ..aws import Clients, aws_errors
from ..config import ENV_CLASSES, EnvClass, FisSettings, Target, load_target, sandbox_target
from ..exceptions import ConfigError, TargetError
from .ledger import DEFAULT_LEDGER, Ledger, TargetRef

__all__ = [
    "Configuration",
    "api_url",
    "clients_for",
    "identity_of",
    "is_loopback",
    "ledger_for",
    "run_id_from",
    "target_from",
    "target_ref",
]

Configuration = Mapping[str, object] | None

_lock = threading.Lock()
_clients: dict[Target, Clients] = {}
_ledgers: dict[str, Ledger] = {}
_accounts: dict[Target, str] = {}


def is_loopback(url: str | None) -> bool:
    """Whether `url` names this machine (127.0.0.0/8, ::1 or localhost)."""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _declared_class() -> EnvClass:
    """The class the environment declares for a target built without a file; none
    declared counts as production (fail closed)."""
    value = os.environ.get("GAMEDAY_ENVIRONMENT", "").strip().lower()
    if not value:
        return "production"
    if value not in ENV_CLASSES:
        raise ConfigError(
            f"GAMEDAY_ENVIRONMENT={value!r} is invalid; expected one of {', '.join(ENV_CLASSES)}"
        )
    return value  # checked against ENV_CLASSES above


def _get(configuration: Configuration, key: str, env: str | None = None) -> str | None:
    value = (configuration or {}).get(key)
    if value is None and env is not None:
        value = os.environ.get(env)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"configuration {key} = {value!r} is invalid; expected a string")
    return value


def target_from(configuration: Configuration) -> Target:
    """The Target an activity works on."""
    path = _get(configuration, "gameday_target", "GAMEDAY_TARGET")
    if path is not None:
        target = load_target(path)
        api = _get(configuration, "gameday_api_url")
        return replace(target, api_url=api) if api else target
    region = (
        _get(configuration, "aws_region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
    if not region:
        raise ConfigError("no target: set configuration gameday_target, or aws_region / AWS_REGION")
    endpoint = _get(configuration, "gameday_endpoint_url", "AWS_ENDPOINT_URL")
    api = _get(configuration, "gameday_api_url", "GAMEDAY_API_URL") or ""
    stage = _get(configuration, "gameday_stage", "GAMEDAY_STAGE") or "dev"
    target = sandbox_target(api, endpoint or "", stage=stage, region=region)
    # GAMEDAY_STAGE=production is production whatever else is said.
    if is_loopback(endpoint):
        target = replace(target, environment="production" if stage == "production" else "dev")
    else:
        target = replace(
            target,
            kind="aws",
            endpoint_url=endpoint,
            name=f"aws-{stage}",
            environment="production" if stage == "production" else _declared_class(),
        )
    role = _get(configuration, "gameday_fis_role_arn", "GAMEDAY_FIS_ROLE_ARN")
    location = _get(
        configuration, "gameday_fis_configuration_location", "GAMEDAY_FIS_CONFIGURATION_LOCATION"
    )
    if role and location:
        target = replace(target, fis=FisSettings(role_arn=role, configuration_location=location))
    return replace(target, source="<chaos configuration>")


def clients_for(target: Target) -> Clients:
    with _lock:
        if target not in _clients:
            _clients[target] = Clients(target)
        return _clients[target]


def api_url(configuration: Configuration) -> str:
    url = target_from(configuration).api_url
    if not url:
        raise ConfigError("no API base URL: set configuration gameday_api_url or GAMEDAY_API_URL")
    return url


def run_id_from(configuration: Configuration) -> str | None:
    """The run id the configuration (or GAMEDAY_RUN_ID) names, if any."""
    return _get(configuration, "gameday_run_id", "GAMEDAY_RUN_ID")


def ledger_for(configuration: Configuration) -> Ledger:
    """The run's ledger; one object per path so every activity shares its run id."""
    path = _get(configuration, "gameday_ledger", "GAMEDAY_LEDGER") or DEFAULT_LEDGER
    run_id = run_id_from(configuration)
    with _lock:
        key = f"{path}\0{run_id}"
        if key not in _ledgers:
            _ledgers[key] = Ledger(path, run_id=run_id)
        return _ledgers[key]


def target_ref(target: Target) -> TargetRef:
    """The target as the ledger records it, without its account id (see identity_of)."""
    return TargetRef(
        name=target.name,
        kind=target.kind,
        region=target.region,
        endpoint_url=target.endpoint_url,
        profile=target.profile,
        source=target.source,
    )


def account_of(target: Target) -> str:
    """The account the target's credentials act in (STS GetCallerIdentity), cached."""
    with _lock:
        found = _accounts.get(target)
    if found is not None:
        return found
    with aws_errors(f"identifying the account of {target.name} (STS GetCallerIdentity)"):
        account = str(clients_for(target).client("sts").get_caller_identity()["Account"])
    if not account:
        raise TargetError(f"{target.name}: STS GetCallerIdentity returned no account id")
    with _lock:
        _accounts[target] = account
    return account


def identity_of(target: Target) -> TargetRef:
    """The target's identity as the ledger records it: account id, Region, endpoint URL
    and name (plus what rebuilds its clients)."""
    ref = target_ref(target)
    ref["account_id"] = account_of(target)
    return ref


def target_from_ref(ref: TargetRef) -> Target:
    """Rebuild a target recorded in the ledger (for cleanup in another process)."""
    source = ref.get("source", "")
    if source and not source.startswith("<") and os.path.exists(source):
        return load_target(source)
    base = sandbox_target("", ref.get("endpoint_url") or "", region=ref["region"])
    return replace(
        base,
        name=ref["name"],
        kind="sandbox" if ref["kind"] == "sandbox" else "aws",
        endpoint_url=ref.get("endpoint_url"),
        profile=ref.get("profile"),
        source=source or "<ledger>",
    )
