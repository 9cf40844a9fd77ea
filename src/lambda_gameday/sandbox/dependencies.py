"""The health functions' dependencies: real loopback TCP servers for the database and
Redis, and moto's S3 bucket.

Each dependency is controlled through the AWS API, like everything else the harness
touches: an SSM parameter `/gameday-sandbox/dependencies/<name>` holding
`{"state": "up"|"down", "latency_ms": N}`. The data plane watches the parameters and
applies them here: `down` closes the listening socket (connection refused), `latency_ms`
delays every reply. S3 is slowed or failed by an interceptor on the sandbox's S3 API for
the dependency bucket.

The database speaks a one-line protocol (`SELECT 1\\n` -> `1\\n`); Redis answers RESP
`PING` with `+PONG`.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEPENDENCY_PARAM_PREFIX",
    "DependencyServer",
    "DependencyState",
    "parse_dependency_state",
]

DEPENDENCY_PARAM_PREFIX = "/gameday-sandbox/dependencies/"


@dataclass(frozen=True)
class DependencyState:
    state: Literal["up", "down"] = "up"
    latency_ms: float = 0.0


def parse_dependency_state(text: str | None) -> DependencyState | None:
    """The state in a parameter value, or None if the value is not valid."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("state", "up") not in ("up", "down"):
        return None
    latency = data.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
        return None
    return DependencyState(data.get("state", "up"), float(latency))


Responder = Callable[[bytes], bytes | None]  # buffered request -> reply (None: need more)


def _database(buf: bytes) -> bytes | None:
    if b"\n" not in buf:
        return None
    return b"1\n" if buf.split(b"\n", 1)[0].strip().upper() == b"SELECT 1" else b"ERR\n"


def _redis(buf: bytes) -> bytes | None:
    if not buf.endswith(b"\r\n"):
        return None
    if b"PING" in buf.upper():
        return b"+PONG\r\n"
    return b"-ERR unknown command\r\n"


_PROTOCOLS: dict[str, Responder] = {"database": _database, "redis": _redis}


class DependencyServer:
    """One dependency on 127.0.0.1, served on the data plane's event loop. Its port stays
    the same across down/up so the functions' configuration remains valid."""

    def __init__(self, name: str, host: str = "127.0.0.1"):
        self.name = name
        self.host = host
        self.port = 0
        self.state = DependencyState()
        self._respond = _PROTOCOLS[name]
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        if self.port == 0:
            # Reserve a port once; later restarts rebind the same one.
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def apply(self, state: DependencyState) -> None:
        self.state = state
        if state.state == "down" and self._server is not None:
            await self.stop()
        elif state.state == "up" and self._server is None:
            await self.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = b""
        try:
            while True:
                chunk = await reader.read(1024)
                if not chunk:
                    break
                buf += chunk
                reply = self._respond(buf)
                if reply is None:
                    continue
                buf = b""
                if self.state.latency_ms:
                    await asyncio.sleep(self.state.latency_ms / 1000)
                if self.state.state == "down":  # went down while a request was in flight
                    break
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
