"""Cold starts, forced the way AWS users force them, measured from both sides.

For each function: touch an environment variable on `$LATEST`
(`GAMEDAY_COLDSTART=<token>` via UpdateFunctionConfiguration), wait for
LastUpdateStatus=Successful, then invoke `$LATEST` through the Lambda Invoke API once
(cold) and `warm_requests` times more (warm). The touch is a change to the target, so it
is written to the fault ledger first (kind `coldstart`, the variable's previous and new
value only): a probe killed mid-way leaves an entry `gameday cleanup` removes. Each
invocation is measured client-side (the Invoke API round trip: no DNS/TLS/API Gateway)
and server-side from its REPORT line in CloudWatch Logs (`Duration`, and `Init
Duration`, present only on a new execution environment). The variable is restored
afterwards, however the probe ends — only if it still holds the touch.

Why `$LATEST` and not the alias behind the HTTP path: configuration changes reach
`$LATEST` only, and forcing a new environment behind the `production` alias would mean
publishing a version and shifting the alias — a deployment, not a probe. The HTTP-side
cold start shows up in the check results (`cold_start`) when the target can tell.

REPORT lines are matched by request id when the Invoke response carries the function's
(on AWS, `x-amzn-RequestId` is it); otherwise by time window: a REPORT line logged while
the invocation was in flight, chosen so that every invocation gets one when that is
possible at all (see `match_reports`: concurrent invocations have overlapping windows).
Run the probe where nothing else invokes `$LATEST` or the provisioned alias.

Provisioned concurrency: where the target declares it on a function, the alias must have
a READY config and `min(declared, 5)` concurrent invocations through it must all start
warm (no Init Duration).

The verdict compares the client-side cold latency with the target's cold-start SLO.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..aws import Clients, aws_errors
from ..config import FunctionSpec, Target
from ..exceptions import ResourceNotFound, TargetError
from ..lambda_wait import wait_function_updated
from ..stats import LatencyHistogram
from .results import Outcome

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from ..chaos.ledger import Ledger

__all__ = [
    "COLDSTART_VARIABLE",
    "ColdStartResult",
    "InvokeSample",
    "ProbeTiming",
    "ProvisionedResult",
    "ReportLine",
    "match_reports",
    "parse_report",
    "probe_cold_start",
    "probe_provisioned",
    "run_cold_starts",
]

COLDSTART_VARIABLE = "GAMEDAY_COLDSTART"
LATEST = "$LATEST"
_SLACK_S = 0.005  # log timestamps are whole milliseconds
_REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<duration>[\d.]+) ms"
    r"(?:.*?Init Duration: (?P<init>[\d.]+) ms)?"
)


@dataclass(frozen=True)
class ProbeTiming:
    """How long the probes wait, and how often they poll while waiting."""

    update_deadline_s: float = 60.0  # for the touched configuration to be applied
    log_deadline_s: float = 30.0  # for each invocation's REPORT line to reach the logs
    poll_s: float = 0.1


@dataclass(frozen=True)
class ReportLine:
    request_id: str
    duration_ms: float
    init_duration_ms: float | None
    timestamp: float  # epoch seconds of the log event


def parse_report(message: str, timestamp: float = 0.0) -> ReportLine | None:
    """The fields of a Lambda REPORT line, or None if `message` is not one."""
    m = _REPORT.search(message)
    if m is None:
        return None
    init = m.group("init")
    return ReportLine(
        m.group("id"), float(m.group("duration")), float(init) if init else None, timestamp
    )


@dataclass(frozen=True)
class InvokeSample:
    """One invocation: client-side time and what its REPORT line said."""

    started_at: float  # epoch seconds
    client_ms: float
    request_id: str | None = None
    executed_version: str | None = None
    init_duration_ms: float | None = None
    duration_ms: float | None = None
    report_found: bool = False
    error: str | None = None

    @property
    def cold(self) -> bool | None:
        return (self.init_duration_ms is not None) if self.report_found else None


@dataclass(frozen=True)
class ColdStartResult:
    function: str
    qualifier: str
    outcome: Outcome
    reason: str
    budget_ms: float
    cold: InvokeSample | None
    warm: tuple[InvokeSample, ...] = ()
    restored: bool = True
    kind: Literal["coldstart"] = "coldstart"

    @property
    def warm_p50_ms(self) -> float | None:
        hist = LatencyHistogram()
        for s in self.warm:
            if s.error is None:
                hist.record_ms(s.client_ms)
        return hist.percentile_ms(50) if hist.count else None

    def to_record(self) -> dict[str, object]:
        record = asdict(self)
        record["warm_p50_ms"] = self.warm_p50_ms
        return record


@dataclass(frozen=True)
class ProvisionedResult:
    function: str
    alias: str
    declared: int
    outcome: Outcome
    reason: str
    status: str | None = None
    allocated: int | None = None
    samples: tuple[InvokeSample, ...] = field(default=())
    kind: Literal["provisioned"] = "provisioned"

    def to_record(self) -> dict[str, object]:
        return asdict(self)


# --- AWS plumbing ------------------------------------------------------------------------


def _set_variable(lam: LambdaClient, name: str, variables: dict[str, str]) -> None:
    with aws_errors(f"updating the environment of {name}"):
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def _invoke(lam: LambdaClient, name: str, qualifier: str) -> tuple[InvokeSample, ReportLine | None]:
    started = time.time()
    t0 = time.perf_counter()
    try:
        with aws_errors(f"invoking {name}:{qualifier}"):
            resp = lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}", LogType="Tail")
            resp["Payload"].read()
    except TargetError as exc:
        ms = (time.perf_counter() - t0) * 1000.0
        return InvokeSample(started, ms, error=exc.one_line()), None
    ms = (time.perf_counter() - t0) * 1000.0
    headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    request_id = headers.get("x-amzn-requestid")
    tail: ReportLine | None = None
    log_result = resp.get("LogResult")
    if log_result:  # AWS returns the last 4 KB of the log, REPORT line included
        try:
            tail = parse_report(
                base64.b64decode(log_result).decode("utf-8", "replace"), time.time()
            )
        except ValueError:
            tail = None
    error = resp.get("FunctionError")
    sample = InvokeSample(
        started_at=started,
        client_ms=ms,
        request_id=request_id,
        executed_version=resp.get("ExecutedVersion"),
        error=f"function error: {error}" if error else None,
    )
    return sample, tail


def _report_lines(
    logs: CloudWatchLogsClient, name: str, start: float, end: float
) -> list[ReportLine]:
    out: list[ReportLine] = []
    kwargs: dict[str, Any] = {
        "logGroupName": f"/aws/lambda/{name}",
        "startTime": int(start * 1000),
        "endTime": int(end * 1000) + 1,
        "filterPattern": '"REPORT RequestId"',
    }
    while True:
        try:
            with aws_errors(f"reading the logs of {name}"):
                page = logs.filter_log_events(**kwargs)
        except ResourceNotFound:
            return out  # no log group yet: nothing has been logged
        for event in page.get("events", []):
            line = parse_report(event.get("message", ""), event.get("timestamp", 0) / 1000.0)
            if line is not None:
                out.append(line)
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return out
        kwargs["nextToken"] = token


def _window(sample: InvokeSample) -> tuple[float, float]:
    """When `sample`'s REPORT line can have been logged: between the client sending the
    request and receiving the answer (log timestamps are whole milliseconds)."""
    return sample.started_at - _SLACK_S, sample.started_at + sample.client_ms / 1000.0 + _SLACK_S


def match_reports(
    samples: Sequence[InvokeSample],
    lines: Sequence[ReportLine],
    found: dict[int, ReportLine],
) -> None:
    """Add to `found` (sample index -> REPORT line) the lines of the samples not yet in it:
    by request id where the sample has one, then by time window for the rest.

    Without ids, each line goes to an invocation that was in flight when it was logged,
    and as many invocations as possible get one. Concurrent invocations (the provisioned
    probe) have overlapping windows, and one that starts later may return sooner: giving
    each invocation, in start order, the earliest free line in its window can take the
    only line a shorter, nested window had (and then that invocation has none, however
    long one waits). So lines are taken in time order and each goes to the unmatched
    invocation, among those whose window holds it, whose window closes first (Glover's
    rule for intervals and points; it finds a maximum matching). Which of several
    overlapping invocations gets which line is then a choice, not an observation; the
    set of lines matched to the group is what the caller may rely on.
    """
    used = {line.request_id for line in found.values()}
    by_id = {line.request_id: line for line in lines}
    for i, s in enumerate(samples):
        if i not in found and s.request_id and s.request_id in by_id:
            found[i] = by_id[s.request_id]
            used.add(s.request_id)
    open_ = [i for i in range(len(samples)) if i not in found and not samples[i].request_id]
    windows = {i: _window(samples[i]) for i in open_}
    for line in sorted(lines, key=lambda line: line.timestamp):
        if line.request_id in used:
            continue
        holding = [i for i in open_ if windows[i][0] <= line.timestamp <= windows[i][1]]
        if not holding:
            continue
        i = min(holding, key=lambda k: (windows[k][1], windows[k][0]))
        found[i] = line
        used.add(line.request_id)
        open_.remove(i)


def _attach_reports(
    logs: CloudWatchLogsClient,
    name: str,
    pairs: Sequence[tuple[InvokeSample, ReportLine | None]],
    deadline_s: float,
    poll_s: float,
) -> list[InvokeSample]:
    """Match each invocation with its REPORT line (by request id, else by time window)."""
    samples = [s for s, _ in pairs]
    found: dict[int, ReportLine] = {i: t for i, (_, t) in enumerate(pairs) if t is not None}
    if len(found) < len(samples):
        start = min(s.started_at for s in samples) - 1.0
        end = max(_window(s)[1] for s in samples) + 2.0
        deadline = time.monotonic() + deadline_s
        while True:
            match_reports(samples, _report_lines(logs, name, start, end), found)
            if len(found) == len(samples) or time.monotonic() >= deadline:
                break
            time.sleep(poll_s)  # logs arrive asynchronously (seconds on AWS)
    out = []
    for i, s in enumerate(samples):
        match = found.get(i)
        if match is None:
            out.append(s)
        else:
            out.append(
                InvokeSample(
                    s.started_at,
                    s.client_ms,
                    s.request_id or match.request_id,
                    s.executed_version,
                    match.init_duration_ms,
                    match.duration_ms,
                    True,
                    s.error,
                )
            )
    return out


# --- probes ------------------------------------------------------------------------------


def _judge_cold(
    cold: InvokeSample, warm: Sequence[InvokeSample], budget_ms: float
) -> tuple[Outcome, str]:
    if cold.error is not None:
        return "failed", f"cold invocation failed: {cold.error}"
    if not cold.report_found:
        return (
            "failed",
            "no REPORT line found for the cold invocation (logs not delivered in time?)",
        )
    if cold.init_duration_ms is None:
        return (
            "failed",
            "the forced invocation reported no Init Duration: no cold start was observed",
        )
    problems = []
    if cold.client_ms > budget_ms:
        problems.append(
            f"cold start took {cold.client_ms:.1f} ms client-side, budget {budget_ms:g} ms"
        )
    warm_cold = sum(1 for s in warm if s.cold)
    if warm_cold:
        problems.append(f"{warm_cold} of {len(warm)} warm invocations reported Init Duration")
    errors = sum(1 for s in warm if s.error)
    if errors:
        problems.append(f"{errors} of {len(warm)} warm invocations failed")
    if problems:
        return "failed", "; ".join(problems)
    return "ok", ""


def probe_cold_start(
    target: Target,
    function: FunctionSpec,
    *,
    warm_requests: int = 5,
    clients: Clients | None = None,
    timing: ProbeTiming = ProbeTiming(),
    ledger: Ledger | None = None,
) -> ColdStartResult:
    """Force and measure one cold start of `function` ($LATEST); see the module docstring."""
    clients = clients or Clients(target)
    lam, logs = clients.lambda_(), clients.logs()
    name = function.name
    budget = target.slos.cold_start_ms
    from ..chaos.context import identity_of
    from ..chaos.ledger import DEFAULT_LEDGER, Ledger
    from ..chaos.undo import config_change, undo_entry

    ledger = ledger or Ledger(DEFAULT_LEDGER)
    with aws_errors(f"reading the configuration of {name}"):
        cfg = lam.get_function_configuration(FunctionName=name)
    original = dict(cfg.get("Environment", {}).get("Variables", {}))
    touched = {**original, COLDSTART_VARIABLE: uuid.uuid4().hex[:12]}
    step = config_change(name, original, touched, [], [], 0, None)
    entry = ledger.record(
        "coldstart",
        name,
        f"cold-start touch {COLDSTART_VARIABLE} on {name}:$LATEST",
        identity_of(target),
        [step],
    )
    restored = False
    conflicts: list[str] = []
    try:
        _set_variable(lam, name, touched)
        ledger.mark_injected(entry.id)
        wait_function_updated(clients, name, timing.update_deadline_s, timing.poll_s)
        pairs = [_invoke(lam, name, LATEST)]
        pairs += [_invoke(lam, name, LATEST) for _ in range(warm_requests)]
        samples = _attach_reports(logs, name, pairs, timing.log_deadline_s, timing.poll_s)
    finally:
        try:  # only the touched variable, and only if it still holds the touch
            conflicts = undo_entry(ledger, entry, clients)
            restored = not conflicts
        except TargetError:
            restored = False
    cold, warm = samples[0], tuple(samples[1:])
    outcome, reason = _judge_cold(cold, warm, budget)
    if not restored:
        outcome = "failed"
        reason = "; ".join(
            r
            for r in (reason, f"could not restore {COLDSTART_VARIABLE} on {name}", *conflicts)
            if r
        )
    return ColdStartResult(name, LATEST, outcome, reason, budget, cold, warm, restored)


def probe_provisioned(
    target: Target,
    function: FunctionSpec,
    *,
    clients: Clients | None = None,
    max_concurrent: int = 5,
    timing: ProbeTiming = ProbeTiming(),
) -> ProvisionedResult:
    """Check that provisioned concurrency declared on `function` is READY and serves warm."""
    clients = clients or Clients(target)
    lam, logs = clients.lambda_(), clients.logs()
    name, alias, declared = function.name, function.alias, function.provisioned_concurrency
    try:
        with aws_errors(f"reading provisioned concurrency of {name}:{alias}"):
            cfg = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=alias)
    except TargetError as exc:
        return ProvisionedResult(
            name, alias, declared, "failed",
            f"no provisioned concurrency on {name}:{alias} ({exc.one_line()}); "
            f"fix: put_provisioned_concurrency_config(FunctionName={name!r}, Qualifier={alias!r}, "
            f"ProvisionedConcurrentExecutions={declared})",
        )  # fmt: skip
    status = cfg.get("Status")
    allocated = cfg.get("AllocatedProvisionedConcurrentExecutions")
    if status != "READY":
        return ProvisionedResult(
            name, alias, declared, "failed", f"provisioned concurrency is {status}, not READY",
            status, allocated,
        )  # fmt: skip
    n = max(1, min(declared, max_concurrent, allocated or declared))
    with ThreadPoolExecutor(max_workers=n) as pool:
        pairs = list(pool.map(lambda _: _invoke(lam, name, alias), range(n)))
    samples = tuple(_attach_reports(logs, name, pairs, timing.log_deadline_s, timing.poll_s))
    cold = [s for s in samples if s.cold]
    unknown = [s for s in samples if s.cold is None]
    if cold:
        outcome: Outcome = "failed"
        reason = f"{len(cold)} of {n} concurrent invocations through {alias} started cold"
    elif unknown:
        outcome, reason = "failed", f"no REPORT line for {len(unknown)} of {n} invocations"
    else:
        outcome, reason = "ok", ""
    return ProvisionedResult(name, alias, declared, outcome, reason, status, allocated, samples)


def run_cold_starts(
    target: Target,
    functions: Sequence[FunctionSpec] | None = None,
    *,
    warm_requests: int = 5,
    clients: Clients | None = None,
    on_result: Callable[[ColdStartResult | ProvisionedResult], None] | None = None,
    timing: ProbeTiming = ProbeTiming(),
    ledger: Ledger | None = None,
) -> list[ColdStartResult | ProvisionedResult]:
    """Probe every function (default: all of the target's), then its provisioned concurrency."""
    clients = clients or Clients(target)
    out: list[ColdStartResult | ProvisionedResult] = []
    for fn in functions if functions is not None else target.functions:
        results: list[ColdStartResult | ProvisionedResult] = [
            probe_cold_start(
                target,
                fn,
                warm_requests=warm_requests,
                clients=clients,
                timing=timing,
                ledger=ledger,
            )
        ]
        if fn.provisioned_concurrency > 0:
            results.append(probe_provisioned(target, fn, clients=clients, timing=timing))
        for result in results:
            out.append(result)
            if on_result is not None:
                on_result(result)
    return out
