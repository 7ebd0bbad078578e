"""One run at a time per lake: an advisory lock the operating system releases when the holder
dies, so a lock left by a killed run (even ``kill -9``) is never stale.

The lock file keeps who holds it (pid, host, command, start time) for the message a second run
prints; its content is only informative, the kernel lock decides.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from c360.errors import BusyError, OutputError
from c360.lake.layout import LakeLayout


def lock_path(lake: Path) -> Path:
    return LakeLayout(lake).lock


@contextmanager
def lake_lock(lake: Path, *, command: str) -> Iterator[str | None]:
    """Hold the lake's run lock for the duration of the block.

    Yields who held it last without releasing it (a run that was killed), or None.

    Raises:
        BusyError: another live process holds it (the message names it).
        OutputError: the lock file cannot be created.
    """
    path = lock_path(lake)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot create the run lock {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            raise BusyError(
                f"another c360 run is using the lake {lake} ({holder}); wait for it to finish"
            ) from None
        # A clean release empties the file: content left means the holder died holding it.
        stale = _holder(path, default="") or None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _describe(command).encode(), 0)
        os.fsync(fd)
        try:
            yield stale
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _describe(command: str) -> str:
    return json.dumps(
        {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
         "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )  # fmt: skip


def _holder(path: Path, *, default: str = "holder unknown") -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return default
    if not info:
        return default
    return (
        f"pid {info.get('pid')} on {info.get('host')}, `c360 {info.get('command')}` "
        f"since {info.get('started_at')}"
    )
