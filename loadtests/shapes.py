"""Load shapes for the health locustfile: steady, ramp, step, spike and canary.

Locust runs a shape class only if the locustfile defines a concrete one, so the shape is
picked when the locustfile is imported, from the environment variable GAMEDAY_SHAPE
(steady | ramp | step | spike | canary; unset = Locust's own -u/-r). Every shape reads
the peak user count from `-u/--users`, the spawn rate from `-r` and its length from
`--run-time` (default 60 s), and stops by itself at the end.

    steady   the peak user count for the whole run
    ramp     0 -> peak, linearly over the run
    step     peak in 4 equal steps (25 %, 50 %, 75 %, 100 %)
    spike    20 % of peak, then peak for the middle fifth of the run, then 20 % again
    canary   the seed's canary pattern: steady traffic for the whole deployment window,
             so every shift step (10 % -> ... -> 100 %) is seen under the same load
"""

from __future__ import annotations

import math
import os

from locust import LoadTestShape

__all__ = ["SHAPES", "shape_from_env"]

DEFAULT_RUN_TIME_S = 60.0


class _GamedayShape(LoadTestShape):
    abstract = True

    def _params(self) -> tuple[int, float, float]:
        opts = self.runner.environment.parsed_options if self.runner else None
        users = int(getattr(opts, "num_users", None) or 1)
        rate = float(getattr(opts, "spawn_rate", None) or users)
        run_time = float(getattr(opts, "run_time", None) or DEFAULT_RUN_TIME_S)
        return users, rate, run_time

    def users_at(self, fraction: float, peak: int) -> int:
        raise NotImplementedError

    def tick(self) -> tuple[int, float] | None:
        peak, rate, run_time = self._params()
        elapsed = self.get_run_time()
        if elapsed >= run_time:
            return None
        return max(0, self.users_at(elapsed / run_time, peak)), rate


class SteadyShape(_GamedayShape):
    abstract = True

    def users_at(self, fraction: float, peak: int) -> int:
        return peak


class RampShape(_GamedayShape):
    abstract = True

    def users_at(self, fraction: float, peak: int) -> int:
        return max(1, math.ceil(peak * fraction))


class StepShape(_GamedayShape):
    abstract = True
    steps = 4

    def users_at(self, fraction: float, peak: int) -> int:
        step = min(self.steps, int(fraction * self.steps) + 1)
        return max(1, math.ceil(peak * step / self.steps))


class SpikeShape(_GamedayShape):
    abstract = True

    def users_at(self, fraction: float, peak: int) -> int:
        base = max(1, math.ceil(peak * 0.2))
        return peak if 0.4 <= fraction < 0.6 else base


class CanaryShape(SteadyShape):
    """Constant load across the deployment window (warm-up, 10 shift steps, bake)."""

    abstract = True


SHAPES: dict[str, type[_GamedayShape]] = {
    "steady": SteadyShape,
    "ramp": RampShape,
    "step": StepShape,
    "spike": SpikeShape,
    "canary": CanaryShape,
}


def shape_from_env() -> type[LoadTestShape] | None:
    """The concrete shape class GAMEDAY_SHAPE names, or None when it is unset."""
    name = os.environ.get("GAMEDAY_SHAPE", "").strip().lower()
    if not name:
        return None
    base = SHAPES.get(name)
    if base is None:
        raise SystemExit(f"GAMEDAY_SHAPE={name!r} is unknown; use one of {', '.join(SHAPES)}")
    return type(f"{base.__name__}Selected", (base,), {"abstract": False})
