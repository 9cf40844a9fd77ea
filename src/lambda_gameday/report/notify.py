"""Optional: post the verdict to a Slack incoming webhook.

The webhook URL is a secret: it is never printed, logged or written to a report (errors
name only the host). The message itself goes through `redact()` as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ..exceptions import ConfigError, TargetError
from ..gameday.model import RunResult, Verdict
from ..redact import redact

__all__ = ["notify_slack", "slack_message"]

_EMOJI: dict[Verdict, str] = {
    "pass": ":white_check_mark:",
    "fail": ":x:",
    "inconclusive": ":grey_question:",
    "unusable": ":electric_plug:",
    "error": ":warning:",
    "interrupted": ":stop_sign:",
}


def slack_message(
    run: RunResult, report_url: str | None = None, *, max_failures: int = 5
) -> dict[str, str]:
    """The Slack payload: the verdict line, what failed (first few), where the report is."""
    lines = [f"{_EMOJI[run.verdict]} *{run.headline()}* ({run.duration_s:.0f} s, run {run.run_id})"]
    failures = run.failures()
    lines += [f"• {f}" for f in failures[:max_failures]]
    if len(failures) > max_failures:
        lines.append(f"• … and {len(failures) - max_failures} more")
    if report_url:
        lines.append(f"Report: {report_url}")
    return {"text": redact("\n".join(lines))}


def notify_slack(
    webhook_url: str,
    run: RunResult,
    *,
    report_url: str | None = None,
    timeout_s: float = 5.0,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """POST the verdict to `webhook_url`. Raises TargetError naming only the host."""
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError("Slack webhook: not an http(s) URL (value not shown: it is a secret)")
    host = parts.hostname
    try:
        with httpx.Client(timeout=timeout_s, transport=transport) as client:
            response = client.post(webhook_url, json=slack_message(run, report_url))
    except httpx.HTTPError as exc:
        raise TargetError(f"Slack webhook at {host}: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise TargetError(
            f"Slack webhook at {host} answered HTTP {response.status_code}: "
            f"{redact(response.text[:200])}"
        )
