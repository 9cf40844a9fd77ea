"""A large stack as a twin (issue 14): start time and gateway throughput.

A generated CloudFormation template of N functions (Function, Version, Alias `live`, a REST
route `GET /fn-<i>` through the alias), 4 alarms per function on the alias's dimensions, one
deployment group per function and one alert topic. The big stack (50 functions, 200 alarms,
50 groups) is compared with the same generator at 4 functions (16 alarms, 4 groups): the
same stand-in handler, the same kind of route, so the ratio isolates the stack's size.

1. Start: `Sandbox(stack_file=...)` from construction to serving (parse, provision through
   the AWS endpoint, alarm loop started), median of `--starts`. Target < 5 s for the big one.
   Its process CPU time beside it (wall time on a shared core includes the neighbours').
2. Throughput: warm sequential GETs round-robin over every route, one httpx client with
   keep-alive, the process pinned to one core; twins alternate small, big, small, big...
   (`--rounds`, each a fresh pair of twins), each round `--requests` requests after one
   warm-up pass over every route. Target: big / small throughput >= 0.9 (falls no more than
   10 %), the median of the per-round ratios.
3. Twin CPU per request, beside throughput: the process's CPU time less the client's (the
   main thread's `thread_time`) over the same requests, i.e. every twin thread's CPU
   (gateway loop, Lambda workers, state watcher, alarm engine, telemetry) per request.
   On a shared machine wall-clock throughput swings with the neighbours' load; CPU time
   does much less. Reported as small / big (>= 0.9: a request on the big twin costs at most
   ~11 % more CPU), median and range of the per-round ratios, the watcher's diffs, and the
   CPU per request of each twin thread (Linux /proc, clock ticks: rough) to say where a
   size-dependent cost is.

Usage: .venv/bin/python bench/bench_stack_scale.py [--functions 50] [--requests 2000]
       [--rounds 8] [--starts 3] [--cpu 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lambda_gameday.sandbox import Sandbox, SandboxConfig


def template(functions: int) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "scale-alerts"}},
        "App": {"Type": "AWS::CodeDeploy::Application", "Properties": {"ApplicationName": "scale"}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "scale"}},
    }
    metrics = [("Errors", "Sum", 0), ("Throttles", "Sum", 0), ("Duration", "p99", 3000)]
    metrics.append(("Duration", "Average", 1000))
    for i in range(functions):
        fn = f"Fn{i}"
        resources[fn] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": f"scale-fn-{i}",
                "Handler": "index.handler",
                "Runtime": "python3.12",
                "Role": "arn:aws:iam::123456789012:role/scale",
                "Code": {"ZipFile": "def handler(e, c): pass"},
            },
        }
        resources[f"{fn}Version"] = {
            "Type": "AWS::Lambda::Version",
            "Properties": {"FunctionName": {"Ref": fn}},
        }
        resources[f"{fn}Alias"] = {
            "Type": "AWS::Lambda::Alias",
            "Properties": {
                "FunctionName": {"Ref": fn},
                "FunctionVersion": {"Fn::GetAtt": [f"{fn}Version", "Version"]},
                "Name": "live",
            },
            "UpdatePolicy": {
                "CodeDeployLambdaAliasUpdate": {
                    "ApplicationName": {"Ref": "App"},
                    "DeploymentGroupName": {"Ref": f"{fn}Group"},
                }
            },
        }
        alarms = []
        for j, (metric, stat, threshold) in enumerate(metrics):
            name = f"{fn}Alarm{j}"
            alarms.append({"Ref": name})
            stat_key = "ExtendedStatistic" if stat.startswith("p") else "Statistic"
            resources[name] = {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"scale-fn-{i}-{metric.lower()}-{stat.lower()}",
                    "Namespace": "AWS/Lambda",
                    "MetricName": metric,
                    stat_key: stat,
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": threshold,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "Alerts"}],
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": {"Ref": fn}},
                        {"Name": "Resource", "Value": {"Fn::Sub": f"${{{fn}}}:live"}},
                    ],
                },
            }
        resources[f"{fn}Group"] = {
            "Type": "AWS::CodeDeploy::DeploymentGroup",
            "Properties": {
                "ApplicationName": {"Ref": "App"},
                "DeploymentGroupName": f"scale-fn-{i}",
                "ServiceRoleArn": "arn:aws:iam::123456789012:role/codedeploy",
                "DeploymentConfigName": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                "AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": a} for a in alarms]},
            },
        }
        resources[f"{fn}Resource"] = {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": f"fn-{i}",
            },
        }
        resources[f"{fn}Get"] = {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Ref": f"{fn}Resource"},
                "HttpMethod": "GET",
                "AuthorizationType": "NONE",
                "Integration": {
                    "Type": "AWS_PROXY",
                    "IntegrationHttpMethod": "POST",
                    "Uri": {
                        "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                        f"functions/${{{fn}Alias}}/invocations"
                    },
                },
            },
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


_START_CPU: list[float] = []  # the process's CPU seconds of each start, in order


def start_once(path: Path) -> tuple[float, Sandbox]:
    t0, cpu0 = time.perf_counter(), time.process_time()
    sb = Sandbox(SandboxConfig(stack_file=str(path), init_duration_ms=20, seed=1)).start()
    _START_CPU.append(time.process_time() - cpu0)
    return time.perf_counter() - t0, sb


@dataclass(frozen=True)
class Round:
    rate: float  # requests per second (wall clock)
    twin_cpu_us: float  # the twin's CPU time per request (every thread but the client's)
    diffs: int  # the state watcher's full diffs during the requests
    threads: dict[str, float]  # CPU us per request by thread name (Linux /proc), "" if none


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread, by name without its pool index (Linux only)."""
    out: dict[str, float] = {}
    for t in threading.enumerate():
        try:
            with open(f"/proc/self/task/{t.native_id}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        name = t.name.rsplit("_", 1)[0]
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICK
    return out


def throughput(sb: Sandbox, requests: int) -> Round:
    paths = sorted(sb.routes)
    with httpx.Client(base_url=sb.api_url, timeout=10) as http:
        for p in paths:  # warm every function once (cold starts are not the point here)
            assert http.get(p).status_code == 200
        diffs0 = _diffs(sb)
        cpu0, client0, threads0 = time.process_time(), time.thread_time(), _thread_cpu()
        t0 = time.perf_counter()
        for i in range(requests):
            r = http.get(paths[i % len(paths)])
            if r.status_code != 200:
                raise RuntimeError(f"{paths[i % len(paths)]}: {r.status_code}")
        wall = time.perf_counter() - t0
        twin = (time.process_time() - cpu0) - (time.thread_time() - client0)
        threads = {k: (v - threads0.get(k, 0.0)) / requests * 1e6 for k, v in _thread_cpu().items()}
        return Round(requests / wall, twin / requests * 1e6, _diffs(sb) - diffs0, threads)


def _diffs(sb: Sandbox) -> int:
    assert sb.dataplane is not None
    return int(getattr(sb.dataplane.watcher, "diffs", -1))  # -1: a twin that does not count


def _spread(values: list[float]) -> str:
    return (
        f"**{statistics.median(values):.2f}** (range {min(values):.2f}–{max(values):.2f}; "
        f"{', '.join(f'{x:.2f}' for x in values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for n in (args.baseline, args.functions):
            files[n] = Path(tmp) / f"scale{n}.template.json"
            files[n].write_text(json.dumps(template(n)))
        # import cost paid once, outside the timings
        _, sb = start_once(files[args.baseline])
        sb.stop()

        starts: dict[int, list[float]] = {n: [] for n in files}
        start_cpu: dict[int, list[float]] = {n: [] for n in files}
        rounds: dict[int, list[Round]] = {n: [] for n in files}
        for r in range(max(args.rounds, args.starts)):
            pair = (args.baseline, args.functions)
            for n in pair if r % 2 == 0 else pair[::-1]:  # ABBA: neither size always first
                seconds, sb = start_once(files[n])
                try:
                    if r < args.starts:
                        starts[n].append(seconds)
                        start_cpu[n].append(_START_CPU[-1])
                    if r < args.rounds:
                        routes, alarms = len(sb.routes), _count_alarms(sb)
                        rounds[n].append(throughput(sb, args.requests))
                        got = rounds[n][-1]
                        print(
                            f"round {r}: {n} functions ({routes} routes, {alarms} alarms): "
                            f"start {seconds:.2f} s, {got.rate:.0f} req/s, twin CPU "
                            f"{got.twin_cpu_us:.0f} us/request, {got.diffs} watcher diffs",
                            flush=True,
                        )
                finally:
                    sb.stop()
    small, big = args.baseline, args.functions
    rates = {n: [x.rate for x in rounds[n]] for n in rounds}
    cpus = {n: [x.twin_cpu_us for x in rounds[n]] for n in rounds}
    ratios = [b / s for s, b in zip(rates[small], rates[big], strict=True)]
    cpu_ratios = [s / b for s, b in zip(cpus[small], cpus[big], strict=True)]
    print()
    print(f"| measurement | {small} functions | {big} functions | target |")
    print("|---|---|---|---|")
    print(
        f"| start (median of {args.starts}) | {statistics.median(starts[small]):.2f} s | "
        f"{statistics.median(starts[big]):.2f} s (max {max(starts[big]):.2f}) | < 5 s |"
    )
    print(
        f"| start, process CPU (median; max) | {statistics.median(start_cpu[small]):.2f} s | "
        f"{statistics.median(start_cpu[big]):.2f} s (max {max(start_cpu[big]):.2f}) | — |"
    )
    print(
        f"| throughput (median of {args.rounds}) | {statistics.median(rates[small]):.0f} req/s | "
        f"{statistics.median(rates[big]):.0f} req/s | — |"
    )
    print(
        f"| twin CPU per request (median of {args.rounds}) | "
        f"{statistics.median(cpus[small]):.0f} us | {statistics.median(cpus[big]):.0f} us | — |"
    )
    print(f"| throughput ratio big / small (per-round ratios) | | {_spread(ratios)} | >= 0.90 |")
    print(f"| twin CPU ratio small / big (per-round ratios) | | {_spread(cpu_ratios)} | >= 0.90 |")
    print()
    print("twin CPU per request by thread, median of rounds (us; 1/100 s clock ticks, so rough):")
    names = sorted({k for n in rounds for x in rounds[n] for k in x.threads} - {"MainThread"})
    for name in names:
        per = {n: statistics.median(x.threads.get(name, 0.0) for x in rounds[n]) for n in rounds}
        print(f"  {name:24} {per[small]:6.0f} {per[big]:6.0f}")


def _count_alarms(sb: Sandbox) -> int:
    import boto3

    cw = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name=sb.config.region
    ).client("cloudwatch", endpoint_url=sb.endpoint_url)
    return sum(len(p["MetricAlarms"]) for p in cw.get_paginator("describe_alarms").paginate())


if __name__ == "__main__":
    main()
