"""Ledger identity matching, compaction, and the fail-closed target the stock `chaos run`
builds without a target file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_gameday.chaos.context import target_from
from lambda_gameday.chaos.guard import refuse_unless_allowed
from lambda_gameday.chaos.ledger import Ledger, TargetRef, UndoStep, same_target
from lambda_gameday.chaos.run import RunContext
from lambda_gameday.exceptions import SafetyError


def ref(
    account: str | None = "111111111111", endpoint: str | None = "http://127.0.0.1:1"
) -> TargetRef:
    r = TargetRef(
        name="t", kind="sandbox", region="ap-south-1", endpoint_url=endpoint, profile=None,
        source="<test>",
    )  # fmt: skip
    if account is not None:
        r["account_id"] = account
    return r


def test_identity_is_account_region_endpoint_and_name() -> None:
    assert same_target(ref(), ref(endpoint="HTTP://127.0.0.1:1/"))
    assert not same_target(ref(), ref(account="222222222222"))
    assert not same_target(ref(), ref(endpoint="http://127.0.0.1:2"))
    assert not same_target(ref(), {**ref(), "region": "us-east-1"})  # type: ignore[typeddict-item]
    assert not same_target(ref(), {**ref(), "name": "other"})  # type: ignore[typeddict-item]
    # an entry recorded without an identity matches nothing, not even itself
    assert not same_target(ref(account=None), ref(account=None))


def test_compaction_drops_only_old_undone_entries(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    ledger = Ledger(path)
    old, recent, still_open = (ledger.record("ssm", n, n, ref(), []) for n in "abc")
    ledger.mark_undone(old.id)
    ledger.mark_undone(recent.id)
    lines = path.read_text().splitlines()
    # make `old`'s undo an hour and a half in the past (records are what a run wrote)
    rewritten = []
    for line in lines:
        record = json.loads(line)
        if record["op"] == "undone" and record["id"] == old.id:
            record["at"] -= 5400
        rewritten.append(json.dumps(record))
    path.write_text("\n".join(rewritten) + "\nnot json\n")
    assert ledger.compact(older_than_s=3600) == 1
    assert [e.id for e in ledger.entries()] == [recent.id, still_open.id]
    assert [e.id for e in ledger.open_entries()] == [still_open.id]
    assert "not json" in path.read_text()  # unreadable lines are kept, not destroyed
    assert ledger.compact(older_than_s=3600) == 0


def test_every_undo_op_reads_back_from_the_ledger(tmp_path: Path) -> None:
    # the SNS subscription fault records restore_queue_policy: an open entry holding it must
    # be readable by `gameday cleanup` in another process, not skipped as unreadable
    ledger = Ledger(tmp_path / "l.jsonl")
    step: UndoStep = {"op": "restore_queue_policy", "queue_name": "q", "policy": None}
    entry = ledger.record("subscription", "q", "subscribe q", ref(), [step])
    assert [e.id for e in Ledger(tmp_path / "l.jsonl").open_entries()] == [entry.id]


def test_a_target_built_without_a_file_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GAMEDAY_TARGET", "GAMEDAY_STAGE", "GAMEDAY_ENVIRONMENT", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("GAMEDAY_ALLOW_PRODUCTION", raising=False)
    base = {"aws_region": "ap-south-1"}
    loopback = target_from({**base, "gameday_endpoint_url": "http://127.0.0.1:4566"})
    assert loopback.kind == "sandbox" and loopback.environment == "dev"
    # no endpoint (real AWS) or a non-loopback one, with no declared class: production
    for conf in (base, {**base, "gameday_endpoint_url": "https://lambda.example.com"}):
        t = target_from(conf)
        assert t.kind == "aws" and t.is_production
        with pytest.raises(SafetyError, match="GAMEDAY_ALLOW_PRODUCTION=1"):
            refuse_unless_allowed(t, RunContext(), "a fault")
    # GAMEDAY_STAGE=production is production, even on loopback
    monkeypatch.setenv("GAMEDAY_STAGE", "production")
    assert target_from({**base, "gameday_endpoint_url": "http://127.0.0.1:4566"}).is_production
    monkeypatch.delenv("GAMEDAY_STAGE")
    # the environment may declare a class; only the environment or the command line grants
    monkeypatch.setenv("GAMEDAY_ENVIRONMENT", "staging")
    assert target_from(base).environment == "staging"
    monkeypatch.delenv("GAMEDAY_ENVIRONMENT")
    granted = RunContext()
    granted.allow_production = True
    refuse_unless_allowed(target_from(base), granted, "a fault")
    monkeypatch.setenv("GAMEDAY_ALLOW_PRODUCTION", "1")
    refuse_unless_allowed(target_from(base), RunContext(), "a fault")


def test_the_load_phase_is_refused_against_production(tmp_path: Path) -> None:
    from lambda_gameday.config import FunctionSpec, Target
    from lambda_gameday.gameday.orchestrator import GameDay
    from lambda_gameday.gameday.plan import parse_plan

    prod = Target(
        name="prod",
        kind="aws",
        environment="production",
        region="ap-south-1",
        api_url="https://api.example.com",
        functions=(FunctionSpec("fn", "/health"),),
    )
    plan = parse_plan({"name": "p", "phases": ["load"]}, "<test>")
    with pytest.raises(SafetyError, match=r"phase 'load' .*--allow-production"):
        GameDay(plan, prod, report_parent=tmp_path).run()
    assert list(tmp_path.iterdir()) == []  # refused before anything was written
    GameDay(plan, prod, report_parent=None, allow_production=True).check_safety()


def test_a_lock_is_stale_when_its_lease_ran_out_or_its_local_holder_is_gone() -> None:
    import os
    import socket
    import subprocess
    import sys

    from lambda_gameday.lock import _proc_start, _stale

    now = 1_000.0
    here, me = socket.gethostname(), os.getpid()
    mine = {"host": here, "pid": me, "pid_start": _proc_start(me) or "", "lease_until": now + 60}
    assert not _stale(mine, now)  # alive, within its lease
    assert _stale({**mine, "lease_until": now - 1}, now)  # lease ran out
    elsewhere = {"host": "another-machine", "pid": 1, "lease_until": now + 60}
    assert not _stale(elsewhere, now)  # another machine's holder: only its lease can tell
    assert _stale({**elsewhere, "lease_until": now - 1}, now)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert _stale({**mine, "pid": int(dead.stdout)}, now)  # the holder on this machine is gone
    if mine["pid_start"]:  # a reused pid is not the holder
        assert _stale({**mine, "pid_start": "1"}, now)
    assert not _stale(None, now)  # unreadable: someone's, not ours to judge
