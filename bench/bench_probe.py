"""Probe overhead and measurement error, against the sandbox, in one run.

1. Overhead: the check runner (cache-busting, trace timing, health-contract judging,
   result object) versus a bare httpx loop sending the same GET to the same endpoint.
   Interleaved blocks so machine-load drift hits both alike. Target: < 10 % more time.
2. Error: each probe's client-side total time versus the sandbox's ground truth for the
   same invocation, the REPORT line's Duration (handler time), matched in start order by
   timestamp (sequential requests). The difference is everything outside the handler:
   gateway, HTTP, client. Target in the issue: median under 0.5 ms.

Run: .venv/bin/python bench/bench_probe.py [--requests 1000] [--block 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from lambda_gameday.aws import Clients
from lambda_gameday.config import sandbox_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.synthetics.coldstart import _report_lines
from lambda_gameday.synthetics.definitions import CheckDefinition, Expectations, LatencyBudget
from lambda_gameday.synthetics.engine import CheckRunner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--block", type=int, default=50)
    args = ap.parse_args()
    with Sandbox(SandboxConfig(seed=1)) as sb:
        target = sandbox_target(sb.api_url, sb.endpoint_url, region=sb.config.region)
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
            bare_s = probe_s = 0.0
            samples = []
            done = 0
            start_wall = time.time()
            while done < args.requests:
                t0 = time.perf_counter()
                for i in range(args.block):
                    r = bare.get(url, headers=headers, params={"_gd": str(i)})
                    r.read()
                bare_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                for _ in range(args.block):
                    samples.append(runner.run(check))
                probe_s += time.perf_counter() - t0
                done += args.block
        bare.close()
        n = done
        overhead = probe_s / bare_s - 1
        print(f"requests per loop: {n}")
        print(f"bare httpx:  {bare_s / n * 1000:.3f} ms/request")
        print(f"check runner: {probe_s / n * 1000:.3f} ms/request")
        print(f"overhead: {overhead:+.1%} (target < +10%)")

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
