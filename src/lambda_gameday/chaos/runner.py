"""Run an experiment from Python: rollbacks always, faults removed however it ends.

    result = run_experiment("experiments/faulty-canary.json", target, ledger_path=...)
    result.timeline.render(); result.journal; result.status

What it adds to chaoslib's own run:
* rollback strategy `always` (chaoslib's default skips rollbacks of failed and
  interrupted runs), and the safety + traffic controls when the experiment lacks them;
* production refusal (SafetyError) and a preflight that fails before any injection when
  the experiment names a missing function, alias, alarm, group, topic or dependency;
* SIGINT/SIGTERM become an interruption; afterwards every open ledger entry of the run is
  undone with signals ignored, and `Interrupted` is raised;
* `dry_run` returns the plan without touching the target;
* the journal is redacted of secrets before it is written.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import signal
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from ..aws import AccessDenied, watching_denials
from ..config import Target
from ..content import content_path
from ..exceptions import ConfigError, GamedayError, VerdictFailed
from ..redact import RedactingFilter, redact_data, redact_journal
from .context import clients_for, ledger_for
from .ledger import DEFAULT_LEDGER
from .milestones import extension_of, timeline_for_journal
from .names import resolve_names
from .preflight import check_experiment, named_resources
from .run import open_run
from .timeline import ProbeRecord, Timeline
from .undo import cleanup

__all__ = [
    "ExperimentResult",
    "Interrupted",
    "load_experiment",
    "plan",
    "resolve_experiment",
    "run_experiment",
    "target_configuration",
]

SAFETY = "lambda_gameday.chaos.controls.safety"
TRAFFIC = "lambda_gameday.chaos.controls.traffic"


class Interrupted(GamedayError):
    """The run was interrupted; faults were removed. `aborted_by` names the stop condition
    that tripped in the run, if one did (None: a signal)."""

    exit_code = 130

    def __init__(self, message: str, aborted_by: str | None = None):
        super().__init__(message)
        self.aborted_by = aborted_by


# chaoslib's own SIGTERM handler (chaoslib.exit) replaces ours while an experiment runs and
# raises InterruptExecution with this text inside whatever activity was running: the
# activity then reads as failed and the safety control as a stop condition. The journal
# keeps the text, which is how a SIGTERM is told apart from a platform failure.
_CHAOSLIB_SIGTERM = "SIGTERM signal received"


def _sigterm_in(journal: Mapping[str, Any]) -> bool:
    for run in list(journal.get("run", []) or []) + list(journal.get("rollbacks", []) or []):
        if any(_CHAOSLIB_SIGTERM in str(line) for line in run.get("exception", []) or []):
            return True
    return False


@dataclass(frozen=True)
class ExperimentResult:
    title: str
    status: str  # chaoslib's: completed, failed, aborted, interrupted
    deviated: bool
    timeline: Timeline | None
    journal: dict[str, Any]
    journal_path: Path | None
    cleanup_problems: tuple[str, ...]
    aborted_by: str | None = None  # the stop condition that tripped in this run, if any
    probes: tuple[ProbeRecord, ...] = ()  # the background traffic of this run

    @property
    def ok(self) -> bool:
        broken = self.timeline is not None and self.timeline.broken_phase is not None
        return self.status == "completed" and not self.deviated and not broken

    def failure(self) -> str:
        """One line saying which phase broke, and the first activity that failed."""
        parts = []
        if self.timeline is not None and self.timeline.problems:
            phase, text = self.timeline.problems[0]
            parts.append(f"phase {phase} broke: {text}")
        for run in self.journal.get("run", []):
            if run.get("status") == "failed":
                name = run.get("activity", {}).get("name", "?")
                why = " ".join(str(run.get("exception", [""])[-1]).split())
                parts.append(f"activity {name!r} failed: {why}")
                break
        if self.deviated:
            parts.append("the steady state deviated after the method")
        stopped = self.aborted_by or self.journal.get("gameday", {}).get("stopped_by")
        if stopped:
            parts.append(f"stopped: {stopped}")
        return "; ".join(parts) or f"experiment {self.status}"


def resolve_experiment(name_or_path: str, directory: str | Path = "experiments") -> Path:
    """A path as given, or `<directory>/<name>.json|.yaml` (directory found by content_path)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    directory = content_path(directory)
    for ext in (".json", ".yaml", ".yml"):
        cand = Path(directory) / f"{name_or_path}{ext}"
        if cand.is_file():
            return cand
    known = (
        sorted(q.stem for q in Path(directory).glob("*.json")) if Path(directory).is_dir() else []
    )
    raise ConfigError(
        f"no experiment {name_or_path!r} (not a file, not in {directory}/;"
        f" known: {', '.join(known) or 'none'})"
    )


def load_experiment(path: Path) -> dict[str, Any]:
    """Load and validate (shape, chaoslib, argument types: validate.experiment); errors are
    one line."""
    from ..validate.experiment import load_experiment_file

    return load_experiment_file(path)


def target_configuration(target: Target) -> dict[str, object]:
    """Chaos Toolkit configuration entries that point activities at `target`."""
    conf: dict[str, object] = {"aws_region": target.region, "gameday_api_url": target.api_url}
    if target.source and not target.source.startswith("<"):
        conf["gameday_target"] = target.source
    if target.endpoint_url:
        conf["gameday_endpoint_url"] = target.endpoint_url
    if target.fis is not None and "gameday_target" not in conf:  # no file carries them
        conf["gameday_fis_role_arn"] = target.fis.role_arn
        conf["gameday_fis_configuration_location"] = target.fis.configuration_location
    return conf


def _with_controls(experiment: dict[str, Any]) -> dict[str, Any]:
    controls = list(experiment.get("controls", []) or [])
    modules = {c.get("provider", {}).get("module") for c in controls}
    if SAFETY not in modules:
        controls.insert(
            0, {"name": "gameday-safety", "provider": {"type": "python", "module": SAFETY}}
        )
    if TRAFFIC not in modules:
        controls.append(
            {"name": "gameday-traffic", "provider": {"type": "python", "module": TRAFFIC}}
        )
    experiment["controls"] = controls
    return experiment


def plan(experiment: Mapping[str, Any], configuration: Mapping[str, object]) -> list[str]:
    """What a run would do, one line per activity, secrets redacted (for --dry-run)."""
    lines = [f"experiment: {experiment.get('title', '?')}"]
    sections = [
        ("steady state", experiment.get("steady-state-hypothesis", {}).get("probes", []) or []),
        ("method", experiment.get("method", []) or []),
        ("rollbacks (always run)", experiment.get("rollbacks", []) or []),
    ]
    from chaoslib import substitute

    for title, acts in sections:
        lines.append(f"{title}:")
        for act in acts:
            provider = act.get("provider", {})
            args = substitute(dict(provider.get("arguments", {}) or {}), dict(configuration), {})
            args = redact_data(args)
            where = provider.get("func") or provider.get("url") or provider.get("path") or "?"
            lines.append(
                f"  {act.get('type', '?')} {act.get('name', '?')}: {where}"
                f"({', '.join(f'{k}={v!r}' for k, v in args.items())})"
            )
    return lines


@contextmanager
def _signals_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM behaves like SIGINT (KeyboardInterrupt) outside chaoslib's own handler."""
    seen: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the block is done, then interrupt (KeyboardInterrupt)."""
    seen: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if seen:
        raise KeyboardInterrupt


@contextmanager
def _recording_chaoslib_sigterm(seen: list[int]) -> Iterator[None]:
    """chaoslib installs its own SIGTERM handler for the run (`chaoslib.exit`), which raises
    InterruptExecution in whatever code runs at that instant — code that may swallow it, so
    the experiment can even "complete". Wrap that handler so the signal is always recorded:
    a SIGTERM ends `gameday chaos` with 130, whatever chaoslib made of it."""
    from chaoslib import exit as ctk_exit

    original = getattr(ctk_exit, "_terminate_now", None)
    if original is None:  # another chaoslib: the journal check below still applies
        yield
        return

    def recording(signum: int, frame: FrameType | None = None) -> None:
        seen.append(signum)
        original(signum, frame)

    ctk_exit._terminate_now = recording
    try:
        yield
    finally:
        ctk_exit._terminate_now = original


@contextmanager
def _ignoring_signals() -> Iterator[None]:
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class _DropExpected(logging.Filter):
    """chaoslib warns that rollbacks were "explicitly requested to be played": the harness
    always requests them (strategy `always`), so the warning says nothing to the user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "explicitly requested to be played" not in record.getMessage()


def _quiet_expected_warnings() -> None:
    """Drop chaoslib's expected warning; redact every chaostoolkit log line (they quote
    activity arguments and outputs)."""
    log = logging.getLogger("chaostoolkit")
    if not any(isinstance(f, _DropExpected) for f in log.filters):
        log.addFilter(_DropExpected())
    if not any(isinstance(f, RedactingFilter) for f in log.filters):
        log.addFilter(RedactingFilter())


def run_experiment(
    source: str | Path,
    target: Target,
    *,
    dry_run: bool = False,
    allow_production: bool = False,
    ledger_path: str | Path = DEFAULT_LEDGER,
    journal_path: str | Path | None = None,
    extra_configuration: Mapping[str, object] | None = None,
) -> ExperimentResult:
    """Run one experiment against `target` (see the module docstring)."""
    path = source if isinstance(source, Path) else resolve_experiment(str(source))
    experiment = load_experiment(path)
    run_id = uuid.uuid4().hex[:12]
    conf = dict(experiment.get("configuration", {}) or {})
    if "gameday_allow_production" in conf:
        raise ConfigError(
            f"{path}: configuration gameday_allow_production: an experiment cannot grant "
            "production; pass --allow-production or set GAMEDAY_ALLOW_PRODUCTION=1"
        )
    conf.update(target_configuration(target))
    conf.update(gameday_ledger=str(ledger_path), gameday_run_id=run_id)
    conf.update(extra_configuration or {})
    from chaoslib.configuration import load_configuration

    try:
        conf = dict(load_configuration(conf))
    except Exception as exc:  # chaoslib raises several types for bad entries
        raise ConfigError(f"{path}: configuration: {' '.join(str(exc).split())}") from None
    resolve_names(conf)  # names from the target file (names.py), before the preflight
    experiment["configuration"] = conf
    title = str(experiment.get("title", path.stem))
    if dry_run:
        check_experiment_safety_only(experiment, conf, allow_production)
        return ExperimentResult(
            title, "dry-run", False, None, {"plan": plan(experiment, conf)}, None, ()
        )
    # before anything is injected
    check_experiment(experiment, conf, {}, allow_production=allow_production)
    experiment = _with_controls(experiment)

    from chaoslib.run import Runner
    from chaoslib.types import Strategy

    _quiet_expected_warnings()
    settings: dict[str, Any] = {"runtime": {"rollbacks": {"strategy": "always"}}}
    ledger = ledger_for(conf)
    journal: dict[str, Any] = {}
    interrupted = signalled = False
    problems: list[str] = []
    from ..lock import target_lock
    from .controls.traffic import stop_traffic

    # This run's context: the controls join it, the activities reach it through the
    # configuration; the stop reason and probes are read from it afterwards. The target's
    # run lock is held from before the first fault until the last is removed.
    lock = contextlib.ExitStack()
    with open_run(run_id) as run, watching_denials() as denied:
        run.allow_production = allow_production
        try:
            with _signals_as_interrupt() as seen, _recording_chaoslib_sigterm(seen):
                with _signals_deferred():  # a lock taken is a lock entered, then released
                    lock.enter_context(
                        target_lock(target, f"chaos experiment {title!r}", clients_for(target))
                    )
                with Runner(Strategy.DEFAULT) as runner:
                    try:
                        journal = runner.run(copy.deepcopy(experiment), settings=settings)
                    except KeyboardInterrupt:
                        interrupted = signalled = True
                by_signal = journal.get("status") == "interrupted" and run.aborted_by is None
                signalled = signalled or bool(seen) or _sigterm_in(journal)
                interrupted = interrupted or signalled or by_signal
        except KeyboardInterrupt:
            interrupted = signalled = True
        finally:
            with _ignoring_signals():
                run.end()
                try:
                    report = cleanup(ledger, target, run_id=run_id, clients=clients_for(target))
                    problems = report.left_behind()
                except GamedayError as exc:  # the target's identity could not be read
                    problems = [f"cleanup could not run: {exc.one_line()}"]
                stop_traffic(run)
                lock.close()
    problems += list(journal.get("gameday", {}).get("cleanup_problems", []))
    probes = tuple(run.recorded())
    timeline = None
    if journal:
        timeline = timeline_for_journal(journal, list(probes), conf)
        journal.setdefault("gameday", {})["timeline"] = timeline.to_dict()
        redact_journal(journal, experiment.get("secrets"))
    if journal_path is not None and journal:
        out = Path(journal_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(journal, indent=2, default=str), encoding="utf-8")
    result = ExperimentResult(
        title,
        str(journal.get("status", "interrupted")),
        bool(journal.get("deviated")),
        timeline,
        journal,
        Path(journal_path) if journal_path else None,
        tuple(problems),
        run.aborted_by,
        probes,
    )
    if interrupted:
        raise Interrupted(
            f"experiment {title!r} interrupted; faults removed"
            + (f" except: {'; '.join(problems)}" if problems else ""),
            aborted_by=None if signalled else run.aborted_by,
        )
    if denied and (not result.ok or problems):
        # it broke (or left faults) where a call was refused: the target is unusable as
        # given, the platform is not failing. A refusal the harness tolerated (the
        # preflight's optional role check) does not cost a run that held.
        first = denied[0]
        left = f"; faults not removed: {'; '.join(problems)}" if problems else ""
        raise AccessDenied(
            f"experiment {title!r}: {first}{left}", first.action, first.resource
        ) from None
    return result


def check_experiment_safety_only(
    experiment: Mapping[str, Any], conf: Mapping[str, object], allow_production: bool = False
) -> None:
    """Dry run: the production refusal still applies; nothing on the target is read."""
    from .context import target_from
    from .guard import refuse_unless_allowed

    if extension_of(experiment)["destructive"] and not allow_production:
        refuse_unless_allowed(
            target_from(conf), None, f"destructive experiment {experiment.get('title')!r}"
        )
    named_resources(experiment, conf, {})


def raise_for(result: ExperimentResult) -> None:
    """VerdictFailed naming the broken phase, when the hypothesis did not hold."""
    if not result.ok:
        raise VerdictFailed(f"{result.title}: {result.failure()}")
