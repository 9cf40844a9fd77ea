"""The twin's one background loop: ticks after each wait, wakes early, stops for good."""

from __future__ import annotations

import threading

from lambda_gameday.sandbox.ticker import Ticker

LONG = 60.0  # a wait no test sits out: only wake() or stop() ends it


def test_a_long_wait_ends_on_wake_and_the_tick_runs_on_the_loop_thread() -> None:
    names: list[str] = []
    ticked = threading.Event()

    def tick() -> None:
        names.append(threading.current_thread().name)
        ticked.set()

    ticker = Ticker("test-ticker", tick, lambda: LONG)
    ticker.start()
    try:
        ticker.wake()
        assert ticked.wait(5)
    finally:
        ticker.stop()
    assert names == ["test-ticker"]


def test_stop_ends_the_wait_without_one_more_tick() -> None:
    ticks: list[None] = []
    ticker = Ticker("test-ticker", lambda: ticks.append(None), lambda: LONG)
    ticker.start()
    ticker.stop()
    assert ticks == []


def test_tick_at_start_ticks_before_the_first_wait() -> None:
    ticked = threading.Event()
    ticker = Ticker("test-ticker", ticked.set, lambda: LONG, tick_at_start=True)
    ticker.start()
    try:
        assert ticked.wait(5)
    finally:
        ticker.stop()


def test_it_ticks_every_wait_until_stopped_and_not_after() -> None:
    ticks: list[None] = []
    tenth = threading.Event()

    def tick() -> None:
        ticks.append(None)
        if len(ticks) == 10:
            tenth.set()

    ticker = Ticker("test-ticker", tick, lambda: 0.001)
    ticker.start()
    assert tenth.wait(5)
    ticker.stop()
    # stop() joined the loop's thread: nothing is left to tick (a second stop is harmless)
    assert "test-ticker" not in {t.name for t in threading.enumerate()}
    ticker.stop()
    assert len(ticks) >= 10
