"""What every phase shares: its context, the function selection, its result stamped with
the phase's name, start and end time (`phase_runner`: a phase's body returns only what it
found), the verdict over findings, and the final sweep of faults the chaos ledger still
holds."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ...config import FunctionSpec, Target
from ...exceptions import ConfigError
from ...findings import Finding
from ..model import EndpointStats, PhaseResult, PhaseStatus, SLOResult, Timeline
from ..plan import PhaseSpec

__all__ = [
    "Outcome",
    "PhaseContext",
    "PhaseRunner",
    "artifact_path",
    "cleanup_faults",
    "judge_findings",
    "phase_result",
    "phase_runner",
    "select_functions",
    "status_of",
]


@dataclass
class PhaseContext:
    """What every phase gets: the target, where to write artifacts, and how to stop."""

    target: Target
    artifacts_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[str], None] = lambda _msg: None
    allow_production: bool = False
    planned_experiments: tuple[str, ...] = ()  # every experiment the plan's chaos phases run


PhaseRunner = Callable[[PhaseSpec, PhaseContext], PhaseResult]
_Options = TypeVar("_Options")  # a phase kind's options (LoadOptions, ChaosOptions, ...)


@dataclass(frozen=True)
class Outcome:
    """What a phase found: its verdict and the evidence for it. `phase_runner` stamps it
    with the phase's name, kind and times into the model's PhaseResult."""

    status: PhaseStatus
    message: str = ""
    slos: Sequence[SLOResult] = ()
    endpoints: Sequence[EndpointStats] = ()
    timelines: Sequence[Timeline] = ()
    findings: Sequence[Finding] = ()
    artifacts: Sequence[str] = ()
    faults_not_removed: Sequence[str] = ()


def phase_runner(
    options: type[_Options],
) -> Callable[[Callable[[PhaseSpec, _Options, PhaseContext], Outcome]], PhaseRunner]:
    """A PhaseRunner from a phase's body: the body gets the spec's options narrowed to its
    kind's `options` type and returns its Outcome; the runner times it and builds the
    PhaseResult, so no phase keeps its own clock or restates its name."""

    def wrap(body: Callable[[PhaseSpec, _Options, PhaseContext], Outcome]) -> PhaseRunner:
        @functools.wraps(body)
        def run(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
            opts = spec.options
            assert isinstance(opts, options)  # the plan pairs each kind with its options
            started = time.time()
            found = body(spec, opts, ctx)
            return phase_result(
                spec,
                found.status,
                started,
                message=found.message,
                slos=found.slos,
                endpoints=found.endpoints,
                timelines=found.timelines,
                findings=found.findings,
                artifacts=found.artifacts,
                faults_not_removed=found.faults_not_removed,
            )

        return run

    return wrap


def artifact_path(ctx: PhaseContext, filename: str) -> Path:
    """`filename` (made from a phase name) directly inside the artifacts directory. A name
    that would reach elsewhere (`../../tmp/x`, an absolute path) is bad input: nothing is
    created or deleted outside the report directory, whatever the plan's validation let by."""
    base = ctx.artifacts_dir.resolve()
    path = (base / filename).resolve()
    if "/" in filename or "\\" in filename or "\0" in filename or path.parent != base:
        raise ConfigError(
            f"{filename!r} would be written outside the report directory {base}; a phase name "
            "may not contain path separators"
        )
    return path


def select_functions(target: Target, names: Sequence[str]) -> list[FunctionSpec]:
    """The named functions of the target, or all of them when none are named."""
    return [target.function(n) for n in names] if names else list(target.functions)


def status_of(slos: Sequence[SLOResult], findings: Sequence[Finding] = ()) -> PhaseStatus:
    """failed when an SLO was breached (or had no data) or a finding is an error;
    inconclusive when nothing failed but an SLO could not be asserted; else passed."""
    if any(s.breached for s in slos) or any(f.severity == "error" for f in findings):
        return "failed"
    if any(s.inconclusive for s in slos):
        return "inconclusive"
    return "passed"


def phase_result(
    spec: PhaseSpec,
    status: PhaseStatus,
    started: float,
    *,
    message: str = "",
    slos: Iterable[SLOResult] = (),
    endpoints: Iterable[EndpointStats] = (),
    timelines: Iterable[Timeline] = (),
    findings: Iterable[Finding] = (),
    artifacts: Iterable[str] = (),
    faults_not_removed: Iterable[str] = (),
) -> PhaseResult:
    """The result of phase `spec`, which began at `started` and ends now; what a phase
    collected in lists is frozen into the model's tuples."""
    return PhaseResult(
        spec.name,
        spec.kind,
        status,
        started,
        time.time(),
        message=message,
        slos=tuple(slos),
        endpoints=tuple(endpoints),
        timelines=tuple(timelines),
        findings=tuple(findings),
        artifacts=tuple(artifacts),
        faults_not_removed=tuple(faults_not_removed),
    )


def judge_findings(findings: Sequence[Finding], fail_on: str) -> Outcome:
    """A read-only phase's verdict: failed on an error (or, with fail_on=warning, on a
    warning too)."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    failed = (fail_on == "error" and errors > 0) or (fail_on == "warning" and errors + warnings > 0)
    message = f"{errors} error(s), {warnings} warning(s) in {len(findings)} checks"
    return Outcome("failed" if failed else "passed", message=message, findings=findings)


def cleanup_faults(ctx: PhaseContext) -> tuple[list[str], list[str]]:
    """Remove every fault still open in the chaos ledger on this target (a safety net: the
    chaos runner already undoes its own). Entries of other targets are listed, never
    undone here. Returns (removed or left alone with a reason, could not be removed)."""
    from ...chaos.ledger import DEFAULT_LEDGER, Ledger
    from ...chaos.undo import cleanup

    if not Path(DEFAULT_LEDGER).exists():
        return [], []
    ledger = Ledger(DEFAULT_LEDGER)
    report = cleanup(ledger, ctx.target)
    ledger.compact()
    removed = (
        [e.description for e in report.undone]
        + [f"left alone (another target's): {line}" for line in report.foreign_lines()]
        + [f"{e.description}: {c}" for e, c in report.conflicts]
        # an unreadable line is reported, not a fault left: a line cut by a SIGKILL is a
        # record whose change never started
        + [f"ledger: {line}" for line in report.problems]
    )
    return removed, report.left_behind()
