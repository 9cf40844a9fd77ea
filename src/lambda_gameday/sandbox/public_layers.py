"""The public extension layers the twin knows, per Region.

On AWS a function can attach a layer version of another account only if that account's
layer policy allows `lambda:GetLayerVersion`, and only from the function's own Region. The
publishers of the two fault-injection extensions grant it to everyone in each Region they
publish in; the twin models exactly those and refuses every other foreign layer.

* chaos-lambda-extension (awslabs): account 871265522301, one layer per architecture, in
  every commercial Region (github.com/aws-samples/chaos-lambda-extension); its facts are in
  `chaos_extension_layers`, which the harness reads too.
* AWS FIS extension: one layer per Region and architecture, found through the public SSM
  parameter `/aws/service/fis/lambda-extension/AWS-FIS-extension-<x86_64|arm64>/1.x.x`
  (docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html). The
  publisher account and version below are modelled, not AWS's: callers must read the SSM
  parameter, never hard-code the ARN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from .chaos_extension_layers import (
    CHAOS_EXTENSION_ACCOUNT,
    CHAOS_EXTENSION_NAMES,
    CHAOS_EXTENSION_VERSION,
    REGIONS,
    Arch,
    chaos_extension_layer,
)

__all__ = [
    "CHAOS_EXTENSION_ACCOUNT",
    "FIS_EXTENSION_ACCOUNT",
    "FIS_PARAMETER_PREFIX",
    "LayerArn",
    "chaos_extension_layer",
    "fis_extension_layer",
    "fis_parameter",
    "fis_parameter_interceptor",
    "is_public_layer",
    "parse_layer_arn",
]

FIS_EXTENSION_ACCOUNT: Final = "525470455224"  # modelled publisher account
FIS_EXTENSION_VERSION: Final = 9  # modelled
FIS_PARAMETER_PREFIX: Final = "/aws/service/fis/lambda-extension/AWS-FIS-extension-"

_ARN = re.compile(
    r"^arn:(?P<partition>[a-zA-Z0-9-]+):lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)$"
)


@dataclass(frozen=True)
class LayerArn:
    region: str
    account: str
    name: str
    version: int


def parse_layer_arn(arn: str) -> LayerArn | None:
    m = _ARN.match(arn)
    if m is None:
        return None
    return LayerArn(m["region"], m["account"], m["name"], int(m["version"]))


def fis_extension_layer(region: str, arch: Arch = "x86_64") -> str:
    return (
        f"arn:aws:lambda:{region}:{FIS_EXTENSION_ACCOUNT}:layer:"
        f"aws-fis-extension-{arch}:{FIS_EXTENSION_VERSION}"
    )


def fis_parameter(name: str, region: str) -> str | None:
    """The layer ARN the public SSM parameter `name` holds in `region`, if it is one."""
    for arch in ("x86_64", "arm64"):
        if name == f"{FIS_PARAMETER_PREFIX}{arch}/1.x.x":
            return fis_extension_layer(region, arch)
    return None


def is_public_layer(layer: LayerArn) -> bool:
    """A layer version everyone may use (in its own Region). Both extensions are published
    in the same commercial Regions (`REGIONS`)."""
    if layer.region not in REGIONS:
        return False
    if layer.account == CHAOS_EXTENSION_ACCOUNT:
        return (
            layer.name in CHAOS_EXTENSION_NAMES.values()
            and 1 <= layer.version <= CHAOS_EXTENSION_VERSION
        )
    if layer.account == FIS_EXTENSION_ACCOUNT:
        return (
            layer.name in ("aws-fis-extension-x86_64", "aws-fis-extension-arm64")
            and 1 <= layer.version <= FIS_EXTENSION_VERSION
        )
    return False


def fis_parameter_interceptor(region: str) -> Any:
    """An SSM interceptor answering GetParameter for the FIS extension's public parameters
    (moto refuses to store names under `/aws/`, as AWS does for callers)."""
    from werkzeug.wrappers import Response

    from .awsapi import ApiCall

    def intercept(call: ApiCall) -> Response | None:
        if call.operation != "GetParameter":
            return None
        name = str(call.params().get("Name") or "")
        value = fis_parameter(name, region)
        if value is None:
            return None
        body = {
            "Parameter": {
                "Name": name,
                "Type": "String",
                "Value": value,
                "Version": 1,
                "LastModifiedDate": 1730160000.0,  # 2024-10-29, the extension's release
                "ARN": f"arn:aws:ssm:{region}::parameter{name}",
                "DataType": "text",
            }
        }
        return Response(json.dumps(body), status=200, content_type="application/x-amz-json-1.1")

    return intercept
