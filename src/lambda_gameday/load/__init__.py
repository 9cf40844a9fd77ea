"""Load tests: run Locust out of process, gate on raw-histogram thresholds.

    from lambda_gameday.load import LoadOptions, run_load, check_report
    report = run_load(target, LoadOptions(users=10, run_time_s=10, thresholds=("p95<100",)))
    check_report(report)   # ConfigError / VerdictFailed when it did not pass

Nothing here imports locust (it monkey-patches the process with gevent); the
locustfiles live in `loadtests/` and run in their own processes.
"""

from __future__ import annotations

from .results import LoadResults, Series, read_results
from .runner import (
    BackgroundLoad,
    LoadOptions,
    LoadReport,
    check_report,
    default_locustfile,
    default_warmup_s,
    run_load,
)
from .thresholds import Threshold, ThresholdResult, evaluate, parse_threshold, slo_thresholds

__all__ = [
    "BackgroundLoad",
    "LoadOptions",
    "LoadReport",
    "LoadResults",
    "Series",
    "Threshold",
    "ThresholdResult",
    "check_report",
    "default_locustfile",
    "default_warmup_s",
    "evaluate",
    "parse_threshold",
    "read_results",
    "run_load",
    "slo_thresholds",
]
