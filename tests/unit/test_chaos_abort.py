"""A tripped stop condition interrupts its own run only: not later direct calls, not the
next run."""

from __future__ import annotations

import threading

import pytest
from chaoslib.exceptions import InterruptExecution

from lambda_gameday.chaos import faults
from lambda_gameday.chaos.run import RUN_KEY, RunContext, join_run, leave_run, open_run, run_of


def test_abort_interrupts_only_while_a_run_is_in_progress() -> None:
    run = RunContext("r1")
    conf: dict[str, object] = {RUN_KEY: run}
    run.begin()
    run.request_abort("availability fell below the floor")
    run.request_abort("alarm x is in ALARM")  # the first reason is the one kept
    with pytest.raises(InterruptExecution, match="availability fell below the floor"):
        faults.check_abort(conf)
    # WHEN the run ends THEN the reason survives for the report but nothing is refused
    run.end()
    faults.check_abort(conf)
    assert run.aborted_by == "availability fell below the floor"


def test_an_abort_in_one_run_does_not_reach_the_next() -> None:
    with open_run("first") as first:
        conf1: dict[str, object] = {}
        assert join_run(conf1, "safety") is first and conf1[RUN_KEY] is first
        first.begin()
        first.request_abort("stop")
    with open_run("second") as second:
        conf2: dict[str, object] = {}
        assert join_run(conf2, "safety") is second
        second.begin()
        faults.check_abort(conf2)  # not interrupted by the first run's stop condition
        assert second.aborted_by is None and first.aborted_by == "stop"
    # a run's own configuration still names its own context afterwards
    assert run_of(conf1) is first


def test_activities_in_other_threads_reach_the_run_through_the_configuration() -> None:
    # chaoslib runs background activities in a ThreadPoolExecutor (contextvars are not
    # carried over) and hands them a shallow copy of the configuration
    with open_run("bg") as run:
        conf: dict[str, object] = {}
        join_run(conf, "safety")
        seen: list[RunContext] = []
        t = threading.Thread(target=lambda: seen.append(run_of(conf.copy())))
        t.start()
        t.join()
        assert seen == [run]


def test_stock_runs_get_a_context_each_and_forget_it_at_cleanup() -> None:
    # GIVEN no open_run (the stock `chaos run`): the first control makes the context
    conf1: dict[str, object] = {}
    run1 = join_run(conf1, "safety")
    assert join_run(conf1, "traffic") is run1  # the second control finds it
    assert conf1["gameday_run_id"] == run1.run_id  # the ledger then uses this run's id
    assert leave_run("safety") is run1
    assert run_of(None) is run1  # traffic has not cleaned up yet
    assert leave_run("traffic") is run1
    # THEN once every control left, the thread holds no run, and the next run is new
    assert leave_run("safety") is None
    conf2: dict[str, object] = {}
    run2 = join_run(conf2, "safety")
    assert run2 is not run1 and run2.run_id != run1.run_id
    leave_run("safety")
    # outside any run a call gets a context of its own
    assert run_of(None) is not run_of(None)
