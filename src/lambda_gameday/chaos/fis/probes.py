"""Chaos Toolkit probes of the FIS backend.

fis_ready              the preflight: the function carries the FIS extension, the
                       configuration location is readable, an experiment role is set
fis_experiment_state   this run's FIS experiments and their status and reason
"""

from __future__ import annotations

from typing import TypedDict

from ..faults import scope
from .actions import FisNotReady
from .experiment import experiments_for_token, read_experiment
from .setup import preflight

__all__ = ["ExperimentState", "fis_experiment_state", "fis_ready"]


class ExperimentState(TypedDict):
    id: str
    status: str
    reason: str


def fis_ready(
    function_name: str,
    alias: str | None = None,
    configuration: dict[str, object] | None = None,
) -> bool:
    """True when `function_name` (or the version `alias` serves) is set up for FIS; else
    raise FisNotReady, one line per missing item with its fix."""
    sc = scope(configuration)
    problems = preflight(sc.clients, sc.target, function_name, alias)
    if problems:
        raise FisNotReady(f"{function_name}:{alias}" if alias else function_name, problems)
    return True


def fis_experiment_state(
    configuration: dict[str, object] | None = None,
) -> list[ExperimentState]:
    """Status and reason of each FIS experiment this run started (found by the ledger
    tags of its templates)."""
    sc = scope(configuration)
    out: list[ExperimentState] = []
    for entry in sc.ledger.entries():
        token = entry.extra.get("fis_token")
        if entry.run_id != sc.ledger.run_id or not token:
            continue
        for exp_id in experiments_for_token(sc.clients, token):
            exp = read_experiment(sc.clients, exp_id)
            out.append(ExperimentState(id=exp.id, status=exp.status, reason=exp.reason))
    return out
