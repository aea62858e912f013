"""One daemon per state_dir: an exclusive lock on state_dir/daemon.lock, held for the process's life."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from driftwatch.errors import UserError

FILENAME = "daemon.lock"


class AlreadyRunning(UserError):
    """Another daemon holds the state directory; the message names its pid and the fix."""


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote, as far as it can be read (it may be writing it now)."""
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        if text.isdigit():
            return f" (pid {int(text)})"
    return ""


@contextlib.contextmanager
def held(state_dir: Path) -> Iterator[None]:
    """Hold the daemon lock of `state_dir` (which exists) or raise AlreadyRunning at once.

    flock, not the pid in the file, is what excludes: the kernel drops it when the process
    dies however it dies (SIGKILL, OOM), so a stale file never blocks a restart. The read-only
    commands (status, check, report) never take it.
    """
    path = state_dir / FILENAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise UserError(f"cannot open {path} ({e.strerror or e}); check that state_dir is a "
                        "writable directory") from None  # fmt: skip
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another driftwatch daemon{_holder(fd)} is using state_dir {state_dir}; "
                                 "stop it first, or give this one its own state_dir") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
