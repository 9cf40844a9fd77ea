"""The twin's failure-lambda denylist: lookups of matching hosts fail in the invocation's
thread only; other hosts and other threads (the harness's) resolve as usual."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from lambda_gameday.sandbox.denylist import loopback_for, run_denied


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()
    sock.close()


def connects(addr: tuple[str, int]) -> bool:
    try:
        socket.create_connection(addr, timeout=1).close()
    except OSError:
        return False
    return True


def test_matching_hosts_fail_only_inside_the_invocation(server: tuple[str, int]) -> None:
    assert connects(server)
    with pytest.raises(socket.gaierror, match="failure-lambda denylist"):
        run_denied([r"^127\.0\.0\.1$"], lambda: socket.create_connection(server, timeout=1))
    # a pattern for another host leaves this one alone
    assert run_denied([r"^db\.example\.com$"], lambda: connects(server))
    # and after the invocation, and in every other thread meanwhile, lookups work
    assert connects(server)
    seen: list[bool] = []
    gate = threading.Event()

    def invocation() -> bool:
        t = threading.Thread(target=lambda: seen.append(connects(server)))
        t.start()
        t.join(5)
        gate.set()
        return connects(server)

    assert run_denied([r"127\.0\.0\.1"], invocation) is False
    assert gate.is_set() and seen == [True]


def test_each_stand_in_dependency_gets_a_loopback_of_its_own() -> None:
    db, redis = loopback_for("database", "127.0.0.1"), loopback_for("redis", "127.0.0.1")
    assert db.startswith("127.") and redis.startswith("127.")
    if db != "127.0.0.1":  # Linux: all of 127/8 is local
        assert len({db, redis, "127.0.0.1"}) == 3
    assert loopback_for("database", "::1") == "::1"  # only the usual default is replaced
