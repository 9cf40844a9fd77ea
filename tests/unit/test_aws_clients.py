"""The client cache is shared by activities and the safety watcher thread: many threads
asking at once still get one client per service, made once."""

from __future__ import annotations

import threading
from typing import Any

from lambda_gameday.aws import Clients
from lambda_gameday.config import sandbox_target

SERVICES = ("lambda", "cloudwatch", "sns", "sqs", "ssm", "codedeploy")


def test_threads_hammering_the_cache_get_one_client_per_service() -> None:
    # nothing is sent: making a client needs no endpoint to answer
    clients = Clients(sandbox_target("http://127.0.0.1:9", "http://127.0.0.1:9"))
    made: list[str] = []
    session = clients.session
    make = session.client

    def counting(service: str, **kw: Any) -> Any:
        made.append(service)
        return make(service, **kw)  # type: ignore[call-overload]

    session.client = counting  # type: ignore[method-assign, assignment]
    workers = 16
    start = threading.Barrier(workers)
    got: list[tuple[str, int]] = []
    lock = threading.Lock()

    def hammer(offset: int) -> None:
        start.wait()
        for i in range(len(SERVICES) * 4):
            service = SERVICES[(offset + i) % len(SERVICES)]
            c = clients.client(service)
            with lock:
                got.append((service, id(c)))

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert len(got) == workers * len(SERVICES) * 4
    # THEN every service was made exactly once, and every thread got that one object
    assert sorted(made) == sorted(SERVICES)
    for service in SERVICES:
        assert len({ident for s, ident in got if s == service}) == 1, service
