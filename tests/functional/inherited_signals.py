"""Start a child process with SIGINT ignored, as a job a non-interactive shell started with
`&` inherits it (POSIX: asynchronous lists ignore SIGINT and SIGQUIT without job control).

A suite launched that way (`pytest ... &` in a script) passes SIG_IGN to every process a test
starts, and Python then installs no KeyboardInterrupt handler: a test of Ctrl-C that does not
pin the disposition checks something different depending on how the suite was launched.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_ignored_in_children() -> Iterator[None]:
    """Children started in this block inherit SIGINT as ignored (the test runs on the main
    thread; an ignored disposition survives exec, a handler does not)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
