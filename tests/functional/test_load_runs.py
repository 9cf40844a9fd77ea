"""Load runs end to end (real Locust processes) against a fast loopback HTTP server:
distributed merging, raw-sample agreement, abort-on-fail and the CLI's exit codes."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest

from lambda_gameday.config import FunctionSpec, Target
from lambda_gameday.exceptions import ConfigError, TargetError, VerdictFailed
from lambda_gameday.load import LoadOptions, check_report, run_load

ROOT = Path(__file__).resolve().parents[2]
FASTSERVER = ROOT / "bench" / "fastserver.py"


def start_fastserver(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(FASTSERVER), "--max-seconds", "120", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the server prints PORT <n> once listening
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"fastserver did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    proc, url = start_fastserver("--version", "7")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def target_for(url: str) -> Target:
    return Target(
        name="fast",
        kind="aws",
        environment="dev",
        region="us-east-1",
        api_url=url,
        functions=(FunctionSpec("fast-health", "/health"),),
        version_source="header:X-Release-Id",  # where the stand-in names its version
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_with_env(entry: str) -> list[int]:
    """Pids whose environment holds `entry` (Linux /proc): Locust processes of one run."""
    found = []
    needle = entry.encode() + b"\0"
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            if needle in (proc_dir / "environ").read_bytes():
                found.append(int(proc_dir.name))
        except OSError:
            continue
    return found


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(Fraction(str(p)) / 100 * len(ordered))) - 1]


def test_two_workers_merge_into_one_result_whose_count_is_the_sum(server_url, tmp_path):
    # GIVEN Locust in master/worker mode with 2 worker processes on this machine
    options = LoadOptions(
        users=4,
        spawn_rate=4,
        run_time_s=3,
        workers=2,
        think="0.002,0.004",
        warmup_s=1.0,
        out=tmp_path / "r.json",
    )
    # WHEN the run finishes
    report = run_load(target_for(server_url), options)
    res = report.results
    # THEN the master wrote one merged result, both workers contributed, and every
    # request a worker recorded reached the master exactly once
    assert res.mode == "master"
    assert res.status == "complete"
    assert len(res.workers) == 2
    assert all(w.recorded > 0 for w in res.workers.values())
    assert all(w.received == w.recorded for w in res.workers.values())
    assert res.count == sum(w.recorded for w in res.workers.values())
    assert res.versions == ("7",)
    # the first second's requests were counted as warm-up, outside the measured window
    assert res.warmup_s == 1.0 and res.warmup_count > 0
    assert res.duration_s < 2.5
    # Locust's own count (from its stats reports) is ours plus the warm-up
    assert res.locust is not None and res.locust.count == res.count + res.warmup_count
    check_report(report)  # SLO defaults hold against a fast local server


def test_histogram_percentiles_agree_with_the_raw_samples(server_url, tmp_path):
    # GIVEN a run that also writes every raw sample
    raw = tmp_path / "raw.jsonl"
    options = LoadOptions(
        users=3, run_time_s=2, think="0.001,0.003", out=tmp_path / "r.json", raw_samples=raw
    )
    report = run_load(target_for(server_url), options)
    samples = [json.loads(line) for line in raw.read_text().splitlines()]
    # THEN the file holds every request, and per endpoint the HdrHistogram percentile is
    # the exact nearest-rank sample to within its 3 significant digits (never below it)
    assert len(samples) == report.results.count
    for endpoint in report.results.endpoints:
        values = [s["ms"] for s in samples if s["endpoint"] == endpoint]
        hist = report.results.latency(endpoint=endpoint)
        assert hist.count == len(values)
        for p in (50, 95, 99, 100):
            exact = nearest_rank(values, p)
            got = hist.percentile_ms(p)
            assert exact - 0.0005 <= got <= exact * 1.001 + 0.0015, (endpoint, p, exact, got)


def test_a_request_in_flight_when_the_run_time_ends_is_recorded(tmp_path):
    # GIVEN a target slower than the whole run: every answer takes 1.5 s, the run lasts 1 s
    # (a starved machine's twin is this slow; Locust used to kill the in-flight request
    # at the run time's end, and the run recorded nothing - or only the fast requests)
    proc, url = start_fastserver("--delay-ms", "1500")
    try:
        options = LoadOptions(users=1, run_time_s=1, think="0.01,0.02", out=tmp_path / "r.json")
        report = run_load(target_for(url), options)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # THEN the one user's request sent within the run is recorded with the latency it had,
    # and no request is sent after the run time
    assert report.results.count == 1, report.results
    assert report.results.latency().percentile_ms(0) >= 1500


def test_abort_on_fail_stops_the_run_early_and_says_why(server_url, tmp_path):
    # GIVEN an impossible threshold and abort-on-fail after a 1 s grace period
    options = LoadOptions(
        users=2,
        run_time_s=30,
        think="0.01,0.02",
        thresholds=("p95<0.001",),
        abort_after_s=1.0,
        out=tmp_path / "r.json",
    )
    started = time.monotonic()
    report = run_load(target_for(server_url), options)
    # THEN the run stops within a few seconds, not after 30, and the verdict names the breach
    assert time.monotonic() - started < 15
    assert report.results.aborted is not None
    assert "p95<0.001" in report.results.aborted.reason
    assert report.results.aborted.at_s >= 1.0
    with pytest.raises(VerdictFailed, match="aborted"):
        check_report(report)


def test_unreachable_host_is_a_target_error_before_locust_starts(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(TargetError, match="unreachable"):
        run_load(target_for(url), LoadOptions(run_time_s=1, out=tmp_path / "r.json"))
    assert not (tmp_path / "r.json.log").exists()  # Locust never started


def test_a_host_other_than_the_targets_is_refused(server_url, tmp_path):
    with pytest.raises(ConfigError, match="not the target's host"):
        run_load(
            target_for(server_url),
            LoadOptions(host="http://example.com", run_time_s=1, out=tmp_path / "r.json"),
        )


# --- the CLI: documented exit codes --------------------------------------------------


def gameday(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    return subprocess.run(
        [sys.executable, "-m", "lambda_gameday.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def target_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(
        f'name = "fast"\nkind = "aws"\nenvironment = "dev"\nregion = "us-east-1"\n'
        f'allow_loopback = true\napi_url = "{url}"\nversion_source = "header:X-Release-Id"\n'
        '[[functions]]\nname = "fast-health"\npath = "/health"\n'
    )
    return path


def test_cli_passes_with_exit_0_and_prints_the_tables(server_url, tmp_path):
    proc = gameday(
        "load",
        "--target",
        str(target_file(tmp_path, server_url)),
        "-t",
        "2",
        "-u",
        "2",
        "--threshold",
        "p95<100",
        "--threshold",
        "p95{version=7}<100",
        "--out",
        str(tmp_path / "r.json"),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "thresholds" in proc.stdout and "PASS" in proc.stdout
    assert (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--locustfile", "no/such/locustfile.py"], 2, "no/such/locustfile.py' does not exist"),
        (["--threshold", "p95 < fast"], 2, "bad threshold 'p95 < fast'"),
        (["--threshold", "p95{endpoint=/helth}<100"], 2, "endpoint=/helth matches nothing"),
        (["--threshold", "p95<0.001"], 1, "thresholds breached: p95<0.001"),
        (["--mix", "health=1"], 2, "--mix 'health=1': bad entry"),
        (["--think", "0.2,0.1"], 2, "--think '0.2,0.1'"),
        (["--host", "http://10.0.0.1"], 2, "is not the target's host"),
    ],
    ids=[
        "missing-locustfile",
        "bad-expression",
        "misspelled-endpoint",
        "breached",
        "bad-mix",
        "bad-think",
        "foreign-host",
    ],
)
def test_cli_exit_codes(server_url, tmp_path, extra, code, message):
    # No warm-up: the default excludes a 1 s run's first 0.25 s from the gate, and on a
    # starved runner one user's few requests can all fall in it (then there is nothing to
    # judge, exit 4) - these cases are about the exit codes, not the warm-up.
    proc = gameday(
        "load",
        "--target",
        str(target_file(tmp_path, server_url)),
        "--warmup",
        "0",
        "-t",
        "1",
        "-u",
        "1",
        "--out",
        str(tmp_path / "r.json"),
        *extra,
        cwd=ROOT,
    )
    assert proc.returncode == code, (proc.stdout[-1500:], proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1  # one line


def test_cli_unreachable_host_exits_3(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    proc = gameday("load", "--target", str(target_file(tmp_path, url)), "-t", "1", cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    assert "unreachable" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_locust_crash_is_a_run_error_exit_4(server_url, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('this locustfile is broken')\n")
    proc = gameday(
        "load",
        "--target",
        str(target_file(tmp_path, server_url)),
        "-t",
        "1",
        "--locustfile",
        str(broken),
        "--out",
        str(tmp_path / "r.json"),
        cwd=ROOT,
    )
    assert proc.returncode == 4, proc.stderr
    assert "Locust wrote no results" in proc.stderr
    assert "this locustfile is broken" in proc.stderr


@pytest.mark.parametrize("workers", [0, 2], ids=["local", "two-workers"])
def test_background_load_stops_cleanly_with_complete_results(server_url, tmp_path, workers):
    # GIVEN load running in the background with a long run time
    from lambda_gameday.load import BackgroundLoad

    options = LoadOptions(
        users=2 * max(1, workers),
        run_time_s=60,
        workers=workers,
        think="0.005,0.01",
        out=tmp_path / "r.json",
    )
    started = time.monotonic()
    with BackgroundLoad(target_for(server_url), options) as load:
        # WHEN something else happens meanwhile (here: traffic has been flowing a while)
        deadline = time.monotonic() + 30
        while load.requests < 100:
            assert time.monotonic() < deadline, "background load never got going"
            time.sleep(0.05)
        report = load.stop()
    # THEN it stops early, cleanly: a complete file with every worker's samples
    assert time.monotonic() - started < 30
    res = report.results
    assert res.status == "complete"
    assert res.count >= 100
    if workers:
        assert len(res.workers) == workers
        assert res.count == sum(w.recorded for w in res.workers.values())
        assert all(w.received == w.recorded for w in res.workers.values())


def test_a_shaped_run_follows_its_shape_and_stops_by_itself(server_url, tmp_path):
    # GIVEN the step shape (25/50/75/100 % of 8 users over the run)
    options = LoadOptions(
        users=8,
        spawn_rate=100,
        run_time_s=2,
        shape="step",
        think="0.01,0.02",
        out=tmp_path / "r.json",
    )
    report = run_load(target_for(server_url), options)
    # THEN the run completes on its own within its run time and recorded traffic
    assert report.results.status == "complete"
    assert report.results.duration_s < 3.5
    assert report.results.count > 0
    with pytest.raises(ConfigError, match="unknown shape 'zigzag'"):
        run_load(target_for(server_url), LoadOptions(shape="zigzag", out=tmp_path / "x.json"))


@pytest.mark.parametrize("workers", ["0", "2"], ids=["local", "two-workers"])
def test_cli_sigterm_stops_locust_and_leaves_no_process(tmp_path, workers):
    # GIVEN a long `gameday load` (its own server, so its URL identifies its Locust processes)
    server, url = start_fastserver("--version", "3")
    try:
        out = tmp_path / "r.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "lambda_gameday.cli", "load", "--target",
             str(target_file(tmp_path, url)), "-t", "60", "-u", "2", "--workers", workers,
             "--out", str(out)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        expected = 1 + int(workers)
        # Locust is running once its first partial results land and all processes are up
        while not out.exists() or len(processes_with_env(f"GAMEDAY_RESULTS={out}")) < expected:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "Locust never wrote results"
            time.sleep(0.05)
        # WHEN the command is sent SIGTERM
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
        # THEN it exits 130 with one line, and none of its Locust processes is left
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr
        assert processes_with_env(f"GAMEDAY_RESULTS={out}") == []
        assert json.loads(out.read_text())["status"] in ("running", "complete")  # kept
    finally:
        server.terminate()
        server.wait(timeout=10)
