"""Benchmark: N default game days in a row on the sandbox, and how many pass.

    .venv/bin/python bench/bench_gameday_repeat.py [--runs 20]

Each run is `gameday run` exactly as the README's first command (default plan, embedded
sandbox, a subprocess from the repository root) with a scratch report directory and
history database. It counts verdicts and exit codes, prints the wall time of each run
and, for any run that did not pass, the first lines of what failed. A game day is a CI
gate: one flaky run in twenty is one red build in twenty for nothing, so the target is
N of N.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(scratch: Path, index: int) -> tuple[float, int, str, list[str]]:
    reports = scratch / f"reports-{index}"
    args = [
        sys.executable,
        "-m",
        "lambda_gameday.cli",
        "run",
        "--report-dir",
        str(reports),
        "--db",
        str(scratch / "history.sqlite3"),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    dirs = [p for p in reports.iterdir() if p.is_dir()] if reports.exists() else []
    if len(dirs) != 1:
        return wall, proc.returncode, "no report", proc.stderr.strip().splitlines()[-3:]
    doc = json.loads((dirs[0] / "report.json").read_text())
    return wall, proc.returncode, str(doc["verdict"]), [str(f) for f in doc["failures"][:3]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    verdicts: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    walls: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gameday-repeat-") as tmp:
        scratch = Path(tmp)
        for i in range(1, args.runs + 1):
            wall, code, verdict, failures = one_run(scratch, i)
            walls.append(wall)
            verdicts[verdict] += 1
            codes[code] += 1
            print(f"run {i:>2}: {verdict:<12} exit {code:<3} {wall:6.1f} s", flush=True)
            for line in failures if verdict != "pass" else []:
                print(f"          {line}", flush=True)
    print(
        f"\n{verdicts['pass']} of {args.runs} default game days passed; "
        f"verdicts {dict(verdicts)}; exit codes {dict(codes)}"
    )
    print(
        f"wall time per run: median {statistics.median(walls):.1f} s, "
        f"min {min(walls):.1f} s, max {max(walls):.1f} s, total {sum(walls) / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
