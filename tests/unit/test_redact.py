"""One redaction module: reports, journals and logs mask the same way, with one marker."""

from __future__ import annotations

import logging

import pytest

from lambda_gameday.redact import REDACTED, RedactingFilter, redact, redact_data


def test_text_structures_and_logs_share_one_marker(caplog: pytest.LogCaptureFixture) -> None:
    text = "used AKIAABCDEFGHIJKLMNOP and password=hunter22 at https://u:pw@example.com/x"
    assert redact(text).count(REDACTED) == 3 and "hunter22" not in redact(text)
    data = redact_data({"db_password": "s3cr3t!", "note": ["key AKIAABCDEFGHIJKLMNOP"]})
    assert data == {"db_password": REDACTED, "note": [f"key {REDACTED}"]}
    assert redact_data({"msg": "the value abcd1234"}, {"abcd1234"}) == {
        "msg": f"the value {REDACTED}"
    }
    log = logging.getLogger("test-redact")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test-redact"):
        log.info("calling with %s", "token=abcdefgh")
    assert caplog.messages == [f"calling with token={REDACTED}"]
    assert redact("p95 of /health was 143 ms") == "p95 of /health was 143 ms"
