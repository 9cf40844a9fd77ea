"""One destructive run per target at a time: a lease held in an SSM parameter on the target.

`target_lock(target, what)` writes `/gameday/lock` with PutParameter Overwrite=False,
which succeeds for one writer only (SSM answers ParameterAlreadyExists to the others) —
the same boto3 path on AWS and on the sandbox, and the lock lives where the faults go, so
every machine pointed at the target sees it. The holder renews its lease in the
background and deletes the parameter when done.

A second run is refused with SafetyError (exit 5) naming the holder. A lock is stale, and
is released, when its lease has run out (a holder on another machine that died), or at
once when its holder ran on this machine and that process is gone (SIGKILL). Before a
stale lock is deleted it is read again: only the very value judged stale is removed.
SSM has no conditional delete, so two contenders that judge the same stale lock within
the same few milliseconds could still race (one may delete the other's fresh lock); the
lease is judged by this machine's clock, so clocks more than the lease (120 s) apart
misjudge a remote holder.

Within one process the lock is re-entrant (the game day holds it; its chaos phase's
runner takes it again).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .aws import AccessDenied, Clients, aws_errors
from .config import Target
from .exceptions import SafetyError, TargetError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

__all__ = ["LOCK_PARAMETER", "LockInfo", "read_lock", "target_lock"]

LOCK_PARAMETER = "/gameday/lock"
LEASE_S = 120.0

_held: dict[tuple[str, str, str], int] = {}  # (region, endpoint, profile) -> depth
_held_lock = threading.Lock()

LockInfo = dict[str, str | int | float]


def _proc_start(pid: int) -> str | None:
    """The start time of process `pid` (Linux /proc), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat: starttime, after pid and (comm) and state
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: object) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, someone else's
    now = _proc_start(pid)
    return started in (None, "") or now is None or now == started


def _stale(info: LockInfo | None, now: float) -> bool:
    if info is None:
        return False  # unreadable: someone's, not ours to judge
    lease = info.get("lease_until")
    if isinstance(lease, int | float) and lease < now:
        return True
    pid = info.get("pid")
    if info.get("host") == socket.gethostname() and isinstance(pid, int):
        return not _alive(pid, info.get("pid_start"))
    return False


def _parse(value: str) -> LockInfo | None:
    try:
        info = json.loads(value)
    except json.JSONDecodeError:
        return None
    return info if isinstance(info, dict) else None


def read_lock(ssm: SSMClient) -> tuple[str, LockInfo | None] | None:
    """The lock's raw value and what it says, or None when nobody holds it."""
    with aws_errors(f"reading the run lock {LOCK_PARAMETER}"):
        try:
            value = ssm.get_parameter(Name=LOCK_PARAMETER)["Parameter"].get("Value", "")
        except ssm.exceptions.ParameterNotFound:
            return None
    return value, _parse(value)


def _describe(info: LockInfo | None, raw: str) -> str:
    if info is None:
        return f"an unreadable lock ({raw[:60]!r})"
    since = time.strftime("%H:%M:%S", time.gmtime(float(info.get("started", 0))))
    return (
        f"{info.get('holder', '?')} (pid {info.get('pid', '?')} on {info.get('host', '?')},"
        f" since {since} UTC)"
    )


def _try_take(ssm: SSMClient, value: str) -> bool:
    with aws_errors(f"taking the run lock {LOCK_PARAMETER}"):
        try:
            ssm.put_parameter(Name=LOCK_PARAMETER, Value=value, Type="String", Overwrite=False)
            return True
        except ssm.exceptions.ParameterAlreadyExists:
            return False


def _acquire(target: Target, ssm: SSMClient, what: str) -> str:
    """Take the lock or raise SafetyError; returns the nonce that proves ownership."""
    nonce = uuid.uuid4().hex
    pid = os.getpid()
    info: LockInfo = {
        "holder": what,
        "host": socket.gethostname(),
        "pid": pid,
        "pid_start": _proc_start(pid) or "",
        "nonce": nonce,
        "started": time.time(),
        "lease_until": time.time() + LEASE_S,
    }
    for _ in range(3):
        if _try_take(ssm, json.dumps(info)):
            return nonce
        found = read_lock(ssm)
        if found is None:
            continue  # released meanwhile
        raw, held = found
        if not _stale(held, time.time()):
            raise SafetyError(
                f"target {target.name} is busy: {_describe(held, raw)} holds its run lock "
                f"{LOCK_PARAMETER}; wait for it to finish (if it is surely gone: "
                f"aws ssm delete-parameter --name {LOCK_PARAMETER})"
            )
        again = read_lock(ssm)
        if again is not None and again[0] == raw:  # still the stale value: release it
            with (
                aws_errors(f"releasing the stale run lock {LOCK_PARAMETER}"),
                contextlib.suppress(ssm.exceptions.ParameterNotFound),
            ):
                ssm.delete_parameter(Name=LOCK_PARAMETER)
    raise SafetyError(f"target {target.name}: could not take the run lock {LOCK_PARAMETER}")


def _renew(ssm: SSMClient, nonce: str, stop: threading.Event) -> None:
    while not stop.wait(LEASE_S / 3):
        with contextlib.suppress(Exception):  # a missed renewal only shortens the lease
            found = read_lock(ssm)
            if found is None or found[1] is None or found[1].get("nonce") != nonce:
                return  # no longer ours
            info = dict(found[1])
            info["lease_until"] = time.time() + LEASE_S
            ssm.put_parameter(
                Name=LOCK_PARAMETER, Value=json.dumps(info), Type="String", Overwrite=True
            )


def _release(ssm: SSMClient, nonce: str) -> None:
    with contextlib.suppress(Exception):  # the lease runs out anyway
        found = read_lock(ssm)
        if found is not None and found[1] is not None and found[1].get("nonce") == nonce:
            ssm.delete_parameter(Name=LOCK_PARAMETER)


@contextlib.contextmanager
def target_lock(
    target: Target, what: str, clients: Clients | None = None, *, unreachable_ok: bool = False
) -> Iterator[None]:
    """Hold the target's run lock for the block (re-entrant within this process). With
    `unreachable_ok`, a target that cannot be reached runs the block unlocked: nothing
    can change it, and the caller reports it unusable in its own way."""
    key = (target.region, target.endpoint_url or "", target.profile or "")
    with _held_lock:
        if _held.get(key):
            _held[key] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_lock:
                _held[key] -= 1
        return
    ssm = (clients or Clients(target)).ssm()
    try:
        nonce = _acquire(target, ssm, what)
    except AccessDenied:
        raise  # reachable, and refused: running unlocked would hide the missing permission
    except TargetError:
        if not unreachable_ok:
            raise
        yield
        return
    with _held_lock:
        _held[key] = 1
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(ssm, nonce, stop), daemon=True, name="gameday-lock"
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        with _held_lock:
            _held[key] = 0
        _release(ssm, nonce)
