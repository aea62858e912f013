"""Read-only, time-limited psycopg connections, and one plain sentence for each way they fail."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg.conninfo

from driftwatch.config import Environment
from driftwatch.errors import UserError
from driftwatch.render.visible import visible
from driftwatch.secrets import address, redact_text

APPLICATION_NAME = "driftwatch"
# Every reason a CheckError can carry (metrics export each at zero from the start).
REASONS = ("refused", "auth", "unknown_database", "unknown_role", "permission", "timeout",
           "unreachable", "error")  # fmt: skip
# Client-side bounds for a path that stops answering. The server's timeouts cannot help there:
# its answer never arrives. Keepalives notice a peer that is gone (probes unanswered after
# 30 + 3 x 10 s); tcp_user_timeout cuts a connection whose sent data stays unacknowledged. A proxy
# that keeps acking but forwards nothing defeats both, so each read also has a deadline
# (Environment.read_deadline) enforced by a watchdog. A DSN that sets one of these keeps its value.
TCP_BOUNDS = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
              "keepalives_count": 3, "tcp_user_timeout": 60_000}  # fmt: skip
# How long the watchdog's cancel request may take before it closes the socket regardless: on a
# frozen path the cancel request (a new connection through the same proxy) hangs too.
CANCEL_SECONDS = 2.0


class CheckError(UserError):
    """An environment could not be read; `message` is safe to show (no password)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def session_options(env: Environment) -> str:
    """Server settings for every driftwatch session: read-only, bounded in time and locks."""
    return " ".join(
        (
            "-c default_transaction_read_only=on",
            f"-c statement_timeout={int(env.statement_timeout * 1000)}",
            f"-c lock_timeout={int(env.lock_timeout * 1000)}",
            # A session left idle in a transaction (a hung daemon) must not hold catalog locks.
            "-c idle_in_transaction_session_timeout=60000",
        )
    )


def connection_kwargs(env: Environment) -> dict[str, Any]:
    """Keyword arguments for psycopg.connect beyond the DSN itself."""
    kwargs: dict[str, Any] = {
        "connect_timeout": env.connect_timeout,
        "application_name": APPLICATION_NAME,
        "options": session_options(env),
    }
    if env.password is not None:
        kwargs["password"] = env.password.reveal()
    if env.sslmode is not None:
        kwargs["sslmode"] = env.sslmode
    in_dsn = psycopg.conninfo.conninfo_to_dict(env.dsn)
    kwargs.update({k: v for k, v in TCP_BOUNDS.items() if k not in in_dsn})
    return kwargs


@contextlib.contextmanager
def connect(env: Environment) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """A read-only connection to `env`, in one REPEATABLE READ transaction for a consistent read.

    Connecting is bounded by connect_timeout (psycopg enforces it client-side, startup packet and
    login included); what follows, by read_deadline: then the connection is cancelled and closed.
    """
    try:
        conn = psycopg.connect(env.dsn, **connection_kwargs(env))
    except psycopg.Error as e:
        raise explain(e, env) from None
    watchdog = Watchdog(conn, env.read_deadline)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        yield conn
    except psycopg.Error as e:
        raise (_stuck(env) if watchdog.fired else explain(e, env)) from None
    finally:
        watchdog.finish()
        conn.close()


class Watchdog:
    """Cancels, then closes, a connection still in use `seconds` after it was opened.

    Closing is a shutdown() of the socket underneath libpq: the blocked read then returns at once
    with "server closed the connection", whatever the network does.
    """

    def __init__(self, conn: psycopg.Connection[Any], seconds: float) -> None:
        self._conn = conn
        self._lock = threading.Lock()  # finish() waits for a firing watchdog: the fd stays libpq's
        self._done = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.name = "read-deadline"
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            # A server that still hears us stops the query (and frees its locks) at once.
            with contextlib.suppress(psycopg.Error):
                self._conn.cancel_safe(timeout=CANCEL_SECONDS)
            # A duplicate descriptor: closing ours leaves libpq's, which conn.close() ends.
            with contextlib.suppress(OSError, psycopg.Error), \
                    socket.socket(fileno=os.dup(self._conn.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        """The read is over: the watchdog may no longer touch the connection (its fd may be reused)."""
        self._timer.cancel()
        with self._lock:
            self._done = True


def _stuck(env: Environment) -> CheckError:
    host_port = address(env.dsn).split("@")[-1].split("/")[0]
    return CheckError("timeout", f"{env.name}: {host_port} did not answer within {env.read_deadline:g} s; "
                      "the network path or proxy is stuck, so driftwatch closed the connection and "
                      "will try again next run (raise read_timeout if the read is only slow).")  # fmt: skip


def explain(error: psycopg.Error, env: Environment) -> CheckError:
    """Turn a psycopg error into one sentence that names the thing and the fix."""
    text = str(error)
    where = address(env.dsn)
    host_port = where.split("@")[-1].split("/")[0]
    for reason, pattern, template in _EXPLANATIONS:
        match = re.search(pattern, text)
        if match:
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            message = template.format(
                env=env.name, where=where, host_port=host_port, source=_password_source(env),
                env_timeout=f"{env.connect_timeout} s", give_password=_password_fix(env), **groups,
            )  # fmt: skip
            # Names the server quotes (a table, a role) are hostile: controls shown as escapes.
            return CheckError(reason, visible(message))
    detail = redact_text(text.splitlines()[0] if text else type(error).__name__)
    return CheckError("error", visible(f"{env.name} ({where}): {detail}"))


def _password_fix(env: Environment) -> str:
    if env.from_command_line:
        return "put it in PGPASSWORD or ~/.pgpass (or in the URI)"
    return "set password_env or password_file for this environment"


def _password_source(env: Environment) -> str:
    if env.password_source:
        return f"the password from {env.password_source}"
    if "password" in psycopg.conninfo.conninfo_to_dict(env.dsn):
        return "the password in the DSN"
    return "the password from PGPASSWORD or ~/.pgpass"


_EXPLANATIONS: tuple[tuple[str, str, str], ...] = (
    ("refused", r"Connection refused",
     "{env}: connection refused at {host_port}; is the database (or its Cloud SQL Auth Proxy) "
     "running and listening there?"),
    ("auth", r"password authentication failed for user \"(?P<user>[^\"]*)\"",
     "{env}: login failed for user {user} at {host_port}; check {source}."),
    ("auth", r"no password supplied|password is required",
     "{env}: the server at {host_port} asks for a password and none was given; {give_password}."),
    ("unknown_database", r"database \"(?P<db>[^\"]*)\" does not exist",
     "{env}: database {db} does not exist on {host_port}; fix the database name in its dsn."),
    ("unknown_role", r"role \"(?P<user>[^\"]*)\" does not exist",
     "{env}: role {user} does not exist on {host_port}; fix the user name in its dsn."),
    ("permission", r"permission denied for database \"(?P<db>[^\"]*)\"",
     "{env}: permission denied to connect to database {db}; "
     "grant CONNECT on it to driftwatch's role."),
    ("permission", r"permission denied for (?P<what>\w+) (?P<obj>\S+)",
     "{env}: permission denied for {what} {obj}; grant SELECT on it to driftwatch's role "
     "(README: \"The role driftwatch needs\")."),
    ("timeout", r"timeout expired|timed out",
     "{env}: no answer from {host_port} within {env_timeout}; check the network path or raise "
     "connect_timeout."),
    ("timeout", r"canceling statement due to statement timeout",
     "{env}: a catalog query ran longer than statement_timeout; raise statement_timeout for it."),
    ("timeout", r"canceling statement due to lock timeout",
     "{env}: a catalog read waited longer than lock_timeout for a lock (a migration running?); "
     "driftwatch will try again next run."),
    # The lock table is shared by all sessions: driftwatch holds one batch of view locks at a
    # time (catalog.VIEW_BATCH), so this means the server's table is nearly full anyway.
    ("error", r"out of shared memory",
     "{env}: the server's lock table is full (out of shared memory); "
     "raise max_locks_per_transaction on {host_port} (takes a restart), or end the sessions "
     "holding many locks (see pg_locks)."),
    ("unreachable", r"failed to resolve host '(?P<host>[^']*)'|could not translate host name "
     r"\"(?P<host2>[^\"]*)\"",
     "{env}: cannot resolve host name in {where}; check the host in its dsn."),
    ("unreachable", r"No such file or directory|could not connect to server",
     "{env}: no server at {where}; is PostgreSQL (or its proxy) running?"),
)

