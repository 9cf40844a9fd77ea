"""Stack readers: a SAM, CloudFormation (`cdk synth`) or Serverless Framework file into the
one neutral `StackSpec` the twin provisions and the harness turns into a target.

    spec = load_stack("template.yaml", stage="dev", parameters={"Env": "dev"})

The format is detected from the content: a top-level `service` is a Serverless file, a
`Transform: AWS::Serverless-2016-10-31` is SAM, `Resources` is CloudFormation. Every
problem is a `StackFileError` whose message is one line naming the file and the place in it.
These modules import neither moto nor the harness (the harness reads stacks on a lean
install).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ..serverless_stack import StackFormat, StackSpec
from .errors import StackFileError
from .yamlfile import load_yaml

if TYPE_CHECKING:
    from ..core import SandboxConfig

__all__ = [
    "StackFileError",
    "detect_format",
    "load_stack",
    "parse_stack",
    "sandbox_stack",
    "wants_seed",
]


def detect_format(doc: object, source: str) -> StackFormat:
    if not isinstance(doc, Mapping):
        raise StackFileError(f"{source}: the top level must be a mapping")
    from .sam import is_sam

    if "service" in doc:
        return "serverless"
    if is_sam(doc):
        return "sam"
    if "Resources" in doc:
        return "cloudformation"
    raise StackFileError(
        f"{source}: not a stack file: expected a Serverless `service`, a SAM "
        "`Transform: AWS::Serverless-2016-10-31` or CloudFormation `Resources`"
    )


def parse_stack(
    text: str,
    *,
    source: str = "template.yaml",
    stage: str | None = None,
    parameters: Mapping[str, str] | None = None,
    stack_name: str | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> StackSpec:
    doc: Any = load_yaml(text, source)
    fmt = detect_format(doc, source)
    if fmt == "serverless":
        from ..serverless import parse_serverless

        if parameters:
            raise StackFileError(
                f"{source}: --param is for CloudFormation/SAM Parameters; a Serverless file "
                "takes ${opt:...}/${env:...} variables"
            )
        return parse_serverless(text, source=source, stage=stage)
    from .cloudformation import ReadOptions, read_cloudformation
    from .sam import read_sam

    options = ReadOptions(
        source,
        stack_name or _stack_name(Path(source)),
        region,
        account_id,
        dict(parameters or {}),
        stage or "dev",
    )
    return read_sam(doc, options) if fmt == "sam" else read_cloudformation(doc, options)


def _stack_name(path: Path) -> str:
    """The stack name a file implies: `GreeterStack.template.json` -> GreeterStack (cdk
    synth's naming), `sam-app/template.yaml` -> sam-app (SAM's project folder)."""
    stem = path.name.split(".")[0]
    if stem in ("template", "packaged", "") and path.parent.name:
        stem = path.resolve().parent.name
    return "".join(c if c.isalnum() or c == "-" else "-" for c in stem) or "stack"


class StackOptions(TypedDict, total=False):
    """What `load_stack` passes on to `parse_stack` (its defaults apply)."""

    stage: str | None
    parameters: Mapping[str, str] | None
    stack_name: str | None
    region: str
    account_id: str


def load_stack(path: str | os.PathLike[str], **options: Unpack[StackOptions]) -> StackSpec:
    """`parse_stack` of the file at `path`; messages name the file by its path."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackFileError(f"{p}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise StackFileError(f"{p}: not a text file") from None
    return parse_stack(text, source=str(p), **options)


@functools.lru_cache(maxsize=8)
def _cached(
    path: str,
    mtime_ns: int,
    stage: str,
    params: tuple[tuple[str, str], ...],
    region: str,
    account: str,
) -> StackSpec:
    return load_stack(path, stage=stage, parameters=dict(params), region=region, account_id=account)


def sandbox_stack(config: SandboxConfig) -> StackSpec:
    """The stack of a sandbox's `stack_file` (read once per file version: the data plane
    and the control loops both ask)."""
    path = config.stack_file or config.serverless_file
    assert path is not None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise StackFileError(f"{path}: cannot read ({exc.strerror})") from None
    params = tuple(sorted(config.stack_parameters.items()))
    return _cached(path, mtime, config.stage, params, config.region, config.account_id)


def wants_seed(config: SandboxConfig) -> bool:
    """Whether the stack names any of the seed's functions (`<service>-<stage>-health-*`),
    which then keep the seed's handlers and dependencies."""
    from ..handlers import HEALTH_HANDLERS

    seed = {f"{config.service}-{config.stage}-{short}" for short in HEALTH_HANDLERS}
    return any(f.name in seed for f in sandbox_stack(config).functions)
