"""What Lambda refuses in a function's configuration: layers and size limits.

Pure checks; `lambda_rules` answers a refusal with AWS's error code and message shape.

* Layers (docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html, "Layer quotas"): at
  most 5 per function; only layer versions of the function's own Region; a layer of another
  account needs that account's `lambda:GetLayerVersion` grant — AWS answers an unknown or
  ungranted one (including another Region's) with AccessDeniedException on GetLayerVersion.
* Limits (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): environment
  variables 4 KB in total, Timeout 1-900 s, MemorySize 128-10 240 MB.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .public_layers import is_public_layer, parse_layer_arn

__all__ = ["MAX_LAYERS", "Refusal", "check_layers", "check_limits"]

MAX_LAYERS = 5
ENV_LIMIT_BYTES = 4096
TIMEOUT_RANGE = (1, 900)
MEMORY_RANGE = (128, 10240)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def check_layers(
    arns: list[str],
    *,
    region: str,
    account_id: str,
    own_layer_exists: Callable[[str], bool],
    allow_other_regions: bool = False,
) -> Refusal | None:
    """`own_layer_exists(arn)`: whether this account has published that layer version."""
    if len(arns) > MAX_LAYERS:
        return Refusal(
            400,
            "InvalidParameterValueException",
            f"Cannot reference more than {MAX_LAYERS} layers.",
        )
    for arn in arns:
        layer = parse_layer_arn(arn)
        if layer is None:
            continue  # the pattern check in lambda_rules answers malformed ARNs
        if layer.account == account_id and layer.region == region:
            if not own_layer_exists(arn):
                return Refusal(
                    400, "InvalidParameterValueException", f"Layer version {arn} does not exist."
                )
            continue
        public_here = is_public_layer(layer) and (layer.region == region or allow_other_regions)
        if not public_here:
            return Refusal(
                403,
                "AccessDeniedException",
                f"User: arn:aws:iam::{account_id}:user/gameday is not authorized to perform: "
                f"lambda:GetLayerVersion on resource: {arn} because no resource-based policy "
                "allows the lambda:GetLayerVersion action",
            )
    return None


def _range(field: str, value: object, low: int, high: int) -> Refusal | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None  # botocore's own type check answers these
    if value > high:
        bound = f"less than or equal to {high}"
    elif value < low:
        bound = f"greater than or equal to {low}"
    else:
        return None
    return Refusal(
        400,
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must have value {bound}",
    )


def check_limits(config: Mapping[str, object]) -> Refusal | None:
    """Timeout, MemorySize and Environment of a CreateFunction/UpdateFunctionConfiguration
    body."""
    refusal = _range("timeout", config.get("Timeout"), *TIMEOUT_RANGE) or _range(
        "memorySize", config.get("MemorySize"), *MEMORY_RANGE
    )
    if refusal is not None:
        return refusal
    env = config.get("Environment")
    variables = env.get("Variables") if isinstance(env, Mapping) else None
    if isinstance(variables, Mapping):
        # Lambda measures the variables as compact JSON and quotes what it measured.
        measured = json.dumps(dict(variables), separators=(",", ":"))
        if len(measured.encode()) > ENV_LIMIT_BYTES:
            return Refusal(
                400,
                "InvalidParameterValueException",
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided exceeded the 4KB limit. String "
                f"measured: {measured}",
            )
    return None
