"""The subprocess edge: the migration tool runs with the target's connection in its environment only."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg.conninfo

from driftwatch.config import Environment
from driftwatch.secrets import redact_text

OUTPUT_KEPT = 64 * 1024  # characters of output the history keeps (the tail: where errors are)
KILL_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1  # how often the tool's exit and the deadline are looked at while it is quiet
# What the tool is told about the target; everything else of these names is removed first.
CONNECTION_VARIABLES = ("DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
                        "PGSSLMODE")  # fmt: skip
MASK = "********"


@dataclass(frozen=True, slots=True)
class Execution:
    """How the command went: its exit code (None if it never ran or was killed), its output tail."""

    exit_code: int | None
    timed_out: bool
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def connection_environment(env: Environment) -> dict[str, str]:
    """DATABASE_URL and the PG* variables of `env`, password included (they go to the child only)."""
    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(env.dsn).items() if v is not None}
    password = env.password.reveal() if env.password is not None else params.get("password")
    sslmode = env.sslmode or params.get("sslmode")
    host, port = params.get("host", "localhost"), params.get("port", "5432")
    user, dbname = params.get("user", ""), params.get("dbname", params.get("user", ""))
    values = {"PGHOST": host, "PGPORT": port, "PGDATABASE": dbname, "PGUSER": user,
              "PGPASSWORD": password, "PGSSLMODE": sslmode}  # fmt: skip
    values["DATABASE_URL"] = _url(host, port, dbname, user, password=password, sslmode=sslmode)
    return {k: v for k, v in values.items() if v}


def _url(host: str, port: str, dbname: str, user: str, *, password: str | None, sslmode: str | None) -> str:
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    query = []
    if host.startswith("/"):  # a socket directory cannot sit in the authority part
        query.append(f"host={quote(host, safe='/')}")
        host = ""
    if sslmode:
        query.append(f"sslmode={sslmode}")
    at = f"{credentials}@" if credentials else ""
    suffix = "?" + "&".join(query) if query else ""
    return f"postgresql://{at}{host}:{port}/{quote(dbname, safe='')}{suffix}"


def child_environment(target: Environment, base: Mapping[str, str], hidden: Iterable[str]) -> dict[str, str]:
    """`base` without any libpq variable or other environment's password variable, plus the target's."""
    drop = set(hidden)
    kept = {k: v for k, v in base.items()
            if not (k.startswith("PG") or k == "DATABASE_URL" or k in drop)}  # fmt: skip
    return {**kept, **connection_environment(target)}


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """Mask passwords in a line of output: URIs and key=value forms, and each secret as is."""
    known = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(line: str) -> str:
        for secret in known:
            line = line.replace(secret, MASK)
            line = line.replace(quote(secret, safe=""), MASK)
        return redact_text(line)

    return redact


def execute(argv: Sequence[str], workdir: Path, environ: Mapping[str, str], *, timeout: float,
            on_line: Callable[[str], None], redact: Callable[[str], str]) -> Execution:  # fmt: skip
    """Run `argv` in its own process group, stream each redacted line, kill the group on timeout.

    Every line the tool wrote before its output closed is passed to `on_line` before this returns.
    """
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv is the team's own configured migrate command
            list(argv), cwd=workdir, env=dict(environ), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)  # fmt: skip
    except OSError as e:
        line = redact(f"cannot run {argv[0]} in {workdir}: {e.strerror or e}")
        on_line(line)
        return Execution(None, False, line + "\n", time.monotonic() - t0)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read, args=(proc, lines), daemon=True).start()
    tail = Tail()
    timed_out = _deliver(proc, lines, t0 + timeout, lambda raw: tail.add(_emit(raw, on_line, redact)))
    code = None if timed_out else proc.wait()
    return Execution(code, timed_out, tail.text(), time.monotonic() - t0)


def _read(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Drain the pipe as fast as it fills, and nothing else; None when it closes.

    Reading and delivering are apart because Node writes to a pipe asynchronously: when the pipe
    is full (a slow terminal or log behind `on_line`), sequelize-cli's last lines, its ERROR and
    ERROR DETAIL, wait in Node's buffer, and its process.exit(1) drops them.
    """
    assert proc.stdout is not None  # noqa: S101 - Popen was given stdout=PIPE
    try:
        for raw in proc.stdout:
            lines.put(raw)
    finally:
        lines.put(None)


def _deliver(proc: subprocess.Popen[str], lines: queue.Queue[str | None], deadline: float,
             emit: Callable[[str], None]) -> bool:  # fmt: skip
    """Emit each line until the output closes; stop the group at `deadline`. True if it timed out.

    Once the tool has exited (or been killed), its output gets KILL_GRACE_SECONDS to close: a
    process it started in the background may hold the pipe open; what was read is still emitted.
    """
    timed_out, closing_by = False, None
    while True:
        now = time.monotonic()
        if closing_by is None and proc.poll() is not None:
            closing_by = now + KILL_GRACE_SECONDS
        elif closing_by is None and now >= deadline:
            timed_out = True
            _kill_group(proc)  # the reader keeps draining meanwhile
            continue
        if closing_by is not None and now >= closing_by:
            with contextlib.suppress(queue.Empty):
                while (raw := lines.get_nowait()) is not None:
                    emit(raw)
            return timed_out
        until = closing_by if closing_by is not None else deadline
        try:
            raw = lines.get(timeout=max(0.0, min(POLL_SECONDS, until - now)))
        except queue.Empty:
            continue
        if raw is None:  # the output closed; the tool itself may still be running
            return timed_out or _outlived(proc, deadline)
        emit(raw)


def _outlived(proc: subprocess.Popen[str], deadline: float) -> bool:
    """Wait for the tool until `deadline`; past it, stop its group. True if it had to."""
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return True
    return False


# Colour and cursor escapes (CSI and OSC sequences). Tools colour their output when they think
# a person watches: sequelize-cli's picocolors does whenever CI is set, even into a pipe. In the
# log, the history and Slack those bytes are noise, and they split words a reader searches for.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _emit(raw: str, on_line: Callable[[str], None], redact: Callable[[str], str]) -> str:
    line = redact(_ESCAPES.sub("", raw.rstrip("\r\n")))
    on_line(line)
    return line


class Tail:
    """The last OUTPUT_KEPT characters of output, in whole lines (the history keeps these)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque()
        self.size = 0

    def add(self, line: str) -> None:
        self.lines.append(line + "\n")
        self.size += len(line) + 1
        while self.size > OUTPUT_KEPT and len(self.lines) > 1:
            self.size -= len(self.lines.popleft())

    def text(self) -> str:
        return "".join(self.lines)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the whole group (npx starts node, node may start more), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE_SECONDS)
    # The leader may be gone while a grandchild that ignored SIGTERM still holds the database.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
