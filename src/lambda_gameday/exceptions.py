"""The harness's exceptions: one root, each class carrying its exit code.

    GamedayError                 exit 4  a run failed for a reason not listed below
    ├── ConfigError              exit 2  bad input: target file, plan, experiment, check, threshold
    ├── TargetError              exit 3  the target can't be used: unreachable, no credentials,
    │   │                                throttled API, missing resource
    │   └── ResourceNotFound     exit 3  a function, alias, alarm or group the input names is absent
    ├── SafetyError              exit 5  refused: destructive work against production without a flag
    ├── VerdictFailed            exit 1  the run completed and an SLO or threshold was breached
    └── VerdictInconclusive      exit 6  the run completed, nothing was breached, but an SLO
                                         lacked the evidence to be asserted (too few probes)

Exit code 130 means interrupted (Ctrl-C / SIGTERM) after cleanup. Errors map to exit
codes at the CLI edge only; everything below raises.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GamedayError",
    "ResourceNotFound",
    "SafetyError",
    "TargetError",
    "VerdictFailed",
    "VerdictInconclusive",
]


class GamedayError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code = 4

    def one_line(self) -> str:
        """The message as a single line, for the CLI's error output."""
        return " ".join(str(self).split())


class ConfigError(GamedayError):
    """Input the user wrote is invalid; the message names the file, key and what is allowed."""

    exit_code = 2


class TargetError(GamedayError):
    """The target could not be reached or used (network, credentials, throttling)."""

    exit_code = 3


class ResourceNotFound(TargetError):
    """A resource named by the input does not exist on the target."""


class SafetyError(GamedayError):
    """Refused to do destructive work without an explicit flag."""

    exit_code = 5


class VerdictFailed(GamedayError):
    """The run finished but an SLO or threshold was breached."""

    exit_code = 1


class VerdictInconclusive(GamedayError):
    """The run finished, nothing was breached, but an SLO could not be asserted (too few
    samples for its confidence bound). Neither a pass (0) nor a breach (1): its own code,
    so a CI gate decides whether "not proven" blocks a release."""

    exit_code = 6
