"""The chaos phase: each experiment through the chaos runner, its MTTR timeline judged
against the target's budget."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ...load.during import background_load
from ..model import PhaseResult, SLOResult, Timeline, TimelineEvent
from ..plan import ChaosOptions, PhaseSpec
from .common import PhaseContext, status_of

if TYPE_CHECKING:
    from ...chaos.runner import ExperimentResult
    from ...chaos.timeline import ProbeRecord

__all__ = ["run_chaos"]


def _timeline(
    name: str, result: ExperimentResult, budget_s: float, probes: Sequence[ProbeRecord]
) -> Timeline:
    tl = result.timeline
    if tl is None:
        return Timeline(
            experiment=name,
            events=(),
            budget_s=budget_s,
            passed=False,
            broken_phase=result.failure(),
        )
    sources = {
        "fault injected": "ledger",
        "fault requested": "ledger",
        "fault active in traffic": "probe",
        "fault gone from traffic": "probe",
        "first failed user request": "probe",
        "first sustained success": "probe",
        "fault removed by harness rollback": "harness",
    }
    events = tuple(
        TimelineEvent(
            label,
            at,
            "harness"
            if label.startswith("alarm set to ALARM")
            else sources.get(label.split(" (")[0], "target"),
            applicable,
        )
        for label, at, applicable in tl.rows()
    )
    passed = result.ok and (tl.within_budget or not tl.mttr_claimed)
    return Timeline(
        experiment=name,
        events=events,
        budget_s=tl.budget_s,
        mttr_s=tl.mttr,
        time_to_detect_s=tl.time_to_detect,
        time_to_rollback_s=tl.time_to_roll_back,
        time_to_recover_s=tl.time_to_recover,
        failed_requests=tl.blast_radius.failed,
        total_requests=tl.blast_radius.probes,
        passed=passed,
        broken_phase=None if passed else result.failure(),
        probes=tuple((p.sent_at, p.ok, (p.done_at - p.sent_at) * 1000.0) for p in probes[:5000]),
        recovered_by="platform" if tl.mttr_claimed else tl.recovered_by,
    )


@contextmanager
def _chaos_log_to(path: Path) -> Iterator[None]:
    """Chaos Toolkit's log goes to a file in the report directory for the phase: the game
    day's terminal shows its own verdict, one line per problem, not chaoslib's log."""
    log = logging.getLogger("chaostoolkit")
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    saved = (log.propagate, log.level)
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        handler.close()
        log.propagate, log.level = saved[0], saved[1]


def run_chaos(spec: PhaseSpec, ctx: PhaseContext) -> PhaseResult:
    """Each experiment through the chaos runner (rollbacks always, ledger, preflight);
    its MTTR timeline judged against the target's budget; journals kept."""
    opts = spec.options
    assert isinstance(opts, ChaosOptions)
    started = time.time()
    timelines: list[Timeline] = []
    slos: list[SLOResult] = []
    artifacts: list[str] = []
    not_removed: list[str] = []
    journals = ctx.artifacts_dir / "journals"
    log_file = journals / "chaostoolkit.log"
    with _chaos_log_to(log_file):
        _run_all(spec, ctx, opts, timelines, slos, artifacts, not_removed)
    if log_file.exists():
        artifacts.append(str(log_file.relative_to(ctx.artifacts_dir)))
    status = status_of(slos)
    if any(not t.passed for t in timelines) or not_removed:
        status = "failed"
    message = f"{len(not_removed)} fault(s) could not be removed" if not_removed else ""
    return PhaseResult(
        spec.name,
        spec.kind,
        status,
        started,
        time.time(),
        message=message,
        slos=tuple(slos),
        timelines=tuple(timelines),
        artifacts=tuple(artifacts),
        faults_not_removed=tuple(dict.fromkeys(not_removed)),
    )


def _run_all(
    spec: PhaseSpec,
    ctx: PhaseContext,
    opts: ChaosOptions,
    timelines: list[Timeline],
    slos: list[SLOResult],
    artifacts: list[str],
    not_removed: list[str],
) -> None:
    from ...chaos.runner import Interrupted, run_experiment

    budget = ctx.target.slos.mttr_s
    journals = ctx.artifacts_dir / "journals"
    for name in opts.experiments:
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        ctx.progress(f"experiment {name}")
        journal = journals / f"{Path(name).stem}.json"
        load_note = ""
        try:
            with background_load(
                ctx.target, opts.load_users, journals / f"{Path(name).stem}-load.json"
            ) as loaded:
                result = run_experiment(
                    name,
                    ctx.target,
                    allow_production=opts.allow_production or ctx.allow_production,
                    journal_path=journal,
                    extra_configuration=(
                        {"gameday_backend_override": opts.backend} if opts.backend else None
                    ),
                )
            load_note = loaded.note()
        except Interrupted as exc:
            if exc.aborted_by is None:  # a signal (Ctrl-C / SIGTERM), not a stop condition
                raise KeyboardInterrupt from None
            # A stop condition tripped: the experiment failed safely (faults removed).
            stem = Path(name).stem
            timelines.append(
                Timeline(
                    stem, (), budget, passed=False, broken_phase=f"stop condition: {exc.aborted_by}"
                )
            )
            slos.append(
                SLOResult.check(
                    "mttr",
                    stem,
                    None,
                    budget,
                    "<=",
                    "s",
                    0,
                    label="MTTR",
                    detail=f"aborted by a stop condition ({exc.aborted_by}); {exc.one_line()}",
                )
            )
            if journal.exists():
                artifacts.append(str(journal.relative_to(ctx.artifacts_dir)))
            continue
        for kept in (journal, journals / f"{Path(name).stem}-load.json"):
            if kept.exists():
                artifacts.append(str(kept.relative_to(ctx.artifacts_dir)))
        t = _timeline(Path(name).stem, result, budget, list(result.probes))
        timelines.append(t)
        # No platform MTTR to judge when the harness removed its own fault (the row says why)
        if t.mttr_claimed:
            slos.append(
                SLOResult.check(
                    "mttr",
                    t.experiment,
                    t.mttr_s,
                    budget,
                    "<=",
                    "s",
                    1 if t.mttr_s is not None else 0,
                    label="MTTR",
                    detail=(
                        f"detect {t.time_to_detect_s:.1f} s"
                        if t.time_to_detect_s is not None
                        else ""
                    )
                    + ("" if t.passed else f"; broke: {t.broken_phase}")
                    + load_note,
                )
            )
        not_removed += result.cleanup_problems
