"""A Chaos Toolkit activity for tests: what the run context an activity reaches holds.

Importable by chaoslib as module `run_spy` (tests/functional is on sys.path)."""

from __future__ import annotations

from typing import TypedDict

from lambda_gameday.chaos.run import run_of


class RunState(TypedDict):
    run_id: str
    ledger_run_id: object
    in_run: bool
    aborted_by: str | None
    subscriptions: list[str]
    seen_alarms: list[str]
    first_probe_at: float | None


def run_state(configuration: dict[str, object] | None = None) -> RunState:
    run = run_of(configuration)
    probes = run.recorded()
    return RunState(
        run_id=run.run_id,
        ledger_run_id=(configuration or {}).get("gameday_run_id"),
        in_run=run.in_run,
        aborted_by=run.aborted_by,
        subscriptions=sorted(run.subscriptions),
        seen_alarms=sorted(run.seen_alarms),
        first_probe_at=probes[0].sent_at if probes else None,
    )
