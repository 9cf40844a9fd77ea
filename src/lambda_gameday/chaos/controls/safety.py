"""Safety: faults removed however the run ends, stop conditions, production refusal.

Declare it in every experiment's `controls` (provider module
`lambda_gameday.chaos.controls.safety`). With the stock `chaos run` it:

* before the experiment, refuses destructive work on a production target — or one with
  no declared class (chaos/context.py: the stock run reads GAMEDAY_TARGET) — unless
  GAMEDAY_ALLOW_PRODUCTION=1 (the experiment's configuration cannot grant it); checks
  every function, alias, alarm and group the experiment names exists; and takes the
  target's run lock (one destructive run per target, lambda_gameday.lock; released at
  cleanup) — all before anything is injected;
* watches stop conditions in the background: availability of the traffic control's
  probes below `availability_floor` (after `min_probes`), or any alarm in
  `stop_on_alarms` in ALARM; a tripped condition interrupts the experiment;
* after the experiment (and again at cleanup, whatever happened), undoes every fault this
  run left open in the ledger. Chaos Toolkit's default rollback strategy skips
  rollbacks of failed or interrupted runs; this does not depend on it.
* redacts secrets from the journal and from chaostoolkit's log lines (lambda_gameday.redact).

Its state (stop flag, watcher, whether cleanup ran) lives on the run's context (run.py),
so a stop condition tripped in one run never reaches the next.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...exceptions import GamedayError
from ..faults import scope
from ..run import RunContext, join_run, leave_run, run_of
from ..undo import cleanup

__all__ = [
    "after_activity_control",
    "after_experiment_control",
    "before_experiment_control",
    "before_rollback_control",
    "cleanup_control",
    "configure_control",
    "remove_open_faults",
]

logger = logging.getLogger("chaostoolkit")

HOLDER = "gameday-safety"


@contextmanager
def shielded() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM while faults are being removed (main thread only)."""
    try:
        old = {
            s: signal.signal(s, lambda *_: logger.warning("cleanup in progress; signal ignored"))
            for s in (signal.SIGINT, signal.SIGTERM)
        }
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def remove_open_faults(configuration: dict[str, object] | None) -> list[str]:
    """Undo this run's open ledger entries; returns one line per problem (empty: clean)."""
    sc = scope(configuration)
    with shielded():
        try:
            report = cleanup(sc.ledger, sc.target, run_id=sc.ledger.run_id, clients=sc.clients)
        except GamedayError as exc:  # the target's identity could not be read
            return [f"cleanup could not run: {exc.one_line()}"]
    for entry in report.undone:
        logger.warning(f"gameday safety: removed fault left by the run: {entry.description}")
    for entry, conflict in report.conflicts:
        logger.warning(f"gameday safety: {entry.description}: {conflict}")
    return report.left_behind()


def _watch(
    run: RunContext,
    configuration: dict[str, object] | None,
    floor: float | None,
    min_probes: int,
    alarms: list[str],
    interval_s: float,
) -> None:
    from ..cloudwatch.probes import alarm_state

    while not run.safety.stop.wait(interval_s):
        try:
            if floor is not None:
                probes = run.recorded()
                if len(probes) >= min_probes:
                    ok = sum(1 for p in probes if p.ok) / len(probes)
                    if ok < floor:
                        run.request_abort(
                            f"availability {ok:.1%} below the floor {floor:.1%}"
                            f" over {len(probes)} probes"
                        )
            for alarm in alarms:
                if alarm_state(alarm, configuration) == "ALARM":
                    run.request_abort(f"alarm {alarm} is in ALARM")
        except GamedayError as exc:
            logger.warning(f"gameday safety: stop-condition check failed: {exc.one_line()}")
        if run.aborted_by is not None:
            return


def configure_control(
    configuration: dict[str, object] | None = None,
    experiment: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    availability_floor: float | None = None,
    min_probes: int = 20,
    stop_on_alarms: list[str] | None = None,
    check_interval_s: float = 1.0,
    fail_fast: bool = True,
) -> None:
    """Join the run's context, remember its configuration and start watching the stop
    conditions."""
    from ...redact import RedactingFilter

    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())  # the stock run logs activity arguments too
    run = join_run(configuration, HOLDER)
    run.begin()
    st = run.safety
    st.configured, st.configuration, st.secrets = True, configuration, secrets
    st.cleaned, st.fail_fast = False, fail_fast
    if availability_floor is not None or stop_on_alarms:
        st.watcher = threading.Thread(
            target=_watch,
            daemon=True,
            name="gameday-safety",
            args=(
                run,
                configuration,
                availability_floor,
                min_probes,
                list(stop_on_alarms or []),
                check_interval_s,
            ),
        )
        st.watcher.start()


def before_experiment_control(
    context: dict[str, Any],
    configuration: dict[str, object] | None = None,
    secrets: dict[str, Any] | None = None,
    **_: object,
) -> None:
    """Production refusal and preflight, before anything is injected."""
    from chaoslib.exceptions import InterruptExecution

    from ...lock import target_lock
    from ..milestones import extension_of
    from ..preflight import check_experiment

    try:
        check_experiment(context, configuration, secrets)
        if extension_of(context)["destructive"]:
            sc = scope(configuration)
            what = f"chaos experiment {context.get('title', '')!r}"
            sc.run.safety.lock.enter_context(target_lock(sc.target, what, sc.clients))
    except GamedayError as exc:
        raise InterruptExecution(exc.one_line()) from None


def before_rollback_control(
    context: Any, configuration: dict[str, object] | None = None, **_: object
) -> None:
    """From here on nothing interrupts: rollbacks must all run."""
    run_of(configuration).safety.in_rollbacks = True


def after_activity_control(
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    experiment: dict[str, Any] | None = None,
    configuration: dict[str, object] | None = None,
    **_: object,
) -> None:
    """Interrupt the method once a stop condition tripped, or (with `fail_fast`) once one of
    its activities failed: later phases cannot hold when an earlier one broke, and waiting
    out their deadlines only keeps the fault in front of users longer."""
    run = run_of(configuration)
    if run.safety.in_rollbacks:
        return
    method = {a.get("name") for a in (experiment or {}).get("method", []) or []}
    if context.get("name") not in method:
        return
    run.check_abort()
    if run.safety.fail_fast and state is not None and state.get("status") == "failed":
        run.request_abort(f"activity {context.get('name')!r} failed")
        run.check_abort()


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    configuration: dict[str, object] | None = None,
    **_: object,
) -> None:
    run = run_of(configuration)
    problems = remove_open_faults(configuration)
    run.safety.cleaned = not problems
    if state is not None:
        from ...redact import redact_journal

        gd = state.setdefault("gameday", {})
        if run.aborted_by is not None:
            gd["stopped_by"] = run.aborted_by
        gd["cleanup_problems"] = problems
        redact_journal(state, run.safety.secrets)


def cleanup_control() -> None:
    """Last resort: whatever happened above, remove this run's open faults. chaoslib
    passes no arguments here: the run is the one this thread is running."""
    run = leave_run(HOLDER)
    if run is None:
        return
    run.end()
    st = run.safety
    st.stop.set()
    if st.configured and not st.cleaned:
        for problem in remove_open_faults(st.configuration):
            logger.error(f"gameday safety: could not remove a fault: {problem}")
    st.lock.close()  # the run lock goes last, once nothing of the run is left
