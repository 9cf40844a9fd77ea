"""Is the target there at all? A network-level check of its API and AWS endpoint.

A game day must not judge a target it cannot reach: connection refused, a name that does
not resolve or a port that never answers means every probe failure, missed alarm and
threshold breach measured the network, not the platform. The orchestrator asks this
before the first phase and after any phase that did not pass; a non-None answer stops
the run with exit 3 ("target unusable").
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from ..config import Target
from ..exceptions import TargetError

__all__ = ["TargetGone", "unreachable"]


class TargetGone(TargetError):
    """A target that answered before stopped answering in the middle of a phase."""


def _endpoint_problem(what: str, url: str, timeout_s: float) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return f"{what} {url!r} is not a URL ({exc})"
    if not host:
        return f"{what} {url!r} names no host"
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except socket.gaierror:
        return f"{what} host {host} does not resolve (DNS)"
    except ConnectionRefusedError:
        return f"{what} {host}:{port} refused the connection"
    except TimeoutError:
        return f"{what} {host}:{port} did not answer within {timeout_s:g} s"
    except OSError as exc:
        return f"{what} {host}:{port} is unreachable ({exc.strerror or exc})"


def unreachable(target: Target, *, timeout_s: float = 3.0) -> str | None:
    """Why the target's API or AWS endpoint cannot be reached, or None when both connect.

    Only a TCP connect (and DNS): no request is sent, so it costs nothing on the target.
    The AWS API of a target without `endpoint_url` is AWS's own regional endpoint, whose
    reachability (and the credentials) the conformance phase checks.
    """
    checks = [("API", target.api_url)]
    if target.endpoint_url:
        checks.append(("AWS endpoint", target.endpoint_url))
    for what, url in checks:
        problem = _endpoint_problem(what, url, timeout_s)
        if problem is not None:
            return problem
    return None
