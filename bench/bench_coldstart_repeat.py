"""Repeatability: N cold-start phases in a row on one sandbox, failures counted.

    .venv/bin/python bench/bench_coldstart_repeat.py [--phases 50] [--log-deadline 30]

One phase is what the game day's cold-start phase and `gameday coldstart` run with the
default plan's options: `run_cold_starts` over every target function (env-var touch on
`$LATEST`, one cold and 5 warm invocations, REPORT lines read back from CloudWatch Logs),
then the provisioned-concurrency probe (5 concurrent invocations through `production`)
where the target declares it. All phases share one embedded sandbox, as a game day does.

A phase fails when any of its probes fails; every failure's reason is printed. The exit
code is 1 if any phase failed. `--log-deadline` is the probe's REPORT-line deadline
(default: the production default, 30 s); lower it only to count failures faster.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

from lambda_gameday.aws import Clients
from lambda_gameday.config import sandbox_target
from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.synthetics.coldstart import ProbeTiming, run_cold_starts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phases", type=int, default=50)
    parser.add_argument("--log-deadline", type=float, default=30.0)
    args = parser.parse_args()
    if args.phases < 1 or args.log_deadline <= 0:
        print("--phases must be >= 1 and --log-deadline > 0", file=sys.stderr)
        return 2
    failed_phases = 0
    probes = 0
    reasons: collections.Counter[str] = collections.Counter()
    durations: list[float] = []
    with Sandbox(SandboxConfig()) as sb:
        target = sandbox_target(sb.api_url, sb.endpoint_url, region=sb.config.region)
        clients = Clients(target)
        for i in range(args.phases):
            t0 = time.perf_counter()
            results = run_cold_starts(
                target, clients=clients, timing=ProbeTiming(log_deadline_s=args.log_deadline)
            )
            durations.append(time.perf_counter() - t0)
            probes += len(results)
            failed = [r for r in results if r.outcome != "ok"]
            if failed:
                failed_phases += 1
            for r in failed:
                where = f"{r.function}:{r.alias}" if r.kind == "provisioned" else r.function
                print(f"phase {i + 1}: FAILED {r.kind} {where}: {r.reason}", flush=True)
                reasons[f"{r.kind}: {r.reason}"] += 1
            if not failed:
                print(f"phase {i + 1}: ok ({len(results)} probes)", flush=True)
    durations.sort()
    print(
        f"\n{args.phases} cold-start phases, {probes} probes: "
        f"{args.phases - failed_phases} passed, {failed_phases} failed; "
        f"phase time median {durations[len(durations) // 2]:.2f} s, max {durations[-1]:.2f} s"
    )
    for reason, n in reasons.most_common():
        print(f"  {n} x {reason}")
    return 1 if failed_phases else 0


if __name__ == "__main__":
    sys.exit(main())
