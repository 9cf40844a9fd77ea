"""A minimal, fast HTTP/1.1 responder on loopback, for load benchmarks and tests.

Answers every request with 200, a tiny `application/health+json` body and the serving
version in `X-Release-Id` (a header the function sets itself: API Gateway passes no
`X-Amz-Executed-Version` to clients; a target reads it with `version_source =
"header:X-Release-Id"`); keep-alive; each response written with one send (no Nagle
stalls). Optional `--delay-ms` sleeps before each response. Runs until SIGTERM/SIGINT
or `--max-seconds`, whichever comes first, and prints `PORT <n>` once listening.

    python bench/fastserver.py --port 0 --version 7 --max-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import socket
import sys
import time

BODY = b'{"status":"pass"}'


def _response(version: str) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/health+json\r\n"
        b"X-Release-Id: " + version.encode() + b"\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
        b"Connection: keep-alive\r\n\r\n" + BODY
    )


class _Protocol(asyncio.Protocol):
    def __init__(self, response: bytes, delay_s: float) -> None:
        self.response = response
        self.delay_s = delay_s
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        n = self.buffer.count(b"\r\n\r\n")  # GETs without bodies: one request per header end
        if not n:
            return
        self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4 :]
        if self.delay_s > 0:
            asyncio.get_running_loop().call_later(self.delay_s, self._send, n)
        else:
            self._send(n)

    def _send(self, n: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.response * n)


async def serve(port: int, version: str, delay_ms: float, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    response = _response(version)
    server = await loop.create_server(
        lambda: _Protocol(response, delay_ms / 1000.0), "127.0.0.1", port, backlog=1024
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max_seconds)
    server.close()


def serve_epoll(port: int, version: str, max_seconds: float) -> None:
    """The same responder as a bare epoll loop (Linux): about a third of asyncio's CPU per
    request, so on a 2-core machine the server leaves the load generators more room."""
    response = _response(version)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    conns: dict[int, socket.socket] = {}
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    deadline = time.monotonic() + max_seconds
    lfd = listener.fileno()
    while not stop and time.monotonic() < deadline:
        try:
            events = ep.poll(0.5)
        except InterruptedError:
            continue
        for fd, _ in events:
            if fd == lfd:
                with contextlib.suppress(BlockingIOError):
                    while True:
                        conn, _addr = listener.accept()
                        conn.setblocking(False)
                        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        conns[conn.fileno()] = conn
                        ep.register(conn.fileno(), select.EPOLLIN)
                continue
            try:
                data = os.read(fd, 65536)  # os.read/os.write on the fd: least Python per call
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                ep.unregister(fd)
                conns.pop(fd).close()
                continue
            n = data.count(b"\r\n\r\n")  # GETs without bodies: one request per header end
            if n:
                with contextlib.suppress(OSError):
                    os.write(fd, response if n == 1 else response * n)
    for conn in conns.values():
        conn.close()
    listener.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--version", default="1")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.delay_ms <= 0 and hasattr(select, "epoll") and not os.environ.get("FASTSERVER_ASYNCIO"):
        serve_epoll(args.port, args.version, args.max_seconds)
    else:
        asyncio.run(serve(args.port, args.version, args.delay_ms, args.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
