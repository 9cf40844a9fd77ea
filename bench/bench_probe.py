"""Probe overhead and measurement error, against the sandbox, in one run.

The sandbox runs as its own process (`gameday sandbox`), as a real target would: in the
same process its server threads would compete with the client for the GIL and charge
the client's extra work to the server's latency.

1. Overhead: the check runner (cache-busting, trace timing, health-contract judging,
   result object) versus a bare httpx loop sending the same GET to the same endpoint.
   Interleaved blocks so machine-load drift hits both alike; medians of per-request
   times (means are printed too). Target: < 10 % more time per probe.
2. Error: each probe's client-side total time versus the sandbox's ground truth for the
   same invocation, the REPORT line's Duration (handler time), matched in start order by
   timestamp (sequential requests). The difference is everything outside the handler:
   gateway, HTTP, client. Target in the issue: median under 0.5 ms.

Run: .venv/bin/python bench/bench_probe.py [--requests 1000] [--block 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from lambda_gameday.aws import Clients
from lambda_gameday.config import sandbox_target
from lambda_gameday.synthetics.coldstart import _report_lines
from lambda_gameday.synthetics.definitions import CheckDefinition, Expectations, LatencyBudget
from lambda_gameday.synthetics.engine import CheckRunner


@contextlib.contextmanager
def sandbox_process() -> Iterator[tuple[str, str]]:
    """`gameday sandbox` in its own process: (api_url, endpoint_url)."""
    exe = str(Path(sys.executable).parent / "gameday")
    proc = subprocess.Popen(
        [exe, "sandbox", "--init-ms", "50", "--seed", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        api = endpoint = ""
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if line.strip().startswith("GET ") and line.split()[1].endswith("/health"):
                api = line.split()[1].rsplit("/health", 1)[0]
            if "AWS_ENDPOINT_URL=" in line:
                endpoint = line.split("=", 1)[1].strip()
            if "Ctrl-C" in line or time.monotonic() > deadline:
                break
        if not (api and endpoint):
            raise SystemExit("the sandbox did not start")
        yield api, endpoint
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--block", type=int, default=50)
    args = ap.parse_args()
    with sandbox_process() as (api_url, endpoint_url):
        target = sandbox_target(api_url, endpoint_url, region="ap-south-1")
        url = target.url("/health/live")
        check = CheckDefinition(
            name="live",
            endpoint="/health/live",
            latency=LatencyBudget(failed_ms=1000),
            expect=Expectations(health=True),
        )
        bare = httpx.Client(trust_env=False)
        headers = {"Cache-Control": "no-cache"}
        with CheckRunner(target) as runner:
            for _ in range(20):  # warm environment and connections
                bare.get(url, headers=headers)
                runner.run(check)
            bare_t: list[float] = []
            probe_t: list[float] = []
            samples = []
            done = 0
            start_wall = time.time()
            while done < args.requests:
                for i in range(args.block):
                    t0 = time.perf_counter()
                    r = bare.get(url, headers=headers, params={"_gd": str(i)})
                    r.read()
                    bare_t.append(time.perf_counter() - t0)
                for _ in range(args.block):
                    t0 = time.perf_counter()
                    samples.append(runner.run(check))
                    probe_t.append(time.perf_counter() - t0)
                done += args.block
        bare.close()
        n = done
        bare_med, probe_med = statistics.median(bare_t), statistics.median(probe_t)
        print(f"requests per loop: {n}")
        print(
            f"bare httpx:   median {bare_med * 1000:.3f} ms, "
            f"mean {statistics.mean(bare_t) * 1000:.3f} ms per request"
        )
        print(
            f"check runner: median {probe_med * 1000:.3f} ms, "
            f"mean {statistics.mean(probe_t) * 1000:.3f} ms per request"
        )
        print(f"overhead (medians): {probe_med / bare_med - 1:+.1%} (target < +10%)")

        # ground truth: REPORT Duration of each probe's invocation
        logs = Clients(target).logs()
        fn = target.function("/health/live").name
        deadline = time.monotonic() + 10
        lines = []
        while time.monotonic() < deadline:
            lines = _report_lines(logs, fn, start_wall - 1, time.time() + 1)
            if len(lines) >= 2 * n:
                break
            time.sleep(0.2)
        lines.sort(key=lambda line: line.timestamp)
        errors = []
        used: set[str] = set()
        j = 0
        for s in samples:
            if s.timing.total_ms is None:
                continue
            end = s.started_at + s.timing.total_ms / 1000
            while j < len(lines) and lines[j].timestamp < s.started_at - 0.002:
                j += 1
            k = j
            while k < len(lines) and (
                lines[k].request_id in used or lines[k].timestamp > end + 0.002
            ):
                k += 1
                if k < len(lines) and lines[k].timestamp > end + 0.002:
                    k = len(lines)
            if k < len(lines):
                used.add(lines[k].request_id)
                errors.append(s.timing.total_ms - lines[k].duration_ms)
        if errors:
            errors.sort()
            print(f"matched {len(errors)} of {len(samples)} probes to REPORT lines")
            print(
                f"client total - REPORT Duration: median {statistics.median(errors):.3f} ms, "
                f"p90 {errors[int(0.9 * len(errors))]:.3f} ms (target: median < 0.5 ms)"
            )


if __name__ == "__main__":
    main()
