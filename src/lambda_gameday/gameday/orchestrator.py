"""Run a plan against a target: phases in order, live progress, one verdict.

Ctrl-C or SIGTERM stops the phase in progress, removes every injected fault (through the
chaos ledger), and still writes the report and the history row, marked `interrupted`.
The report directory and the history database are checked *before* any phase runs, so a
bad path never costs a game day.

A target that cannot be used (refused, DNS, credentials) stops the run: checked before the
first phase, when a phase raises TargetError, and after any phase that did not pass. The
phase is then `unusable`, its numbers are dropped (connection errors are not users'
failures or missed alarms) and the verdict is "target unusable" (exit 3). Faults the final
sweep could not remove are listed once, with the `gameday cleanup` command to run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..config import Target
from ..exceptions import ConfigError, GamedayError, SafetyError, TargetError
from .model import PhaseResult, RunResult
from .phases.chaos import run_chaos
from .phases.coldstart import run_coldstart
from .phases.common import PhaseContext, PhaseRunner, cleanup_faults, phase_result
from .phases.conformance import run_conformance
from .phases.lint import run_lint
from .phases.load import run_load
from .phases.synthetics import run_synthetics
from .plan import ChaosOptions, PhaseKind, PhaseSpec, Plan
from .reachability import TargetGone, unreachable

__all__ = [
    "PHASES",
    "GameDay",
    "GameDayOutcome",
    "check_report_parent",
    "cleanup_command",
    "prepare_report_dir",
    "run_phase",
]

# The game day's phases: one runner per kind, each in its own module under `phases/`.
PHASES: dict[PhaseKind, PhaseRunner] = {
    "conformance": run_conformance,
    "lint": run_lint,
    "synthetics": run_synthetics,
    "coldstart": run_coldstart,
    "load": run_load,
    "chaos": run_chaos,
}

# inject faults, change $LATEST's configuration, or put load on it: refused on production
# without --allow-production
DESTRUCTIVE = ("chaos", "coldstart", "load")


def run_phase(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Run one phase. Harness errors propagate; the game day records them."""
    runner = PHASES.get(spec.kind)
    if runner is None:  # parse_plan already refuses unknown kinds
        raise ConfigError(f"unknown phase {spec.kind!r}")
    return runner(spec, ctx)


@dataclass
class GameDayOutcome:
    run: RunResult
    report_dir: Path | None
    written: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # report/history problems after the run


def _prove_writable(folder: Path) -> None:
    probe = folder / f".write-test-{os.getpid()}"
    probe.write_text("ok", encoding="utf-8")
    probe.unlink()


def _not_writable(parent: Path, exc: OSError) -> ConfigError:
    return ConfigError(
        f"report directory {parent} is not writable ({exc.strerror or exc}); "
        "choose another with --report-dir"
    )


def check_report_parent(parent: Path) -> None:
    """Create `parent` if needed and prove a report can be written in it, or raise
    ConfigError: checked before a game day starts, so a bad path never costs one."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _prove_writable(parent)
    except OSError as exc:
        raise _not_writable(parent, exc) from None


def prepare_report_dir(parent: Path, run_id: str) -> Path:
    """Create `<parent>/<run_id>/` and prove it is writable, or raise ConfigError."""
    out = parent / run_id
    try:
        out.mkdir(parents=True, exist_ok=False)
        _prove_writable(out)
    except FileExistsError:
        raise ConfigError(f"report directory {out} already exists; not overwriting it") from None
    except OSError as exc:
        raise _not_writable(parent, exc) from None
    return out


def cleanup_command(target: Target) -> str:
    """The command that removes what a run left behind, once the target is back."""
    from ..chaos.ledger import DEFAULT_LEDGER

    parts = ["gameday cleanup"]
    if target.source and not target.source.startswith("<"):
        parts.append(f"--target {target.source}")
    parts.append(f"--ledger {DEFAULT_LEDGER}")
    return " ".join(parts)


def _unusable(
    spec: PhaseSpec, t0: float, why: str, first: bool, *, keep: PhaseResult | None = None
) -> PhaseResult:
    """The phase that found the target unusable: no verdict on anything it measured."""
    where = (
        f"target unusable (phase {spec.name})"
        if first
        else (f"target became unusable during {spec.name}")
    )
    return phase_result(
        spec,
        "unusable",
        t0,
        message=f"{where}: {why}",
        artifacts=keep.artifacts if keep else (),
        faults_not_removed=keep.faults_not_removed if keep else (),
    )


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C so the same cleanup path runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class GameDay:
    """One game day: a plan, a target, and where the results go."""

    def __init__(
        self,
        plan: Plan,
        target: Target,
        *,
        report_parent: Path | None,
        console: Console | None = None,
        allow_production: bool = False,
        on_phase: Callable[[PhaseResult], None] | None = None,
    ) -> None:
        self.plan = plan
        self.target = target
        self.report_parent = report_parent
        self.console = console or Console(quiet=True)
        self.allow_production = allow_production
        self.on_phase = on_phase
        self.stop = threading.Event()

    def check_safety(self) -> None:
        """Refuse destructive phases against production unless explicitly allowed."""
        if not self.target.is_production:
            return
        for spec in self.plan.phases:
            opted_in = isinstance(spec.options, ChaosOptions) and spec.options.allow_production
            if spec.kind in DESTRUCTIVE and not (self.allow_production or opted_in):
                raise SafetyError(
                    f"target {self.target.name} is production and phase {spec.name!r} "
                    f"({spec.kind}) changes it; pass --allow-production to run it"
                )

    def run(
        self, run_id: str | None = None, *, started_at: float | None = None
    ) -> tuple[RunResult, Path | None]:
        """Run every phase; returns the result and the run's report directory (created).
        `started_at`: when the caller began the run (before taking the target's lock)."""
        self.check_safety()
        started = started_at if started_at is not None else time.time()
        run_id = run_id or RunResult.new_id(started)
        report_dir = prepare_report_dir(self.report_parent, run_id) if self.report_parent else None
        artifacts = report_dir or Path(".")
        results: list[PhaseResult] = []
        interrupted = False
        notes: list[str] = []
        planned = tuple(
            name
            for spec in self.plan.phases
            if isinstance(spec.options, ChaosOptions)
            for name in spec.options.experiments
        )
        ctx = PhaseContext(
            self.target,
            artifacts,
            stop=self.stop,
            allow_production=self.allow_production,
            planned_experiments=planned,
        )
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[phase]}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        unusable = False
        with _sigterm_as_interrupt(), progress:
            for index, spec in enumerate(self.plan.phases):
                task = progress.add_task("starting", phase=spec.name, total=None)
                ctx.progress = lambda msg, task=task: progress.update(task, description=msg)  # type: ignore[misc]
                t0 = time.time()
                first = index == 0
                try:
                    why = unreachable(self.target) if first else None
                    if why is not None:
                        result = _unusable(spec, t0, why, first=True)
                    else:
                        result = run_phase(spec, ctx)
                except KeyboardInterrupt:
                    interrupted = True
                    result = phase_result(
                        spec,
                        "interrupted",
                        t0,
                        message="interrupted (Ctrl-C / SIGTERM); faults removed",
                    )
                except TargetError as exc:
                    # Gone mid-phase (the pre-check connected, so a network failure now means
                    # it went away), or refused from the start (credentials, a missing
                    # resource) in the first phase that touched it
                    gone = isinstance(exc, TargetGone) or not first
                    gone = gone or unreachable(self.target, timeout_s=1.0) is not None
                    result = _unusable(spec, t0, exc.one_line(), first=not gone)
                except GamedayError as exc:
                    result = phase_result(spec, "error", t0, message=exc.one_line())
                except Exception as exc:  # a phase's bug must not cost the report
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    result = phase_result(
                        spec,
                        "error",
                        t0,
                        message=(
                            f"{type(exc).__name__}: {exc} "
                            f"({Path(where.filename).name}:{where.lineno})"
                        ),
                    )
                if result.status in ("failed", "error"):
                    # Did the platform fail, or did the target go away under the phase?
                    why = unreachable(self.target)
                    if why is not None:
                        result = _unusable(spec, t0, why, first=False, keep=result)
                unusable = result.status == "unusable"
                results.append(result)
                progress.update(
                    task,
                    description=f"{result.status} in {result.duration_s:.1f} s",
                    total=1,
                    completed=1,
                )
                if self.on_phase:
                    self.on_phase(result)
                if interrupted or unusable:
                    break
                if result.status in ("failed", "error") and not spec.continue_on_failure:
                    notes.append(f"stopped after {spec.name}: continue_on_failure is false")
                    break
            removed, not_removed = self._cleanup(ctx)
            if removed:
                notes.append("faults removed at the end: " + "; ".join(removed))
        if not not_removed and not removed:
            # no ledger to sweep: what the phases themselves could not undo
            not_removed = [f for r in results for f in r.faults_not_removed]
        not_removed = list(dict.fromkeys(not_removed))
        run = RunResult(
            run_id=run_id,
            plan=self.plan.name,
            target=self.target.name,
            target_kind=self.target.kind,
            environment=self.target.environment,
            started_at=started,
            finished_at=time.time(),
            phases=tuple(results),
            interrupted=interrupted,
            notes=tuple(notes),
            faults_not_removed=tuple(not_removed),
            cleanup_command=cleanup_command(self.target) if not_removed else "",
        )
        return run, report_dir

    def _cleanup(self, ctx: PhaseContext) -> tuple[list[str], list[str]]:
        """(removed, not removed) by the final sweep of the ledger."""
        # A second Ctrl-C during cleanup must not leave faults: retry once, then report.
        for _ in range(2):
            try:
                return cleanup_faults(ctx)
            except KeyboardInterrupt:
                continue
            except GamedayError as exc:
                return [], [f"the ledger could not be swept: {exc.one_line()}"]
        return [], ["cleanup interrupted twice: open faults may remain"]
