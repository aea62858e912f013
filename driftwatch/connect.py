"""Read-only, time-limited psycopg connections, and one plain sentence for each way they fail."""

from __future__ import annotations

import contextlib
import re
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
    return kwargs


@contextlib.contextmanager
def connect(env: Environment) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """A read-only connection to `env`, in one REPEATABLE READ transaction for a consistent read."""
    try:
        conn = psycopg.connect(env.dsn, **connection_kwargs(env))
    except psycopg.Error as e:
        raise explain(e, env) from None
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        yield conn
    except psycopg.Error as e:
        raise explain(e, env) from None
    finally:
        conn.close()


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

