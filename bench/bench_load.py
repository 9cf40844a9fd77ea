"""Benchmark: what raw timing capture costs Locust, and how Locust's worker mode scales.

Both comparisons run in the same invocation against the same fast loopback server
(bench/fastserver.py, its own process), alternating the two sides `--repeats` times:

1. capture overhead, one core: loadtests/health.py (HealthUser, only /health, no think
   time, every request into HdrHistograms) versus loadtests/bare.py (a bare FastHttpUser)
   - Locust pinned to CPU 0, the server to CPU 1. Throughput is Locust's own request count
   over its first-to-last request interval, the same measure for both.
   Target: capture >= 90 % of bare.
2. worker scaling: the harness's runner (`run_load`) with 2 worker processes versus 1,
   same users per worker; throughput from the merged results file. The server shares
   the two cores with the workers, so the ceiling is below 2x. Target: >= 1.7x.

    .venv/bin/python bench/bench_load.py --seconds 6 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lambda_gameday.config import FunctionSpec, Target  # noqa: E402
from lambda_gameday.load import LoadOptions, run_load  # noqa: E402


def _pin(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None or not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def start_server(cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fastserver.py"), "--max-seconds", "900"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pin(cpu),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def locust_rps(
    locustfile: str, url: str, users: int, seconds: int, extra_env: dict[str, str]
) -> tuple[float, float]:
    """(requests per wall second, requests per CPU second of the Locust process), from
    Locust's own `--json` count and bench/cpu_meter.py's process time."""
    env = {**os.environ, **extra_env}
    with tempfile.TemporaryDirectory() as tmp:
        env.setdefault("GAMEDAY_RESULTS", str(Path(tmp) / "r.json"))
        env["BENCH_CPU_FILE"] = str(Path(tmp) / "cpu.json")
        files = f"{ROOT / 'loadtests' / locustfile},{ROOT / 'bench' / 'cpu_meter.py'}"
        out = subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", files,
                "--headless", "-u", str(users), "-r", str(users), "--run-time", f"{seconds}s",
                "-H", url, "--only-summary", "--json", "--loglevel", "ERROR",
                *(["HealthUser"] if locustfile == "health.py" else []),
            ],
            capture_output=True, text=True, timeout=seconds + 60, env=env, preexec_fn=_pin(0),
        )  # fmt: skip
        cpu = json.loads(Path(env["BENCH_CPU_FILE"]).read_text())
    stats = json.loads(out.stdout)
    total = sum(e["num_requests"] for e in stats)
    first = min(e["start_time"] for e in stats)
    last = max(e["last_request_timestamp"] for e in stats)
    return float(total / (last - first)), float(total / cpu["cpu_s"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_rps(url: str, workers: int, users_per_worker: int, seconds: int) -> tuple[float, float]:
    """(requests per second, requests per CPU-second of all Locust processes: master and
    workers, start-up included)."""
    target = Target(
        name="bench", kind="aws", environment="dev", region="us-east-1", api_url=url,
        functions=(FunctionSpec("bench-health", "/health"),),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        options = LoadOptions(
            users=users_per_worker * workers, spawn_rate=1000, run_time_s=seconds,
            workers=workers, mix="/health=1", think="0,0", out=Path(tmp) / "r.json",
        )  # fmt: skip
        cpu_before = _children_cpu()
        res = run_load(target, options).results
        cpu = _children_cpu() - cpu_before
    return res.count / res.duration_s, res.count / cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--users", type=int, default=20, help="users per Locust process")
    args = parser.parse_args(argv)

    server, url = start_server(cpu=1)
    server_cpu = cpu_seconds(server.pid)
    bare: list[tuple[float, float]] = []
    capture: list[tuple[float, float]] = []
    one: list[tuple[float, float]] = []
    two: list[tuple[float, float]] = []
    try:
        health_env = {"GAMEDAY_MIX": "/health=1", "GAMEDAY_THINK": "0,0"}
        for _ in range(args.repeats):
            bare.append(locust_rps("bare.py", url, args.users, args.seconds, {}))
            capture.append(locust_rps("health.py", url, args.users, args.seconds, health_env))
        server_cpu = cpu_seconds(server.pid) - server_cpu
        server.terminate()
        server.wait(timeout=10)
        server, url = start_server(cpu=None)  # unpinned: it shares both cores with workers
        for _ in range(args.repeats):
            one.append(worker_rps(url, 1, args.users, args.seconds))
            two.append(worker_rps(url, 2, args.users, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=10)

    med = statistics.median
    wall_ratio = med(c[0] for c in capture) / med(b[0] for b in bare)
    cpu_ratio = med(c[1] for c in capture) / med(b[1] for b in bare)
    scaling = med(x[0] for x in two) / med(x[0] for x in one)
    efficiency = med(x[1] for x in two) / med(x[1] for x in one)
    # requests served during phase 1, from the wall rates and the run length
    served = sum(x[0] for x in bare + capture) * args.seconds
    server_us = server_cpu / served * 1e6 if served else float("nan")
    locust_us = 1e6 / med(c[1] for c in capture)
    ceiling = 2 * locust_us / (locust_us + server_us)
    print(f"cpus: {os.cpu_count()}  seconds per run: {args.seconds}  repeats: {args.repeats}")
    print("capture overhead, Locust pinned to CPU 0, server to CPU 1 (median of runs):")
    for label, xs in (("bare FastHttpUser", bare), ("health.py + capture", capture)):
        print(
            f"  {label:<22} {med(x[0] for x in xs):9,.0f} req/s wall"
            f"  {med(x[1] for x in xs):9,.0f} req/CPU-s   runs/CPU-s {_runs([x[1] for x in xs])}"
        )
    best_ratio = max(c[1] for c in capture) / max(b[1] for b in bare)
    print(f"  capture / bare         {wall_ratio:9.1%} wall  {cpu_ratio:9.1%} per CPU-s  (>= 90 %)")
    print(f"  best run / best run    {best_ratio:9.1%} per CPU-s")
    print("worker scaling, master/worker mode, server unpinned (median of runs):")
    for label, runs in (("1 worker", one), ("2 workers", two)):
        print(
            f"  {label:<22} {med(x[0] for x in runs):9,.0f} req/s  "
            f"{med(x[1] for x in runs):9,.0f} req/Locust-CPU-s   runs {_runs([x[0] for x in runs])}"
        )
    print(f"  2 workers / 1 worker   {scaling:9.2f}x  (>= 1.7x)")
    print(f"  Locust CPU efficiency, 2 workers vs 1: {efficiency:.1%} (requests per CPU-second)")
    print(
        f"  CPU per request: Locust+capture {locust_us:.1f} us, server {server_us:.1f} us -> "
        f"ceiling on 2 cores shared with the server: {ceiling:.2f}x"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


def _runs(xs: list[float]) -> str:
    return ", ".join(f"{x:,.0f}" for x in xs)


if __name__ == "__main__":
    sys.exit(main())
