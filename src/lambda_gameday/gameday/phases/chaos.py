"""The chaos phase: each experiment through the chaos runner, its MTTR timeline judged
against the target's budget."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ...chaos.names import NotApplicable
from ...config import Target
from ...exceptions import ConfigError
from ...load.during import background_load
from ..model import SLOResult, Timeline, TimelineEvent
from ..plan import ChaosOptions, PhaseSpec
from .common import Outcome, PhaseContext, phase_runner, status_of

if TYPE_CHECKING:
    from ...chaos.runner import ExperimentResult
    from ...chaos.timeline import ProbeRecord

__all__ = ["retarget", "run_chaos"]

_NAMES = "lambda_gameday.chaos.names"


def _subject(experiment: dict[str, object]) -> str | None:
    """The route an experiment is written for: the `path` of its `function` entry (a
    chaos/names.py probe), or None when it names no function."""
    conf = experiment.get("configuration")
    entry = conf.get("function") if isinstance(conf, dict) else None
    provider = entry.get("provider") if isinstance(entry, dict) else None
    if not isinstance(provider, dict) or provider.get("module") != _NAMES:
        return None
    args = provider.get("arguments")
    path = args.get("path") if isinstance(args, dict) else None
    return path if isinstance(path, str) else None


def _replace_path(node: object, old: str, new: str) -> object:
    """`node` with every `path` argument equal to `old`, and `old` in every `paths` list,
    made `new` — the names probes, the HTTP probes and the traffic control alike — and the
    labels that name `old` say `new`."""
    if isinstance(node, dict):
        out: dict[str, object] = {}
        for key, value in node.items():
            if key == "path" and value == old:
                out[key] = new
            elif key == "paths" and isinstance(value, list):
                out[key] = [new if v == old else v for v in value]
            elif key in ("name", "title", "description") and isinstance(value, str):
                out[key] = value.replace(old, new)  # labels say which route, too
            else:
                out[key] = _replace_path(value, old, new)
        return out
    if isinstance(node, list):
        return [_replace_path(v, old, new) for v in node]
    return node


def retarget(source: Path, target: Target, function: str, out: Path) -> Path:
    """The experiment at `source` aimed at the target's `function` (route or name): written
    to `out` (kept with the journals) and returned. An experiment that names no function,
    or already aims at it, is returned as is."""
    from ...chaos.runner import load_experiment

    fn = target.function(function)  # a plan naming a function the target lacks: bad input
    experiment = dict(load_experiment(source))
    subject = _subject(experiment)
    if subject is None or subject == fn.path:
        return source
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_replace_path(experiment, subject, fn.path), indent=2) + "\n")
    return out


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


@phase_runner(ChaosOptions)
def run_chaos(spec: PhaseSpec, opts: ChaosOptions, ctx: PhaseContext) -> Outcome:
    """Each experiment through the chaos runner (rollbacks always, ledger, preflight);
    its MTTR timeline judged against the target's budget; journals kept."""
    timelines: list[Timeline] = []
    slos: list[SLOResult] = []
    artifacts: list[str] = []
    not_removed: list[str] = []
    skipped: list[str] = []
    journals = ctx.artifacts_dir / "journals"
    log_file = journals / "chaostoolkit.log"
    with _chaos_log_to(log_file):
        _run_all(spec, ctx, opts, timelines, slos, artifacts, not_removed, skipped)
    if log_file.exists():
        artifacts.append(str(log_file.relative_to(ctx.artifacts_dir)))
    status = status_of(slos)
    if any(not t.passed for t in timelines) or not_removed:
        status = "failed"
    elif skipped and not timelines:
        status = "skipped"  # nothing applied: neither a pass nor a failure
    notes = [f"{len(not_removed)} fault(s) could not be removed"] if not_removed else []
    message = "; ".join(notes + skipped)
    return Outcome(
        status,
        message=message,
        slos=slos,
        timelines=timelines,
        artifacts=artifacts,
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
    skipped: list[str],
) -> None:
    from ...chaos.runner import Interrupted, resolve_experiment, run_experiment

    budget = ctx.target.slos.mttr_s
    journals = ctx.artifacts_dir / "journals"
    for name in opts.experiments:
        if ctx.stop.is_set():
            raise KeyboardInterrupt
        ctx.progress(f"experiment {name}")
        journal = journals / f"{Path(name).stem}.json"
        load_note = ""
        source: str | Path = name
        if opts.function:
            try:
                source = retarget(
                    resolve_experiment(name),
                    ctx.target,
                    opts.function,
                    journals / f"{Path(name).stem}.experiment.json",
                )
            except ConfigError as exc:
                raise ConfigError(f"chaos phase {spec.name}: function: {exc.one_line()}") from None
            if source.parent == journals:
                artifacts.append(str(source.relative_to(ctx.artifacts_dir)))
        try:
            with background_load(
                ctx.target, opts.load_users, journals / f"{Path(name).stem}-load.json"
            ) as loaded:
                result = run_experiment(
                    source,
                    ctx.target,
                    allow_production=opts.allow_production or ctx.allow_production,
                    journal_path=journal,
                    extra_configuration=(
                        {"gameday_backend_override": opts.backend} if opts.backend else None
                    ),
                )
            load_note = loaded.note()
        except NotApplicable as exc:
            # Names are resolved before anything is injected: nothing to undo.
            ctx.progress(f"skipped {name}: {exc.reason}")
            skipped.append(f"skipped {Path(name).stem}: {exc.reason}")
            continue
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
