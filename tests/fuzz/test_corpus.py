"""The hostile-input corpus of issue 16, rebuilt, as regression cases.

Each case in corpus/*.yml is a file the harness reads (or an option value) and the command
line that reads it. Every case must exit with its documented code (2: bad input) after one
line on stderr starting `gameday: `, never a traceback, and within the per-case timeout
(a hang fails the test). Cases run in-process (tests/fuzz/cli.py), each in its own
directory, so nothing outside tmp_path is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import SAFE_TARGET, run

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
_REPEAT = re.compile(r"\{\{REPEAT:(.*?):(\d+)\}\}", re.DOTALL)


def _bases() -> dict[str, str]:
    return {
        "target": SAFE_TARGET,
        "experiment": (ROOT / "experiments" / "faulty-canary.json").read_text(encoding="utf-8"),
        "plan": "name: fuzz\nphases:\n  - phase: conformance\n  - phase: synthetics\n"
        "    probes: 5\n",
        "check": 'name = "health"\nendpoint = "/health"\n[expect]\nhealth = true\n',
    }


def _expand(text: str) -> str:
    return _REPEAT.sub(lambda m: m[1] * int(m[2]), text)


def _content(case: dict[str, Any]) -> bytes | None:
    if case.get("write", True) is False:
        return None
    if "hex" in case:
        return bytes.fromhex(str(case["hex"]).replace(" ", ""))
    if "json" in case:  # a document built from YAML, written as JSON (NaN allowed)
        return json.dumps(case["json"]).encode()
    text = _bases()[case["base"]] if "base" in case else str(case.get("text", ""))
    for old, new in case.get("replace", []):
        assert old in text, f"{case['id']}: {old!r} is not in the base"
        text = text.replace(old, new)
    if "edit" in case:  # JSON documents: set keys by path
        doc = json.loads(text)
        for path, value in case["edit"]:
            _set(doc, path, value)
        text = json.dumps(doc)
    text = str(case.get("prepend", "")) + text + str(case.get("append", ""))
    return _expand(text).encode("utf-8", errors="surrogatepass")


def _set(doc: Any, path: str, value: Any) -> None:
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        doc = doc[part]
    if value == "<delete>":
        del doc[parts[-1]]
    else:
        doc[parts[-1]] = value


def _cases() -> list[Any]:
    params = []
    for manifest in sorted(CORPUS.glob("*.yml")):
        spec = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            merged = {"argv": spec["argv"], "file": spec.get("file"), "exit": 2, **case}
            params.append(pytest.param(merged, id=f"{spec['category']}/{case['id']}"))
    return params


CASES = _cases()


def test_corpus_size() -> None:
    # issue 16: 30 target files, 29 plans, 26 experiments, 18 check files, 16 thresholds,
    # 44 option values - at least that many, rebuilt.
    per_category: dict[str, int] = {}
    for p in CASES:
        category = p.id.split("/")[0]
        per_category[category] = per_category.get(category, 0) + 1
    assert per_category["targets"] >= 30
    assert per_category["plans"] >= 29
    assert per_category["experiments"] >= 26
    assert per_category["checks"] >= 18
    assert per_category["thresholds"] >= 16
    assert per_category["options"] >= 44
    assert len(CASES) >= 165


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: dict[str, Any], tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "target.toml").write_text(SAFE_TARGET, encoding="utf-8")
    (work / "existing.jsonl").write_text("an earlier run's results\n", encoding="utf-8")
    (work / "empty-dir").mkdir()
    file = work / (case["file"] or "input")
    content = _content(case)
    if content is not None:
        file.write_bytes(content)
    values = {
        "file": str(file),
        "target": str(work / "target.toml"),
        "tmp": str(work / "empty-dir"),
        "existing": str(work / "existing.jsonl"),
        "out": str(work / "out.jsonl"),
        "expr": str(case.get("expr", "")),
    }
    argv = [_expand(_expand(str(a)).format(**values)) for a in case["argv"]]
    outcome = run(argv, work)
    assert "Traceback" not in outcome.stderr + outcome.stdout
    assert outcome.code == case["exit"], outcome.stderr[:500]
    lines = outcome.error_lines
    assert len(lines) == 1, outcome.stderr[:1000]
    assert lines[0].startswith("gameday: ")
    assert len(lines[0]) < 1200, "an error line quotes a bounded part of the input"
    if "stderr" in case:
        assert case["stderr"] in lines[0]
    # bad input leaves nothing behind: no results file, no report, no harness-error log
    assert (work / "existing.jsonl").read_text() == "an earlier run's results\n"
    assert not (work / ".gameday" / "logs").exists()
    assert not (work / "out.jsonl").exists()
