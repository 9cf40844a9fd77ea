"""Open an HTML file in headless Chromium: the rendered DOM, a screenshot, console errors.

CI installs Debian's chromium (.ci/run); on a laptop without it the browser checks skip,
except under CI=true, where a missing browser is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
# Console errors, failed loads and blocked requests as Chromium logs them.
_PROBLEM = re.compile(r"CONSOLE\(\d+\)\].*(Uncaught|Error)|Failed to load resource|net::ERR_")


@dataclass(frozen=True)
class Rendered:
    dom: str
    screenshot: Path
    width: int
    height: int
    problems: list[str]


def browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return found


def render(html: Path, workdir: Path) -> Rendered:
    exe = browser()
    url = html.resolve().as_uri()
    common = [exe, *FLAGS, f"--user-data-dir={workdir / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    shot = workdir / "report.png"
    pic = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,2400", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert pic.returncode == 0, pic.stderr[-2000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    problems = [line for line in (dom.stderr + pic.stderr).splitlines() if _PROBLEM.search(line)]
    return Rendered(dom.stdout, shot, width, height, problems)
