"""`gameday coldstart`: force and measure cold starts, and check provisioned concurrency."""

from __future__ import annotations

from pathlib import Path

import click

from ..console import make_console
from .options import (
    Finite,
    NameType,
    allow_production_option,
    ledger_option,
    open_target,
    out_option,
    refuse_production,
    valued_option,
    writing_command,
)

__all__ = ["coldstart"]


@writing_command()
@click.option(
    "--function",
    "functions",
    multiple=True,
    type=NameType(),
    help="Function name, short name or path (repeatable). Default: every target function.",
)
@valued_option(
    "--warm",
    type=click.IntRange(0, 1000),
    default=5,
    help="Warm invocations after the cold one.",
)
@valued_option(
    "--log-deadline",
    type=Finite(0, 600, low_open=True),
    default=30.0,
    help="Seconds to wait for REPORT lines.",
)
@out_option(".gameday/coldstart.jsonl", "Results, one JSON object per line.")
@ledger_option
@allow_production_option("touching $LATEST of a production target")
def coldstart(
    target_file: str | None,
    functions: tuple[str, ...],
    warm: int,
    log_deadline: float,
    out: Path,
    ledger_path: str,
    allow_production: bool,
) -> None:
    """Force a new execution environment per function (env-var touch on $LATEST), then
    report the cold invocation (client time, Init Duration from REPORT) against the
    cold-start SLO, warm invocations separately, and whether provisioned concurrency
    serves warm where the target declares it. The touch is written to the fault ledger
    before it is made and restored afterwards (a killed probe: `gameday cleanup`).

    \b
    Exit codes: 0 all within budget; 1 a cold start over budget, not observed, or
    provisioned concurrency not serving warm; 2 bad input; 3 target unusable; 5 refused:
    production without --allow-production, or another run holds the target's lock.
    """
    from ..chaos.ledger import Ledger
    from ..exceptions import VerdictFailed
    from ..lock import target_lock
    from ..synthetics.coldstart import ProbeTiming, run_cold_starts
    from ..synthetics.publish import coldstart_table
    from ..synthetics.results import ResultsWriter

    console = make_console()
    with open_target(target_file) as target:
        refuse_production(
            target, allow_production, "the cold-start probe changes $LATEST's configuration"
        )
        chosen = [target.function(f) for f in functions] if functions else None
        with target_lock(target, "gameday coldstart"), ResultsWriter(out) as writer:
            results = run_cold_starts(
                target,
                chosen,
                warm_requests=warm,
                on_result=writer.write,
                timing=ProbeTiming(log_deadline_s=log_deadline),
                ledger=Ledger(ledger_path),
            )
    console.print(coldstart_table(results, modelled=target.kind == "sandbox"))
    console.print(f"results: {out}", highlight=False)
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        raise VerdictFailed(
            f"{len(failed)} cold-start probe(s) failed; "
            f"first: {failed[0].function}: {failed[0].reason}"
        )
