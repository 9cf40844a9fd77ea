"""Benchmark: the default game day on the sandbox, end to end, as the README runs it.

    .venv/bin/python bench/bench_gameday.py [--runs 2]

Runs `gameday run` (default plan, embedded sandbox) as a subprocess from the repository
root, with a scratch report directory and history database, and reports the wall time of
each run and the time of each phase (from the run's report.json). Target: < 180 s.
The baseline measured in the same run is `gameday run` with a one-phase plan (10 probes
per endpoint): the fixed cost of starting Python, the sandbox and the reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE_PLAN = "name: baseline\nphases:\n  - phase: synthetics\n    probes: 10\n"


def one_run(scratch: Path, plan: Path | None) -> tuple[float, int, dict[str, float], str]:
    reports = scratch / f"reports-{time.time_ns()}"
    args = [
        sys.executable,
        "-m",
        "lambda_gameday.cli",
        "run",
        "--report-dir",
        str(reports),
        "--db",
        str(scratch / "h.sqlite3"),
    ]
    if plan is not None:
        args += ["--plan", str(plan)]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    doc = json.loads((run_dir / "report.json").read_text())
    phases = {p["name"]: p["finished_at"] - p["started_at"] for p in doc["phases"]}
    return wall, proc.returncode, phases, doc["verdict"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        baseline_plan = scratch / "baseline.yml"
        baseline_plan.write_text(BASELINE_PLAN)
        base, _, _, _ = one_run(scratch, baseline_plan)
        walls: list[float] = []
        for i in range(args.runs):
            wall, code, phases, verdict = one_run(scratch, None)
            walls.append(wall)
            detail = ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
            print(f"run {i + 1}: {wall:.1f} s wall, verdict {verdict} (exit {code}); {detail}")
        print(f"baseline (start + 10 probes/endpoint + reports): {base:.1f} s")
        print(
            f"default game day: median {statistics.median(walls):.1f} s, max {max(walls):.1f} s"
            f" over {len(walls)} runs; target < 180 s -> "
            f"{'met' if max(walls) < 180 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
