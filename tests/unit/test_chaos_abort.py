"""A tripped stop condition interrupts its own run only, not later direct calls."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import InterruptExecution

from lambda_gameday.chaos import faults


def test_abort_interrupts_only_while_a_run_is_in_progress() -> None:
    faults.reset_abort()
    try:
        faults.IN_RUN.set()
        faults.request_abort("availability fell below the floor")
        with pytest.raises(InterruptExecution, match="availability fell below the floor"):
            faults.check_abort()
        # WHEN the run ends THEN the reason survives for the report but nothing is refused
        faults.IN_RUN.clear()
        faults.check_abort()
        assert faults.ABORT.is_set()
        assert faults.abort_reason() == "availability fell below the floor"
    finally:
        faults.IN_RUN.clear()
        faults.reset_abort()
