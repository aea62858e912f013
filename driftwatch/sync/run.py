"""The subprocess edge: the migration tool runs with the target's connection in its environment only."""

from __future__ import annotations

import contextlib
import os
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
    """Run `argv` in its own process group, stream each redacted line, kill the group on timeout."""
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv is the team's own configured migrate command
            list(argv), cwd=workdir, env=dict(environ), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)  # fmt: skip
    except OSError as e:
        line = redact(f"cannot run {argv[0]} in {workdir}: {e.strerror or e}")
        on_line(line)
        return Execution(None, False, line + "\n", time.monotonic() - t0)
    tail: deque[str] = deque()
    reader = threading.Thread(target=_pump, args=(proc, tail, on_line, redact), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    reader.join(timeout=KILL_GRACE_SECONDS)
    code = None if timed_out else proc.returncode
    return Execution(code, timed_out, "".join(tail), time.monotonic() - t0)


def _pump(proc: subprocess.Popen[str], tail: deque[str], on_line: Callable[[str], None],
          redact: Callable[[str], str]) -> None:  # fmt: skip
    assert proc.stdout is not None  # noqa: S101 - Popen was given stdout=PIPE
    size = 0
    for raw in proc.stdout:
        line = redact(raw.rstrip("\n"))
        on_line(line)
        tail.append(line + "\n")
        size += len(line) + 1
        while size > OUTPUT_KEPT and len(tail) > 1:
            size -= len(tail.popleft())


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
