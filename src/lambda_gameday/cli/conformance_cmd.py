"""`gameday conformance`: the seed's checklist, checked read-only against the target."""

from __future__ import annotations

from pathlib import Path

from ..console import make_console
from .options import open_target, out_option, writing_command

__all__ = ["conformance"]


@writing_command()
@out_option(".gameday/conformance.jsonl", "Findings, one JSON object per line.")
def conformance(target_file: str | None, out: Path) -> None:
    """Check published versions, production/canary aliases, provisioned concurrency,
    error and duration alarms wired to the alert topic, and a confirmed subscription.
    Changes nothing. Each finding names the resource and the fix.

    \b
    Exit codes: 0 every item passes; 1 an item fails; 3 an item could not be checked.
    """
    from ..exceptions import VerdictFailed
    from ..synthetics.conformance import require_checked, run_conformance
    from ..synthetics.publish import findings_table
    from ..synthetics.results import ResultsWriter

    console = make_console()
    with open_target(target_file) as target, ResultsWriter(out) as writer:
        findings = run_conformance(target)
        for f in findings:
            writer.write(f)
    console.print(findings_table(findings))
    console.print(f"results: {out}", highlight=False)
    require_checked(findings)  # items that could not be checked come first: exit 3
    failed = [f for f in findings if f.status == "fail"]
    if failed:
        raise VerdictFailed(
            f"{len(failed)} of {len(findings)} checklist items fail; first: "
            f"{failed[0].resource}: {failed[0].message}"
        )
