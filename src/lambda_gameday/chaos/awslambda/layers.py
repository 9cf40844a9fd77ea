"""Which chaos-lambda-extension layer a function may use, and how it joins the function's own.

Lambda only attaches layer versions from the function's own Region (the us-east-1 ARN
fails on an ap-south-1 function), allows at most 5 layers, and
`UpdateFunctionConfiguration(Layers=[...])` *replaces* the list — so the extension layer is
the target Region's, appended to the layers the function already has (Powertools, OTel...),
and the ledger's `restore_config` step puts the exact previous list back.

The publisher (awslabs, github.com/aws-samples/chaos-lambda-extension) grants
`lambda:GetLayerVersion` to everyone for one layer per architecture in every commercial
Region, under account 871265522301. Those facts have one home, the twin's pure
`sandbox/chaos_extension_layers`, which the harness may read (docs/architecture.md). A
target file may name another ARN (`chaos_layer`), e.g. a
copy published in the team's own account; it must be in the target's Region.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal

from ...exceptions import ConfigError, TargetError
from ...sandbox.chaos_extension_layers import REGIONS, chaos_extension_layer

__all__ = [
    "MAX_LAYERS",
    "REGIONS",
    "chaos_layer_for",
    "is_chaos_layer",
    "layer_region",
    "with_layer",
]

MAX_LAYERS: Final = 5  # Lambda quota: layers per function (not adjustable)
_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:layer:[\w-]+:\d+$")


def layer_region(arn: str) -> str | None:
    m = _ARN.match(arn)
    return m["region"] if m else None


def is_chaos_layer(arn: str) -> bool:
    return "chaos-lambda-extension" in arn


def chaos_layer_for(
    region: str, arch: Literal["x86_64", "arm64"] = "x86_64", override: str | None = None
) -> str:
    """The extension layer for a function in `region` (the target's `chaos_layer` wins)."""
    if override is not None:
        where = layer_region(override)
        if where is None:
            raise ConfigError(f"chaos_layer {override!r} is not a Lambda layer version ARN")
        if where != region:
            raise ConfigError(
                f"chaos_layer {override} is in {where}, the target's functions in {region}:"
                " Lambda only attaches layers of the function's own Region"
            )
        return override
    if region not in REGIONS:
        raise ConfigError(
            f"no chaos-lambda-extension layer known for Region {region}: set chaos_layer in"
            " the target file to one published in that Region"
        )
    return chaos_extension_layer(region, arch)


def with_layer(function: str, layers: Sequence[str], layer: str) -> list[str]:
    """The function's own layers with the extension appended (once), or TargetError when
    that would exceed Lambda's 5 layers."""
    own = [a for a in layers if not is_chaos_layer(a)]
    if len(own) + 1 > MAX_LAYERS:
        raise TargetError(
            f"{function} already has {len(own)} layers, the most Lambda allows is {MAX_LAYERS}:"
            " the chaos-lambda-extension fault needs one more (merge or drop one of its"
            " layers, or use a failure-lambda fault)"
        )
    return [*own, layer]
