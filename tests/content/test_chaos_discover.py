"""The stock `chaos discover` finds the extension's activities by distribution name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_stock_chaos_discover_lists_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "discovery.json"
    chaos = str(Path(sys.executable).parent / "chaos")
    proc = subprocess.run(
        [
            chaos,
            "--no-log-file",
            "discover",
            "lambda-gameday",
            "--no-install",
            "--discovery-path",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    discovery = json.loads(out.read_text())
    names = {(a["type"], a["name"]) for a in discovery["activities"]}
    assert ("action", "deploy_canary") in names
    assert any(kind == "probe" for kind, _ in names)
    assert all(a["mod"].startswith("lambda_gameday.chaos.") for a in discovery["activities"])
