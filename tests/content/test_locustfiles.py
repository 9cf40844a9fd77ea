"""Every locustfile in loadtests/ imports and lists its users in a fresh Locust process,
and every load shape follows its documented curve. Locust is only ever imported in
subprocesses: it monkey-patches the whole process with gevent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LOADTESTS = Path(__file__).resolve().parents[2] / "loadtests"
LOCUSTFILES = sorted(p for p in LOADTESTS.glob("*.py") if p.name not in ("capture.py", "shapes.py"))
SHAPES = ("steady", "ramp", "step", "spike", "canary")


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env=full_env
    )


def test_there_are_locustfiles():
    assert {p.name for p in LOCUSTFILES} >= {"health.py", "bare.py"}


@pytest.mark.parametrize("locustfile", LOCUSTFILES, ids=lambda p: p.name)
def test_locustfile_dry_runs(locustfile):
    # GIVEN a locustfile WHEN Locust loads it and lists its users THEN it exits cleanly
    proc = _run(["-m", "locust", "-f", str(locustfile), "--list"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), "no user classes listed"


def test_health_lists_both_users_and_accepts_every_shape():
    for shape in SHAPES:
        proc = _run(
            ["-m", "locust", "-f", str(LOADTESTS / "health.py"), "--list"],
            {"GAMEDAY_SHAPE": shape},
        )
        assert proc.returncode == 0, (shape, proc.stderr[-2000:])
        assert "HealthUser" in proc.stdout and "PacedHealthUser" in proc.stdout


def test_unknown_shape_is_refused_with_its_name():
    proc = _run(
        ["-m", "locust", "-f", str(LOADTESTS / "health.py"), "--list"], {"GAMEDAY_SHAPE": "zigzag"}
    )
    assert proc.returncode != 0
    assert "zigzag" in proc.stderr


_SHAPE_PROBE = textwrap.dedent(
    """
    import json, os, sys, types
    sys.path.insert(0, {loadtests!r})
    import shapes

    out = {{}}
    for name in shapes.SHAPES:
        os.environ["GAMEDAY_SHAPE"] = name
        cls = shapes.shape_from_env()
        shape = cls()
        opts = types.SimpleNamespace(num_users=10, spawn_rate=10.0, run_time=100)
        shape.runner = types.SimpleNamespace(environment=types.SimpleNamespace(parsed_options=opts))
        curve = []
        for t in (0, 10, 30, 45, 50, 55, 70, 99, 100):
            shape.get_run_time = lambda t=t: float(t)
            tick = shape.tick()
            curve.append(None if tick is None else tick[0])
        out[name] = curve
    print(json.dumps(out))
    """
)


def test_shapes_follow_their_curves_and_stop_at_the_run_time():
    proc = _run(["-c", _SHAPE_PROBE.format(loadtests=str(LOADTESTS))])
    assert proc.returncode == 0, proc.stderr[-2000:]
    curves = json.loads(proc.stdout)
    # t =                   0  10  30  45  50  55  70  99  100
    assert curves["steady"] == [10, 10, 10, 10, 10, 10, 10, 10, None]
    assert curves["canary"] == [10, 10, 10, 10, 10, 10, 10, 10, None]
    assert curves["ramp"] == [1, 1, 3, 5, 5, 6, 7, 10, None]
    assert curves["step"] == [3, 3, 5, 5, 8, 8, 8, 10, None]
    assert curves["spike"] == [2, 2, 2, 10, 10, 10, 2, 2, None]


_MIX_PROBE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {loadtests!r})
    import health
    ok = health.parse_mix("/health=4,/health/live=3,/off=0,/health/startup=1")
    errors = []
    for bad in ("health=1", "/a=-1", "/a=0", "/a=x"):
        try:
            health.parse_mix(bad)
        except ValueError as exc:
            errors.append(str(exc))
    think = [health.parse_think("0.1,0.3"), health.parse_think("0")]
    try:
        health.parse_think("0.3,0.1")
    except ValueError:
        think.append("refused")
    print(json.dumps({{"ok": ok, "errors": errors, "think": think}}))
    """
)


def test_mix_and_think_parsing():
    proc = _run(["-c", _MIX_PROBE.format(loadtests=str(LOADTESTS))])
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["ok"] == [["/health", "/health/live", "/health/startup"], [4.0, 7.0, 8.0]]
    assert len(out["errors"]) == 4
    assert out["think"] == [[0.1, 0.3], [0.0, 0.0], "refused"]


def test_the_harness_side_never_imports_locust_or_gevent():
    code = (
        "import sys, lambda_gameday.load, lambda_gameday.load.table, lambda_gameday.cli.load_cmd\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent'))\n"
        "print(','.join(bad))"
    )
    proc = _run(["-c", code])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == ""
