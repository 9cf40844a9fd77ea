"""Machine-readable report: the whole RunResult as JSON (`report.json`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..gameday.model import RunResult
from ..redact import redact

__all__ = ["REPORT_SCHEMA", "render_json", "write_json"]

REPORT_SCHEMA = "lambda-gameday/run-report@1"


def _finite(value: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def render_json(run: RunResult) -> str:
    doc = {"schema": REPORT_SCHEMA, **_finite(run.to_dict())}
    doc["failures"] = run.failures()
    return redact(json.dumps(doc, indent=2, allow_nan=False)) + "\n"


def write_json(run: RunResult, out_dir: Path) -> Path:
    path = out_dir / "report.json"
    path.write_text(render_json(run), encoding="utf-8")
    return path
