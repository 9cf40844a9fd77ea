"""Read a SAM template: AWS's own transform (`aws-sam-translator`) turns it into
CloudFormation, which `cloudformation.read_cloudformation` reads.

What the transform needs and a local template lacks is supplied first: a `CodeUri` that is a
local folder (before `sam package`) becomes a placeholder S3 location, and the folder is
remembered as the function's code path (lint reads hook code there). A preference with
`Enabled: false` produces no deployment group, exactly as on AWS.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..serverless_stack import StackSpec
from .cloudformation import ReadOptions, read_cloudformation
from .errors import StackFileError

__all__ = ["is_sam", "read_sam", "transform_sam"]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_PLACEHOLDER_BUCKET = "sandbox-local-code"


def is_sam(doc: Mapping[str, Any]) -> bool:
    transform = doc.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names


def _local_code(doc: dict[str, Any]) -> dict[str, str]:
    """Replace local CodeUri folders with placeholders; return logical id -> folder."""
    paths: dict[str, str] = {}
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    default = globals_fn.get("CodeUri") if isinstance(globals_fn, Mapping) else None
    if isinstance(default, str) and not default.startswith("s3://"):
        globals_fn["CodeUri"] = f"s3://{_PLACEHOLDER_BUCKET}/{default.strip('/') or 'root'}.zip"
    for logical, res in (doc.get("Resources") or {}).items():
        if not isinstance(res, Mapping) or res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties")
        if not isinstance(props, dict):
            continue
        uri = props.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            paths[str(logical)] = uri
            props["CodeUri"] = f"s3://{_PLACEHOLDER_BUCKET}/{uri.strip('/') or 'root'}.zip"
        elif uri is None and isinstance(default, str) and not default.startswith("s3://"):
            paths[str(logical)] = default
    return paths


def transform_sam(
    doc: Mapping[str, Any], options: ReadOptions
) -> tuple[dict[str, Any], dict[str, str]]:
    """The CloudFormation template SAM's transform makes of `doc`, and each function's
    local code folder."""
    source, region = options.source, options.region
    try:
        from samtranslator.model.exceptions import InvalidDocumentException
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
    except ImportError:  # pragma: no cover - a base dependency
        raise StackFileError(f"{source}: reading SAM needs aws-sam-translator") from None
    import boto3

    template = copy.deepcopy(dict(doc))
    code_paths = _local_code(template)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    try:
        out = translator.translate(
            template,
            parameter_values={**options.parameters, "AWS::AccountId": options.account_id},
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as exc:
        first = next(iter(exc.causes), exc)
        where = getattr(first, "_logical_id", None) or getattr(first, "logical_id", None)
        message = " ".join(str(getattr(first, "message", first)).split())
        place = f"Resources.{where}: " if where else ""
        raise StackFileError(f"{source}: {place}{message}") from None
    except Exception as exc:  # the transform's other failures are bad input too
        detail = " ".join(str(exc).split())
        raise StackFileError(f"{source}: SAM transform failed ({detail})") from None
    return dict(out), code_paths


def read_sam(doc: Mapping[str, Any], options: ReadOptions) -> StackSpec:
    out, code_paths = transform_sam(doc, options)
    spec = read_cloudformation(out, options, code_paths=code_paths, fmt="sam")
    # Name the SAM source of each generated group (`<Function>DeploymentGroup`).
    sam_functions = {
        str(k)
        for k, v in (doc.get("Resources") or {}).items()
        if isinstance(v, Mapping) and v.get("Type") == "AWS::Serverless::Function"
    }
    groups = []
    for g in spec.groups:
        logical = g.where.removeprefix("Resources.").removesuffix("DeploymentGroup")
        if logical in sam_functions:
            g = replace(g, where=f"Resources.{logical}.Properties.DeploymentPreference")
        groups.append(g)
    return replace(spec, groups=tuple(groups))
