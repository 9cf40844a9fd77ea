"""The fault ledger: append-only, survives a cut last line, tracks open entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_gameday.chaos.ledger import Ledger, TargetRef
from lambda_gameday.exceptions import ConfigError

REF = TargetRef(
    name="t",
    kind="sandbox",
    region="ap-south-1",
    endpoint_url="http://127.0.0.1:1",
    profile=None,
    source="<test>",
)


def test_entries_open_until_undone_newest_first(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.jsonl", run_id="r1")
    a = ledger.record(
        "concurrency",
        "fn",
        "throttle fn",
        REF,
        [{"op": "restore_concurrency", "function": "fn", "reserved": None}],
    )
    b = ledger.record(
        "alias",
        "fn:production",
        "shift",
        REF,
        [
            {
                "op": "restore_alias",
                "function": "fn",
                "alias": "production",
                "version": "1",
                "weights": {},
            }
        ],
    )
    ledger.mark_injected(a.id, 5.0)
    assert [e.id for e in ledger.open_entries()] == [b.id, a.id]
    ledger.mark_undone(b.id)
    again = Ledger(tmp_path / "l.jsonl")  # another process reading the same file
    (only,) = again.open_entries()
    assert only.id == a.id and only.injected_at == 5.0 and only.run_id == "r1"
    assert only.undo[0]["op"] == "restore_concurrency"


def test_a_cut_or_corrupt_line_is_reported_by_number_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    ledger = Ledger(path)
    first = ledger.record("ssm", "/p", "param", REF, [])
    with path.open("a") as f:
        f.write('{"op": "fault", "id": "x", "at"')  # SIGKILL mid-write
    assert [e.id for e in ledger.entries()] == [first.id]
    assert ledger.problems == [f"{path}:2: skipped a line cut short"]
    # corruption before good lines, a record missing its time, then a later entry
    path.write_text(
        "garbage\n"
        + path.read_text().split("\n")[0]
        + '\n{"op": "fault", "id": "y", "kind": "ssm"}\n'
    )
    second = ledger.record("ssm", "/q", "param q", REF, [])
    assert [e.id for e in ledger.open_entries()] == [second.id, first.id]
    assert ledger.problems == [
        f"{path}:1: skipped not a ledger record",
        f"{path}:3: skipped a fault record (no time ('at'))",
    ]


def test_filters_by_run_kind_and_resource(tmp_path: Path) -> None:
    one, two = Ledger(tmp_path / "l", run_id="1"), Ledger(tmp_path / "l", run_id="2")
    one.record("concurrency", "a", "a", REF, [])
    two.record("concurrency", "b", "b", REF, [])
    two.record("ssm", "b", "b2", REF, [])
    assert [e.description for e in one.open_entries(run_id="2", kind="concurrency")] == ["b"]
    assert [e.description for e in one.open_entries(resource="b")] == ["b2", "b"]


def test_unwritable_ledger_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="cannot write the fault ledger"):
        Ledger(tmp_path / "f" / "l.jsonl").record("ssm", "p", "d", REF, [])


def test_journal_redaction_masks_declared_secrets_keys_and_url_passwords() -> None:
    from lambda_gameday.redact import REDACTED, redact_journal

    journal = {
        "experiment": {
            "secrets": {"slack": {"token": "xoxb-123456", "ref": {"type": "env", "key": "TOK"}}}
        },
        "run": [{"output": "posted with xoxb-123456 to https://u:pw@hooks.example/x"}],
        "gameday": {"webhook_url": "https://hooks.example/abc", "alarm": "a"},
    }
    redact_journal(journal, {"slack": {"token": "xoxb-123456"}})
    text = str(journal)
    assert "xoxb-123456" not in text and ":pw@" not in text and "hooks.example/abc" not in text
    assert journal["experiment"]["secrets"]["slack"]["token"] == REDACTED
    assert journal["experiment"]["secrets"]["slack"]["ref"] == {"type": "env", "key": "TOK"}
    assert journal["gameday"]["alarm"] == "a"


def test_restore_steps_in_the_method_say_who_recovered() -> None:
    from lambda_gameday.chaos.milestones import milestones_from_journal

    def step(func: str, output: object) -> dict[str, object]:
        return {
            "activity": {"provider": {"module": "lambda_gameday.chaos.x", "func": func}},
            "status": "succeeded",
            "start": "2026-01-01T00:00:01+00:00",
            "end": "2026-01-01T00:00:02+00:00",
            "output": output,
        }

    throttled = milestones_from_journal({"run": [step("restore_concurrency", ["reserved 0"])]})
    assert throttled.fault_removed_by_harness is not None
    assert throttled.alias_restored is None and throttled.rollback_started is None
    alias = milestones_from_journal({"run": [step("restore_alias", ["alias production"])]})
    assert alias.alias_restored is not None and alias.fault_removed_by_harness is None
    # nothing undone (an automatic rollback already restored it): no milestone at all
    nothing = milestones_from_journal({"run": [step("restore_alias", [])]})
    assert nothing.alias_restored is None
