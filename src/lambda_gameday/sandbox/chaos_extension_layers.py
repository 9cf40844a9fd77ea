"""The chaos-lambda-extension's public layers: who publishes them, under which names and
version, and in which Regions.

The publisher (awslabs, github.com/aws-samples/chaos-lambda-extension) grants
`lambda:GetLayerVersion` to everyone for one layer per architecture in every commercial
Region, under account 871265522301. Pure data on the standard library only, so the harness
may read it as it reads the stack readers: the twin's layer rules (`public_layers`) and the
harness's choice of layer (`chaos/awslambda/layers`) take the same facts from here.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CHAOS_EXTENSION_ACCOUNT",
    "CHAOS_EXTENSION_NAMES",
    "CHAOS_EXTENSION_VERSION",
    "REGIONS",
    "Arch",
    "chaos_extension_layer",
]

Arch = Literal["x86_64", "arm64"]

CHAOS_EXTENSION_ACCOUNT: Final = "871265522301"
CHAOS_EXTENSION_NAMES: Final = {
    "x86_64": "chaos-lambda-extension-x86_64-unknown-linux-gnu-release",
    "arm64": "chaos-lambda-extension-aarch64-unknown-linux-gnu-release",
}
CHAOS_EXTENSION_VERSION: Final = 12

# The commercial Regions the extension is published in (the twin treats no other as existing).
REGIONS: Final = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "ap-south-1", "ap-south-2", "ap-southeast-1",
        "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-northeast-1",
        "ap-northeast-2", "ap-northeast-3", "ap-east-1", "me-south-1", "me-central-1",
        "af-south-1", "il-central-1",
    }
)  # fmt: skip


def chaos_extension_layer(region: str, arch: Arch = "x86_64") -> str:
    """The extension's layer version ARN in `region` (a Lambda function attaches only
    layers of its own Region)."""
    name = CHAOS_EXTENSION_NAMES[arch]
    return (
        f"arn:aws:lambda:{region}:{CHAOS_EXTENSION_ACCOUNT}:layer:{name}:{CHAOS_EXTENSION_VERSION}"
    )
