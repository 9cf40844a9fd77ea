"""Load on the four health endpoints, with raw timing capture (see capture.py).

Two users; pick one by class name on the command line (default: both are eligible,
so `gameday load` always names one):

    HealthUser       closed model: a weighted mix across the endpoints with think time
    PacedHealthUser  open model: each user sends on a fixed schedule (--gameday-pace-ms)
                     and times every request from its *intended* send time, so a stall
                     of the target shows up instead of being hidden

Options (command line or environment):

    --gameday-mix      GAMEDAY_MIX      "/health=4,/health/live=3,/health/ready=2,/health/startup=1"
    --gameday-think    GAMEDAY_THINK    think time range in seconds, "min,max" (default "0.05,0.2")
    --gameday-pace-ms  GAMEDAY_PACE_MS  per-user send interval of PacedHealthUser (default 100)
    --gameday-seed     GAMEDAY_SEED     seeds the endpoint choice and think time (default 0)

Every request bypasses caches (`Cache-Control: no-cache`). The load shape comes from
GAMEDAY_SHAPE (see shapes.py).

    locust -f loadtests/health.py --headless -u 10 -r 10 --run-time 30s \
        -H http://127.0.0.1:8080 HealthUser
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from typing import Any

import gevent
from capture import INTENDED  # installs the capture listeners
from locust import FastHttpUser, events, task
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING
from shapes import shape_from_env

DEFAULT_MIX = "/health=4,/health/live=3,/health/ready=2,/health/startup=1"
HEADERS = {"Cache-Control": "no-cache"}
_user_ids = itertools.count()
_STOPPING = (STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED)  # a graceful stop (--stop-timeout)


def parse_mix(text: str) -> tuple[list[str], list[float]]:
    """`/a=3,/b=1` -> paths and cumulative weights. Raises ValueError on bad input."""
    paths: list[str] = []
    cumulative: list[float] = []
    total = 0.0
    for part in text.split(","):
        path, sep, weight = part.strip().partition("=")
        path = path.strip()
        w = float(weight) if sep else 1.0
        if not path.startswith("/") or w < 0:
            raise ValueError(f"bad mix entry {part!r}: expected /path=weight with weight >= 0")
        if w == 0:
            continue
        total += w
        paths.append(path)
        cumulative.append(total)
    if not paths:
        raise ValueError(f"mix {text!r} has no endpoint with a positive weight")
    return paths, cumulative


def parse_think(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition(",")
    low = float(lo)
    high = float(hi) if hi else low
    if low < 0 or high < low:
        raise ValueError(f"bad think time {text!r}: expected 'min,max' seconds, 0 <= min <= max")
    return low, high


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("lambda-gameday health load")
    group.add_argument("--gameday-mix", env_var="GAMEDAY_MIX", default=DEFAULT_MIX)
    group.add_argument("--gameday-think", env_var="GAMEDAY_THINK", default="0.05,0.2")
    group.add_argument("--gameday-pace-ms", env_var="GAMEDAY_PACE_MS", type=float, default=100.0)
    group.add_argument("--gameday-seed", env_var="GAMEDAY_SEED", type=int, default=0)


class _HealthBase(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.paths, self.cumulative = parse_mix(getattr(opts, "gameday_mix", None) or DEFAULT_MIX)
        seed = int(getattr(opts, "gameday_seed", 0) or 0)
        self.rng = random.Random(seed * 1_000_003 + next(_user_ids))

    def pick(self) -> str:
        if len(self.paths) == 1:
            return self.paths[0]
        x = self.rng.random() * self.cumulative[-1]
        return self.paths[bisect.bisect_right(self.cumulative, x)]


class HealthUser(_HealthBase):
    """Closed model: request, think, repeat."""

    def on_start(self) -> None:
        super().on_start()
        opts = self.environment.parsed_options
        self.think = parse_think(getattr(opts, "gameday_think", None) or "0.05,0.2")

    def wait_time(self) -> float:
        lo, hi = self.think
        return lo if hi == lo else self.rng.uniform(lo, hi)

    @task
    def health(self) -> None:
        path = self.pick()
        self.client.get(path, name=path, headers=HEADERS)


class PacedHealthUser(_HealthBase):
    """Open model: one request every `--gameday-pace-ms`, timed from its intended send time.

    Users start at seeded offsets within one interval. After a stall the user sends the
    missed requests back to back; each records its delay behind schedule (lag) and its
    latency from the intended send time (corrected)."""

    def on_start(self) -> None:
        super().on_start()
        opts = self.environment.parsed_options
        self.interval_s = float(getattr(opts, "gameday_pace_ms", None) or 100.0) / 1000.0
        self.next_at = time.time() + self.rng.uniform(0.0, self.interval_s)

    def wait_time(self) -> float:
        return 0.0  # the task itself waits for its slot in the schedule

    @task
    def paced(self) -> None:
        intended = self.next_at
        self.next_at += self.interval_s
        ahead = intended - time.time()
        if ahead > 0:
            gevent.sleep(ahead)
        if self.environment.runner is not None and self.environment.runner.state in _STOPPING:
            return  # the run time ended while this user waited for its slot: send nothing
        path = self.pick()
        self.client.get(path, name=path, headers=HEADERS, context={INTENDED: intended})


_shape = shape_from_env()
if _shape is not None:
    LoadShape = _shape
