"""Machine-readable report: the whole RunResult as JSON (`report.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from ..gameday.model import RunResult
from ..redact import redact
from ..synthetics.results import json_safe

__all__ = ["REPORT_SCHEMA", "render_json", "write_json"]

REPORT_SCHEMA = "lambda-gameday/run-report@1"


def render_json(run: RunResult) -> str:
    doc = {"schema": REPORT_SCHEMA, **cast(dict[str, object], json_safe(run.to_dict()))}
    doc["failures"] = run.failures()
    return redact(json.dumps(doc, indent=2, allow_nan=False)) + "\n"


def write_json(run: RunResult, out_dir: Path) -> Path:
    path = out_dir / "report.json"
    path.write_text(render_json(run), encoding="utf-8")
    return path
