"""pytest plugin: SLO gates and game-day tests, against the sandbox or a real target.

Registered as the `lambda_gameday` pytest11 entry point, so installing the package is
enough. Options:

    --gameday-target FILE         a target TOML file (default: an embedded sandbox per module)
    --allow-production            let `gameday`-marked tests run against a production target
    --gameday-skip-destructive    skip `gameday`-marked tests on purpose (said in the summary)

Markers: `gate` (read-only checks, safe anywhere) and `gameday` (destructive: fault
injection, cold-start forcing, load). Against a production target without
--allow-production (or GAMEDAY_ALLOW_PRODUCTION=1) a `gameday` test is refused and
FAILS, saying it was not verified: a gate that never ran must not read as a pass or a
quiet skip. `--gameday-skip-destructive` opts out explicitly; the summary names the
gates it skipped.

Fixtures: `gameday_target`, `gameday_sandbox` (None against a target file), and the
module-scoped factories `synthetic_run`, `coldstart_run`, `load_run`, `chaos_run`, each
returning the game day's `PhaseResult`. Assertion helpers (`assert_latency`,
`assert_availability`, `assert_cold_start`, `assert_mttr`, `assert_slos`) fail with a
message that reads like a verdict:

    p95 of /health was 143 ms, budget 100 ms, 2,000 samples, worst minute 12:03

This module imports only light parts of the harness at load time: pytest loads it for
every run in an environment where the package is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pytest

from .exceptions import SafetyError

if TYPE_CHECKING:
    from .config import Target
    from .gameday.model import EndpointStats, PhaseResult, SLOResult, Timeline
    from .sandbox import Sandbox

__all__ = [
    "SLOBreach",
    "assert_availability",
    "assert_cold_start",
    "assert_latency",
    "assert_mttr",
    "assert_slos",
]

TARGET_OPTION = "--gameday-target"


class SLOBreach(AssertionError):
    """An SLO assertion failed; the message is the verdict."""


# --- options and markers -------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda-gameday", "SLO gates and game days (lambda-gameday)")
    group.addoption(
        TARGET_OPTION,
        action="store",
        default=None,
        metavar="FILE",
        help="Target TOML file to test (default: an embedded sandbox per test module).",
    )
    group.addoption(
        "--allow-production",
        action="store_true",
        default=False,
        help="Allow tests marked `gameday` (fault injection) against a production target.",
    )

    group.addoption(
        "--gameday-skip-destructive",
        action="store_true",
        default=False,
        help="Skip tests marked `gameday` (destructive) on purpose; listed in the summary.",
    )


class RefusedGate(Exception):
    """A destructive gate refused against production: it fails as not verified."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gate: read-only SLO checks, safe against any environment")
    config.addinivalue_line(
        "markers",
        "gameday: destructive checks (fault injection); refused against production "
        "without --allow-production",
    )


def _target_file(config: pytest.Config) -> str | None:
    value = config.getoption(TARGET_OPTION, default=None)
    return str(value) if value else None


def _file_target(config: pytest.Config) -> Target | None:
    """The target file's Target, loaded once per session (cheap, no network)."""
    path = _target_file(config)
    if path is None:
        return None
    cached: Target | None = getattr(config, "_gameday_file_target", None)
    if cached is None:
        from .config import load_target

        cached = load_target(path)
        config._gameday_file_target = cached  # type: ignore[attr-defined]
    return cached


def pytest_report_header(config: pytest.Config) -> str:
    path = _target_file(config)
    if path is None:
        return "gameday: target = embedded sandbox (one per test module)"
    return f"gameday: target = {path}"


def _production_allowed(config: pytest.Config) -> bool:
    from .chaos.guard import production_granted

    return bool(config.getoption("--allow-production")) or production_granted()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gameday") is None:
        return
    if item.config.getoption("--gameday-skip-destructive"):
        skipped: list[str] = item.config.stash.setdefault(_SKIPPED, [])
        skipped.append(item.nodeid)
        pytest.skip("destructive gate skipped on purpose (--gameday-skip-destructive)")
    try:
        target = _file_target(item.config)
    except Exception as exc:  # a bad target file: say so once per test, no traceback
        pytest.fail(f"gameday: {exc}", pytrace=False)
    if target is not None and target.is_production and not _production_allowed(item.config):
        raise RefusedGate(
            f"NOT VERIFIED: refused: {target.name} is a production target and this test is "
            "destructive; pass --allow-production to run it, or --gameday-skip-destructive "
            "to skip destructive gates on purpose"
        )


_SKIPPED = pytest.StashKey[list[str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A refused gate is reported as a failed test (not a setup error nobody reads as a
    verdict, and never a skip): nothing of it ran, so nothing of it passed."""
    outcome = yield
    refused = call.excinfo is not None and call.excinfo.errisinstance(RefusedGate)
    if call.when == "setup" and refused:
        report = outcome.get_result()  # type: ignore[attr-defined]
        report.when = "call"
        report.longrepr = str(call.excinfo.value) if call.excinfo else ""


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = config.stash.get(_SKIPPED, [])
    if skipped:
        terminalreporter.write_line(
            f"gameday: {len(skipped)} destructive gate(s) NOT run (--gameday-skip-destructive):"
            f" {', '.join(skipped)}"
        )


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gameday_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox | None]:
    """A sandbox started for this module (None when --gameday-target names a file).

    Module-scoped because moto's state is process-global: one sandbox at a time."""
    if _target_file(request.config) is not None:
        yield None
        return
    from .extras import require_sandbox

    require_sandbox()
    from .sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(seed=7)) as sb:
        yield sb


@pytest.fixture(scope="module")
def gameday_target(request: pytest.FixtureRequest, gameday_sandbox: Sandbox | None) -> Target:
    """The Target under test: the --gameday-target file, or this module's sandbox."""
    target = _file_target(request.config)
    if target is not None:
        return target
    assert gameday_sandbox is not None
    from .config import sandbox_target

    sb = gameday_sandbox
    return sandbox_target(
        sb.api_url, sb.endpoint_url, stage=sb.config.stage, region=sb.config.region
    )


class PhaseFactory(Protocol):
    def __call__(self, **options: Any) -> PhaseResult: ...


def _factory(
    kind: Literal["synthetics", "coldstart", "load", "chaos"],
    target: Target,
    artifacts: Path,
    allow_production: bool,
) -> PhaseFactory:
    from .gameday.orchestrator import run_phase
    from .gameday.phases.common import PhaseContext
    from .gameday.plan import parse_plan

    counter = iter(range(1, 1_000_000))

    def run(**options: Any) -> PhaseResult:
        from .exceptions import TargetError
        from .gameday.reachability import unreachable

        name = f"{kind}-{next(counter)}"
        spec = parse_plan(
            {"name": "pytest", "phases": [{"phase": kind, "name": name, **options}]}, "<pytest>"
        ).phases[0]
        if kind in ("chaos", "coldstart", "load") and target.is_production and not allow_production:
            raise SafetyError(
                f"NOT VERIFIED: refused: {kind} against production {target.name};"
                " pass --allow-production"
            )
        # A target that cannot be used ends the session at once, with one line and exit 3
        # (as `gameday run`): every later gate would only measure the network.
        why = unreachable(target)
        if why is not None:
            pytest.exit(f"gameday: target unusable ({target.name}): {why}", returncode=3)
        ctx = PhaseContext(target, artifacts, allow_production=allow_production)
        artifacts.mkdir(parents=True, exist_ok=True)
        try:
            result = run_phase(spec, ctx)
        except TargetError as exc:
            pytest.exit(
                f"gameday: target unusable during {kind} ({target.name}): {exc.one_line()}",
                returncode=3,
            )
        if result.status in ("failed", "error"):
            why = unreachable(target)
            if why is not None:
                pytest.exit(
                    f"gameday: target became unusable during {kind} ({target.name}): {why}",
                    returncode=3,
                )
        return result

    return run


def _make(kind: Literal["synthetics", "coldstart", "load", "chaos"]) -> Callable[..., Any]:
    def fixture(
        request: pytest.FixtureRequest,
        gameday_target: Target,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> PhaseFactory:
        artifacts = tmp_path_factory.mktemp(f"gameday-{kind}")
        return _factory(kind, gameday_target, artifacts, _production_allowed(request.config))

    fixture.__doc__ = (
        f"`{kind}_run(**options)` runs one {kind} phase (options as in a plan file) against "
        "the target and returns its PhaseResult."
    )
    return pytest.fixture(
        scope="module", name=f"{'synthetic' if kind == 'synthetics' else kind}_run"
    )(fixture)


synthetic_run = _make("synthetics")
coldstart_run = _make("coldstart")
load_run = _make("load")
chaos_run = _make("chaos")


# --- assertion helpers ---------------------------------------------------------------------


def _endpoint(result: PhaseResult, path: str) -> EndpointStats:
    for e in result.endpoints:
        if e.path == path:
            return e
    known = ", ".join(e.path for e in result.endpoints) or "none"
    raise SLOBreach(f"no measurements of {path} in phase {result.name} (measured: {known})")


def _slo_for(result: PhaseResult, metric: str, subject: str) -> SLOResult | None:
    return next((s for s in result.slos if s.metric == metric and s.subject == subject), None)


def _raise_unless(slo: SLOResult) -> None:
    if not slo.passed:
        raise SLOBreach(slo.sentence())


def assert_latency(
    result: PhaseResult,
    path: str,
    *,
    budget_ms: float | None = None,
    percentile: Literal[50, 90, 95, 99] = 95,
) -> None:
    """The p`percentile` latency of `path` is under `budget_ms` (default: the SLO the phase
    judged it by)."""
    from .gameday.measure import worst_minute_detail
    from .gameday.model import SLOResult

    e = _endpoint(result, path)
    if budget_ms is None:
        slo = _slo_for(result, "latency_p95", path)
        if slo is None:
            raise SLOBreach(f"no latency budget for {path}: pass budget_ms=")
        budget_ms = slo.budget
    measured = {50: e.p50_ms, 90: e.p90_ms, 95: e.p95_ms, 99: e.p99_ms}[percentile]
    _raise_unless(
        SLOResult.check(
            f"latency_p{percentile}",
            path,
            measured if e.samples else None,
            budget_ms,
            "<",
            "ms",
            e.samples - e.failures if e.samples else 0,
            label=f"p{percentile}",
            detail=worst_minute_detail(e),
        )
    )


def assert_availability(
    result: PhaseResult,
    path: str | None = None,
    *,
    target: float | None = None,
    confident: bool = False,
) -> None:
    """Per-probe availability of `path` (default: every endpoint) is at least `target`
    (default: the SLO). With `confident=True` the one-sided 95 % lower bound must clear
    it — which needs enough probes (598 with no failure for 99.5 %)."""
    from .gameday.model import SLOResult

    endpoints = [_endpoint(result, path)] if path else list(result.endpoints)
    if not endpoints:
        raise SLOBreach(f"no endpoints measured in phase {result.name}")
    for e in endpoints:
        slo = _slo_for(result, "availability", e.path)
        goal = target if target is not None else (slo.budget if slo else None)
        if goal is None:
            raise SLOBreach(f"no availability target for {e.path}: pass target=")
        value = e.availability_lower if confident else e.availability
        label = "availability (95 % lower bound)" if confident else "availability"
        needed = (
            f"{e.probes_needed:,} more good probes needed to assert it"
            if confident and e.probes_needed
            else ""
        )
        _raise_unless(
            SLOResult.check(
                "availability",
                e.path,
                value,
                goal,
                ">=",
                "%",
                e.samples,
                label=label,
                detail=needed,
                lower_bound=None if confident else e.availability_lower,
            )
        )


def assert_cold_start(result: PhaseResult, path: str | None = None) -> None:
    """Every (or `path`'s) cold start measured by a coldstart phase is within the SLO."""
    slos = [
        s for s in result.slos if s.metric == "cold_start" and (path is None or s.subject == path)
    ]
    if not slos:
        raise SLOBreach(f"no cold starts measured in phase {result.name}")
    for s in slos:
        _raise_unless(s)


def assert_mttr(result: PhaseResult, experiment: str | None = None) -> None:
    """Each chaos experiment recovered within the MTTR budget, every step happened."""
    timelines: list[Timeline] = [
        t for t in result.timelines if experiment is None or t.experiment == experiment
    ]
    if not timelines:
        raise SLOBreach(f"no experiment {experiment or ''} ran in phase {result.name}".strip())
    for t in timelines:
        slo = _slo_for(result, "mttr", t.experiment)
        if slo is not None and not slo.passed:
            raise SLOBreach(slo.sentence())
        if not t.passed:
            raise SLOBreach(f"experiment {t.experiment}: {t.broken_phase or 'did not recover'}")


def assert_slos(result: PhaseResult) -> None:
    """Every SLO the phase judged passed (all failures listed in the message); one the
    evidence could not assert (INCONCLUSIVE) is not a pass either."""
    failed = result.failures() or [f"INCONCLUSIVE: {line}" for line in result.unasserted()]
    if failed or result.status not in ("passed",):
        lines = failed or [f"phase {result.name} {result.status}: {result.message}"]
        raise SLOBreach("; ".join(lines))
