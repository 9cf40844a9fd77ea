"""Gateway overhead and configuration-change visibility (issue 2).

1. Warm requests through the sandbox gateway (route -> alias -> version -> execution
   environment -> handler on the Lambda thread pool -> metrics + logs) versus the same
   handler served by a bare ASGI app on the same server stack (uvicorn, h11, one asyncio
   loop thread), in the same run, interleaved in blocks. One sync httpx client with
   keep-alive; the whole process is pinned to one core.
   Targets: p50 added latency < 1 ms, throughput ratio >= 0.5.
2. Configuration changes made through the AWS API with boto3 (alias version, env var on
   $LATEST, reserved concurrency 0 and back): time from the moment the API call returns
   (and from when it started) to the first response that reflects the change. Target < 1 s.

3. With --strict: a strict twin (no relaxations: quotas, no X-Amz-Executed-Version over
   HTTP, ...) and one with the legacy relaxations run side by side, their rounds interleaved
   with the bare app's, so strictness's cost is a same-run ratio.

The version a response came from is read from the health+json body's `releaseId` (the
function's AWS_LAMBDA_FUNCTION_VERSION), never from a header API Gateway does not send.

Usage: .venv/bin/python bench/bench_gateway.py [--requests 3000] [--repeats 5] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import socket
import statistics
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx

from lambda_gameday.sandbox import Sandbox, SandboxConfig
from lambda_gameday.sandbox.gateway import GatewayServer
from lambda_gameday.sandbox.handlers import EnvironmentInfo, LambdaContext, liveness_probe
from lambda_gameday.sandbox.relaxations import DEFAULT_LEGACY


def bare_app() -> Callable[..., Any]:
    """The same handler, called inline by a minimal ASGI app (no routing, no Lambda)."""
    info = EnvironmentInfo("bare", time.time(), 0.0)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        context = LambdaContext(
            "bare", "1", "arn:bare", 256, "id", "g", "s", time.monotonic() + 3, {}, info
        )
        result = liveness_probe({"path": scope["path"]}, context)
        body = result["body"].encode()  # type: ignore[union-attr]
        await send(
            {
                "type": "http.response.start",
                "status": result["statusCode"],
                "headers": [
                    (b"content-type", b"application/health+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def serve_bare() -> tuple[str, Callable[[], None]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    server = GatewayServer(bare_app(), sock)
    server.start(loop)

    def stop() -> None:
        server.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    return f"http://127.0.0.1:{server.port}/health/live", stop


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def overhead(gateways: dict[str, str], requests: int, block: int = 50) -> dict[str, float]:
    """Warm GETs against the bare app and each named gateway URL, interleaved in rounds of
    one block each (gateways in rotating order), so every server sees the same load."""
    bare_url, stop_bare = serve_bare()
    urls = {"bare": bare_url, **gateways}
    samples: dict[str, list[float]] = {name: [] for name in urls}
    busy: dict[str, float] = dict.fromkeys(urls, 0.0)
    round_ratios: dict[str, list[float]] = {name: [] for name in gateways}  # bare / gateway
    try:
        with httpx.Client(timeout=10) as client:
            for url in urls.values():  # warm up connections, environment, code paths
                for _ in range(200):
                    client.get(url)
            done = 0
            order = list(urls.items())
            while done < requests:
                took: dict[str, float] = {}
                # the bare app first, then the gateways in turns: no gateway always runs
                # right after the bare app (position effects on a shared machine)
                turn = done // block % len(gateways)
                rotated = order[1 + turn :] + order[1 : 1 + turn]
                for name, url in [order[0], *rotated]:
                    start_block = time.perf_counter()
                    for _ in range(block):
                        t = time.perf_counter()
                        r = client.get(url)
                        samples[name].append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200
                    took[name] = time.perf_counter() - start_block
                    busy[name] += took[name]
                for name in gateways:
                    round_ratios[name].append(took["bare"] / took[name])
                done += block
    finally:
        stop_bare()
    out: dict[str, float] = {}
    for name in urls:
        out[f"{name}_p50"] = percentile(samples[name], 50)
        out[f"{name}_p99"] = percentile(samples[name], 99)
        out[f"{name}_rps"] = len(samples[name]) / busy[name]
    for name in gateways:
        out[f"{name}_added_p50"] = out[f"{name}_p50"] - out["bare_p50"]
        out[f"{name}_ratio"] = out[f"{name}_rps"] / out["bare_rps"]
        out[f"{name}_ratio_median"] = statistics.median(round_ratios[name])
    out["n"] = float(len(samples["bare"]))
    return out


def _code() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return None\n")
    return buf.getvalue()


def visibility(sb: Sandbox, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """(ms from the API call's return, ms from its start) until a response reflects it."""
    import boto3

    assert sb.dataplane is not None and sb.dataplane.stack is not None
    session = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name=sb.config.region
    )
    lam = session.client("lambda", endpoint_url=sb.endpoint_url)
    lam.create_function(
        FunctionName="bench-config",
        Runtime="python3.12",
        Role=sb.dataplane.stack.role_arn,
        Handler="index.handler",
        Code={"ZipFile": _code()},
        Environment={"Variables": {"MARK": "0"}},
    )
    sb.register_handler(
        "bench-config",
        # the version that served it, as a platform's health+json says (releaseId from
        # AWS_LAMBDA_FUNCTION_VERSION): API Gateway returns no X-Amz-Executed-Version header
        lambda e, c: {
            "statusCode": 200,
            "body": json.dumps(
                {"mark": c.env.get("MARK"), "releaseId": c.env["AWS_LAMBDA_FUNCTION_VERSION"]}
            ),
        },
    )
    v1 = lam.publish_version(FunctionName="bench-config")["Version"]
    lam.update_function_configuration(FunctionName="bench-config", Description="v2")
    v2 = lam.publish_version(FunctionName="bench-config")["Version"]
    lam.create_alias(FunctionName="bench-config", Name="live", FunctionVersion=v1)
    sb.dataplane.add_route("/bench/alias", "bench-config", "live")
    sb.dataplane.add_route("/bench/latest", "bench-config", None)
    results: dict[str, list[tuple[float, float]]] = {"alias": [], "env": [], "concurrency": []}

    def until(client: httpx.Client, url: str, ok: Callable[[httpx.Response], bool]) -> float:
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            r = client.get(url)
            if ok(r):
                return time.perf_counter()
        raise RuntimeError(f"change not visible within 5 s at {url}")

    with httpx.Client(timeout=10) as client:
        alias_url, latest_url = sb.api_url + "/bench/alias", sb.api_url + "/bench/latest"
        for i in range(repeats):
            target = v2 if i % 2 == 0 else v1
            t0 = time.perf_counter()
            lam.update_alias(FunctionName="bench-config", Name="live", FunctionVersion=target)
            t1 = time.perf_counter()
            seen = until(client, alias_url, lambda r, v=target: r.json()["releaseId"] == v)
            results["alias"].append(((seen - t1) * 1000, (seen - t0) * 1000))

            mark = str(i + 1)
            t0 = time.perf_counter()
            lam.update_function_configuration(
                FunctionName="bench-config", Environment={"Variables": {"MARK": mark}}
            )
            t1 = time.perf_counter()
            seen = until(client, latest_url, lambda r, m=mark: r.json()["mark"] == m)
            results["env"].append(((seen - t1) * 1000, (seen - t0) * 1000))

            t0 = time.perf_counter()
            lam.put_function_concurrency(
                FunctionName="bench-config", ReservedConcurrentExecutions=0
            )
            t1 = time.perf_counter()
            seen = until(client, alias_url, lambda r: r.status_code == 500)
            results["concurrency"].append(((seen - t1) * 1000, (seen - t0) * 1000))
            lam.delete_function_concurrency(FunctionName="bench-config")
            until(client, alias_url, lambda r: r.status_code == 200)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=0, help="core to pin the process to")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also run a strict twin (no relaxations) next to one with the legacy "
        "relaxations, interleaved with the bare app in the same rounds",
    )
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    configs = {"gateway": SandboxConfig(init_duration_ms=50, seed=1)}
    if args.strict:  # two twins side by side: moto's state is per account
        configs = {
            "strict": SandboxConfig(init_duration_ms=50, seed=1, legacy=frozenset()),
            "legacy": SandboxConfig(
                init_duration_ms=50, seed=1, legacy=DEFAULT_LEGACY, account_id="210987654321"
            ),
        }
    with contextlib.ExitStack() as stack:
        sandboxes = {name: stack.enter_context(Sandbox(c)) for name, c in configs.items()}
        o = overhead({n: sb.api_url + "/health/live" for n, sb in sandboxes.items()}, args.requests)
        first = next(iter(sandboxes))
        v = visibility(sandboxes[first], args.repeats)
    print(f"warm GET /health/live, {int(o['n'])} requests each, process pinned to 1 core")
    labels = {"bare": "bare ASGI app", **{n: f"{n} gateway" for n in sandboxes}}
    for name, label in labels.items():
        print(
            f"  {label:<16}: p50 {o[name + '_p50']:.3f} ms  p99 {o[name + '_p99']:.3f} ms"
            f"  {o[name + '_rps']:.0f} req/s"
        )
    for name in sandboxes:
        print(f"  {name} added p50 : {o[name + '_added_p50']:.3f} ms (target < 1 ms)")
        print(
            f"  {name} throughput: {o[name + '_ratio']:.2f} x bare overall, median of per-round"
            f" ratios {o[name + '_ratio_median']:.2f} (target >= 0.5)"
        )
    if args.strict:
        print(
            "  strict / legacy throughput: "
            f"{o['strict_rps'] / o['legacy_rps']:.3f} overall, "
            f"{o['strict_ratio_median'] / o['legacy_ratio_median']:.3f} from the per-round"
            " medians (unchanged within noise: ~1)"
        )
        print(f"  strict / legacy p50 latency: {o['strict_p50'] / o['legacy_p50']:.3f}")
    print(f"  visibility measured on the {first} twin")
    for name, pairs in v.items():
        after = [p[0] for p in pairs]
        total = [p[1] for p in pairs]
        print(
            f"  visibility {name:<11}: after the call returns"
            f" median {statistics.median(after):.1f} ms, max {max(after):.1f} ms;"
            f" from call start max {max(total):.1f} ms (target < 1000 ms)"
        )


if __name__ == "__main__":
    main()
