"""Synthetic checks: definitions, the httpx check runner, results, and what is built on them
(cold-start probe, availability monitor, conformance checklist, publishing)."""

from __future__ import annotations

from .definitions import CheckDefinition, DefinitionError, load_check, load_checks, resolve_url
from .engine import CheckRunner, definition_failure, judge
from .results import CheckResult, EndpointStats, ResultsWriter, Timing, load_results, summarize

__all__ = [
    "CheckDefinition",
    "CheckResult",
    "CheckRunner",
    "DefinitionError",
    "EndpointStats",
    "ResultsWriter",
    "Timing",
    "definition_failure",
    "judge",
    "load_check",
    "load_checks",
    "load_results",
    "resolve_url",
    "summarize",
]
