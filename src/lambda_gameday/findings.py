"""One finding type for every read-only check (the conformance checklist, lint, the game
day's phases): a severity, the resource it is about, what was found and how to fix it.

A low layer on purpose: `chaos`, `synthetics` and `gameday` all import it; it imports
nothing from the harness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

__all__ = ["ChecklistStatus", "Finding", "Severity"]

# error: something is wrong (or could not be checked); warning: may not work; info: fine.
Severity = Literal["error", "warning", "info"]
ChecklistStatus = Literal["pass", "fail", "error"]  # the conformance checklist's words


@dataclass(frozen=True)
class Finding:
    severity: Severity
    resource: str
    message: str
    fix: str = ""
    rule: str = ""  # what produced it: a lint rule, a checklist item ("aliases"), or ""
    checked: bool = True  # False: the item could not be checked (an API error)

    @property
    def status(self) -> ChecklistStatus:
        """The checklist's view: could not check, fails, or passes."""
        if not self.checked:
            return "error"
        return "fail" if self.severity == "error" else "pass"

    @property
    def text(self) -> str:
        """The message with the rule that produced it, as reports show it."""
        return f"{self.rule}: {self.message}" if self.rule else self.message

    def line(self) -> str:
        """One line for a terminal: 'ERROR rule resource: message Fix: fix'."""
        return (
            f"{self.severity.upper()} {self.rule} {self.resource}: {self.message} Fix: {self.fix}"
        )

    def to_record(self) -> dict[str, object]:
        """A JSON Lines record (see `synthetics.results.ResultsWriter`); `status` keeps the
        checklist's pass/fail/error readable in `gameday conformance --out` files."""
        return {"kind": "finding", **asdict(self), "status": self.status}
