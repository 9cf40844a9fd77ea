"""Benchmark the sandbox's alarm loop.

1. One evaluation tick over 200 alarms (each with its own metric and 20 raw datapoints per
   period over its evaluation range), target < 50 ms. Baseline in the same run: the same
   tick with zero alarms (the fixed cost of ingesting and pruning).
2. Lag from a breaching datapoint's bucket closing to the alarm's transition, with the
   loop running on its own (1 s periods, cadence 1 s); target: within one cadence tick.

    .venv/bin/python bench/bench_alarms.py
"""

from __future__ import annotations

import math
import statistics
import time

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

from lambda_gameday.sandbox.alarms import AlarmEngine, AlarmSettings
from lambda_gameday.sandbox.truth import GroundTruth

ACCOUNT, REGION = "123456789012", "eu-west-3"


def _alarms(backend: object, n: int, period: int) -> None:
    for i in range(n):
        backend.put_metric_alarm(  # type: ignore[attr-defined]
            name=f"a{i}",
            namespace="Bench",
            metric_name=f"m{i}",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=3,
            period=period,
            threshold=1e9,
            statistic="Sum" if i % 2 else None,
            extended_statistic=None if i % 2 else "p99",
            description="",
            dimensions=[{"Name": "FunctionName", "Value": f"f{i}"}],
            alarm_actions=[],
        )


def tick_cost(n_alarms: int, repeats: int = 30) -> list[float]:
    backend = cloudwatch_backends[ACCOUNT][REGION]
    backend.reset()
    backend = cloudwatch_backends[ACCOUNT][REGION]
    period = 60
    now = math.floor(time.time() / period) * period + 1
    _alarms(backend, n_alarms, period)
    from datetime import UTC, datetime

    for i in range(n_alarms):
        for b in range(5):
            for k in range(20):
                t = now - (b + 1) * period + k
                backend.metric_data.append(
                    MetricDatum(
                        "Bench",
                        f"m{i}",
                        float(k),
                        [{"Name": "FunctionName", "Value": f"f{i}"}],
                        datetime.fromtimestamp(t, UTC).replace(tzinfo=None),
                    )
                )
    engine = AlarmEngine(GroundTruth(), ACCOUNT, REGION, AlarmSettings())
    engine.evaluate_all(now)  # first tick ingests the datapoints once
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        evaluated = engine.evaluate_all(now)
        times.append((time.perf_counter() - t0) * 1000)
        assert evaluated == n_alarms
    backend.reset()
    return times


def transition_lag(samples: int = 5) -> list[float]:
    """ms from the end of the first breaching bucket to the recorded ALARM transition."""
    lags = []
    for s in range(samples):
        backend = cloudwatch_backends[ACCOUNT][REGION]
        backend.reset()
        backend = cloudwatch_backends[ACCOUNT][REGION]
        backend.put_metric_alarm(
            name="lag",
            namespace="Bench",
            metric_name="errors",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            period=1,
            threshold=0.5,
            statistic="Sum",
            description="",
            dimensions=[],
            alarm_actions=[],
            treat_missing_data="notBreaching",
        )
        truth = GroundTruth()
        engine = AlarmEngine(truth, ACCOUNT, REGION, AlarmSettings())
        engine.start()
        try:
            truth.wait_for("alarm", "lag", timeout=3, new="OK")
            # write one breaching value mid-bucket
            now = time.time()
            bucket_end = math.floor(now) + 1
            time.sleep(max(0.0, bucket_end - 0.5 - now))  # bench only: align to mid-bucket
            from datetime import UTC, datetime

            backend.metric_data.append(
                MetricDatum("Bench", "errors", 1.0, [], datetime.now(UTC).replace(tzinfo=None))
            )
            event = truth.wait_for("alarm", "lag", timeout=5, new="ALARM")
            assert event is not None
            lags.append((event.at - bucket_end) * 1000)
        finally:
            engine.stop()
            backend.reset()
        del s
    return lags


def main() -> None:
    base = tick_cost(0)
    full = tick_cost(200)
    lag = transition_lag()
    print(f"tick, 0 alarms (baseline): median {statistics.median(base):.2f} ms")
    print(
        f"tick, 200 alarms: median {statistics.median(full):.2f} ms, "
        f"max {max(full):.2f} ms (target < 50 ms)"
    )
    print(
        f"bucket close -> ALARM lag (1 s cadence, {len(lag)} runs): "
        f"median {statistics.median(lag):.1f} ms, max {max(lag):.1f} ms "
        f"(target < 1000 ms = one tick)"
    )


if __name__ == "__main__":
    main()
