"""JUnit XML (`junit.xml`): one testsuite per phase, one testcase per SLO, finding or
experiment, so CI systems show a game day like a test run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..gameday.model import PhaseResult, RunResult
from ..redact import redact

__all__ = ["render_junit", "write_junit"]


def _case(suite: ET.Element, phase: PhaseResult, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", classname=f"gameday.{phase.name}", name=name, time=f"{seconds:.3f}"
    )


def _suite(root: ET.Element, phase: PhaseResult) -> None:
    suite = ET.SubElement(root, "testsuite", name=phase.name, timestamp=_iso(phase.started_at))
    tests = failures = errors = skipped = 0
    for slo in phase.slos:
        case = _case(suite, phase, f"{slo.label} {slo.subject}", 0.0)
        tests += 1
        if slo.inconclusive:  # not enough evidence: neither a pass nor a failure
            skipped += 1
            ET.SubElement(case, "skipped", message=redact(f"INCONCLUSIVE: {slo.sentence()}"))
        elif not slo.passed:
            failures += 1
            ET.SubElement(case, "failure", message=redact(slo.sentence()), type="SLO")
    for t in phase.timelines:
        case = _case(suite, phase, f"experiment {t.experiment}", 0.0)
        tests += 1
        if not t.passed:
            failures += 1
            msg = f"{t.experiment}: {t.broken_phase or 'did not recover within the budget'}"
            ET.SubElement(case, "failure", message=redact(msg), type="MTTR")
    for f in phase.findings:
        case = _case(suite, phase, f"{f.resource}: {f.text}"[:200], 0.0)
        tests += 1
        if f.severity == "error":
            failures += 1
            ET.SubElement(case, "failure", message=redact(f.text), type="finding").text = redact(
                f.fix
            )
    if phase.status in ("error", "interrupted", "skipped", "unusable") or tests == 0:
        case = _case(suite, phase, f"phase {phase.name}", phase.duration_s)
        tests += 1
        if phase.status == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=redact(phase.message))
        elif phase.status in ("error", "interrupted", "unusable"):
            errors += 1
            ET.SubElement(case, "error", message=redact(phase.message), type=phase.status)
        elif phase.status == "failed":
            failures += 1
            ET.SubElement(case, "failure", message=redact(phase.message), type="phase")
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{phase.duration_s:.3f}")


def _iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def render_junit(run: RunResult) -> str:
    root = ET.Element("testsuites", name=f"gameday {run.plan} on {run.target}")
    for phase in run.phases:
        _suite(root, phase)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in root)))
    root.set("time", f"{run.duration_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(run: RunResult, out_dir: Path) -> Path:
    path = out_dir / "junit.xml"
    path.write_text(render_junit(run), encoding="utf-8")
    return path
