"""A Locust plugin file for benchmarks: CPU seconds the Locust process spent in the test.

Load it next to the locustfile under test (`-f loadtests/bare.py,bench/cpu_meter.py`);
at test stop it writes {"cpu_s", "wall_s"} (process time and wall time between test
start and test stop) to the file named by BENCH_CPU_FILE. Requests per CPU-second is
the throughput a dedicated core would give, and is far less disturbed than wall-clock
throughput when other processes share the machine.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from locust import events

_start: dict[str, float] = {}


@events.test_start.add_listener
def _on_start(**_: Any) -> None:
    _start["cpu"] = time.process_time()
    _start["wall"] = time.monotonic()


@events.test_stop.add_listener
def _on_stop(**_: Any) -> None:
    path = os.environ.get("BENCH_CPU_FILE")
    if not path or not _start:
        return
    doc = {
        "cpu_s": time.process_time() - _start["cpu"],
        "wall_s": time.monotonic() - _start["wall"],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
