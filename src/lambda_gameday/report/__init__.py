"""Reports of a game day: HTML, Markdown, JSON and JUnit XML in one directory.

write_reports(run, out_dir)  ->  [report.html, report.md, report.json, junit.xml]
"""

from __future__ import annotations

from pathlib import Path

from ..config import SLOs
from ..gameday.model import RunResult
from ..redact import redact
from .html import render_html, write_html
from .json import render_json, write_json
from .junit import render_junit, write_junit
from .markdown import render_markdown, write_markdown

__all__ = [
    "redact",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "write_reports",
]


def write_reports(run: RunResult, out_dir: Path, slos: SLOs | None = None) -> list[Path]:
    """Write every report format into `out_dir` (which must exist). JSON first: it is the
    record other tools read, so it is written even if a renderer fails later."""
    written = [write_json(run, out_dir), write_junit(run, out_dir)]
    written.append(write_markdown(run, out_dir))
    written.append(write_html(run, out_dir, slos))
    return written
