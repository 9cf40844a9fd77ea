"""failure-lambda's `denylist` mode, for real: a function's outbound connections to hosts
matching the mode's patterns fail while it runs.

failure-lambda (1.x) replaces Node's `dns.lookup` for the invocation: a lookup of a host
that matches one of `deny_list`'s regular expressions fails (ENOTFOUND), so the SDK or
driver call fails as it would if the dependency were unreachable. The twin does the same in
Python: `socket.getaddrinfo` — which `socket.create_connection`, urllib3 (boto3) and httpx
all call, even for IP literals — raises `gaierror` for a matching host, but only in the
thread running an invocation of a function whose fired failure-lambda flags include
`denylist` (a thread-local set by `run_denied`). Every other thread, the harness's included,
resolves as usual.

Because all the twin's stand-in dependencies live on loopback, each gets its own loopback
address (`loopback_for`: database 127.0.0.2, Redis 127.0.0.3 on Linux, where all of
127.0.0.0/8 is local) so a host pattern can single one out, as distinct hostnames do on AWS.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["install", "loopback_for", "run_denied"]

T = TypeVar("T")

_local = threading.local()
_real_getaddrinfo = socket.getaddrinfo
_install_lock = threading.Lock()
_LOOPBACKS = {"database": "127.0.0.2", "redis": "127.0.0.3"}


def _guarded(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    patterns: tuple[re.Pattern[str], ...] | None = getattr(_local, "patterns", None)
    if patterns and host is not None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if any(p.search(name) for p in patterns):
            raise socket.gaierror(
                socket.EAI_NONAME, f"getaddrinfo ENOTFOUND {name} (failure-lambda denylist)"
            )
    return _real_getaddrinfo(host, port, *args, **kwargs)


def install() -> None:
    """Put the guarded resolver in place once per process (idempotent)."""
    with _install_lock:
        if socket.getaddrinfo is not _guarded:
            socket.getaddrinfo = _guarded


def _compiled(deny_list: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    out = []
    for pattern in deny_list:
        try:
            out.append(re.compile(pattern))
        except re.error:
            continue  # failure-lambda skips a pattern it cannot compile
    return tuple(out)


def run_denied(deny_list: Sequence[str], call: Callable[[], T]) -> T:
    """Run `call` in this thread with lookups of matching hosts failing."""
    install()
    previous = getattr(_local, "patterns", None)
    _local.patterns = _compiled(deny_list)
    try:
        return call()
    finally:
        _local.patterns = previous


def loopback_for(name: str, default: str) -> str:
    """A loopback address of its own for a stand-in dependency, when the default is the
    usual 127.0.0.1 and the system lets us bind it; else `default`."""
    addr = _LOOPBACKS.get(name)
    if addr is None or default not in ("127.0.0.1", "localhost"):
        return default
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((addr, 0))
    except OSError:
        return default
    return addr
