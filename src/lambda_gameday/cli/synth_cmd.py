"""`gameday synth`: run the synthetic checks once, or as a paced monitor with --watch."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from ..console import make_console
from ..content import content_path
from .options import Finite, open_target, out_option, valued_option, writing_command

__all__ = ["synth"]


@writing_command()
@click.option(
    "--checks",
    "check_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Check files or directories (repeatable). Default: ./synthetics if it exists, "
    "else one health-contract check per target function.",
)
@click.option("--watch", is_flag=True, help="Run as a paced availability monitor.")
@valued_option(
    "--interval",
    type=Finite(0, 3600, low_open=True),
    default=10.0,
    help="Seconds between ticks.",
)
@valued_option(
    "--duration",
    type=Finite(0, 86_400),
    default=60.0,
    help="Monitor length in seconds (0: until Ctrl-C).",
)
@click.option("--fresh-connections", is_flag=True, help="A new connection per attempt.")
@click.option("--publish", is_flag=True, help="Push CloudWatchSynthetics metrics to the target.")
@out_option(".gameday/synth.jsonl", "Results, one JSON object per line, written as they happen.")
def synth(
    target_file: str | None,
    check_paths: tuple[Path, ...],
    watch: bool,
    interval: float,
    duration: float,
    fresh_connections: bool,
    publish: bool,
    out: Path,
) -> None:
    """Run synthetic checks against the target and print latency and availability.

    \b
    Exit codes:
      0  every check passed (degraded counts as passed), or the monitor's availability
         is at or above the target's SLO
      1  a check failed, or the monitor's per-time-point availability is below the SLO
      2  bad input (check file or path, interval, output file), refused before any
         check runs
      3  the target cannot be used: no check got an HTTP answer and the target's API or
         AWS endpoint refuses connections or does not resolve
      130  interrupted (Ctrl-C or SIGTERM); the monitor still prints what it saw
    """
    from ..exceptions import ConfigError, TargetError, VerdictFailed
    from ..synthetics.availability import Monitor, availability_report
    from ..synthetics.definitions import CheckDefinition, Expectations, load_checks
    from ..synthetics.engine import CheckRunner, definition_failure
    from ..synthetics.publish import availability_table, publish_metrics, results_table
    from ..synthetics.results import ResultsWriter, summarize

    if interval <= 0 or duration < 0:
        raise ConfigError("--interval must be > 0 and --duration >= 0")
    default = content_path("synthetics")
    paths = list(check_paths) or ([default] if default.is_dir() else [])
    console = make_console()
    checks, errors = load_checks(paths) if paths else ([], [])
    if errors:  # bad input, before a sandbox starts or a request is sent
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{errors[0].reason}{more}")
    if paths and not checks:
        raise ConfigError(f"no checks found in {', '.join(map(str, paths))}")
    with open_target(target_file) as target:
        if not paths:
            checks = [
                CheckDefinition(name=fn.name, endpoint=fn.path, expect=Expectations(health=True))
                for fn in target.functions
            ]
        stop = threading.Event()
        interrupted = False
        with (
            ResultsWriter(out) as writer,
            CheckRunner(target, fresh_connections=fresh_connections, stop=stop) as runner,
        ):
            if not watch:
                results = runner.run_all(checks, errors, writer)
            else:
                results = []
                for e in errors:
                    r = definition_failure(e)
                    writer.write(r)
                    results.append(r)
                monitor = Monitor(
                    runner,
                    checks,
                    interval_s=interval,
                    duration_s=duration or None,
                    stop=stop,
                    writer=writer,
                    on_tick=lambda t: console.print(
                        f"tick {t.index}: "
                        + ", ".join(f"{r.name} {r.outcome}" for r in t.results)
                        + f" (lag {t.lag_ms:.1f} ms)",
                        highlight=False,
                    ),
                )
                try:
                    report = monitor.run()
                except KeyboardInterrupt:  # Ctrl-C / SIGTERM: report what was seen, then 130
                    stop.set()
                    interrupted = True
                    report = availability_report(monitor.ticks, monitor.target)
                results += [r for t in monitor.ticks for r in t.results]
        console.print(results_table(summarize(results)))
        if publish:
            sent = publish_metrics(target, results)
            console.print(f"published {sent} datapoints to CloudWatchSynthetics", highlight=False)
    console.print(f"results: {out}", highlight=False)
    probed = [r for r in results if r.url]  # not the definitions that failed to load
    if probed and all(r.status_code is None for r in probed):
        # Not one HTTP answer: judge the target's reachability before its checks
        from ..gameday.reachability import unreachable

        why = unreachable(target)
        if why is not None:
            raise TargetError(f"target unusable: {why}")
    failed = [r for r in results if r.outcome == "failed"]
    if watch:
        console.print(availability_table(report))
        console.print(report.sentence(), highlight=False)
        if interrupted:
            raise KeyboardInterrupt  # exit 130: the report above covers the ticks seen
        if errors:
            raise VerdictFailed(f"{len(errors)} check definition(s) invalid: {errors[0].reason}")
        if report.time_points and report.per_time_point < report.target:
            raise VerdictFailed(report.sentence())
        return
    if failed:
        first = failed[0]
        raise VerdictFailed(
            f"{len(failed)} of {len(results)} checks failed; first: {first.name}: {first.reason}"
        )
