"""One sync per target: a PostgreSQL advisory lock held by a session of its own on the target."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from driftwatch.config import Environment
from driftwatch.connect import connection_kwargs, explain

APPLICATION_NAME = "driftwatch-sync"
# Advisory locks live per database, so one constant key means "the sync of this database".
# 0x64777379 is "dwsy": an application that also uses advisory locks is unlikely to pick it.
LOCK_KEY = 0x64777379

Conn = psycopg.Connection[Any]


@contextlib.contextmanager
def session(env: Environment) -> Iterator[Conn]:
    """A read-only session on `env` named driftwatch-sync, apart from the monitoring ones.

    Autocommit: the session-level lock is held between statements, and a session idle outside a
    transaction is never cut by idle_in_transaction_session_timeout while the migration runs.
    """
    kwargs = {**connection_kwargs(env), "application_name": APPLICATION_NAME}
    try:
        conn = psycopg.connect(env.dsn, autocommit=True, **kwargs)
    except psycopg.Error as e:
        raise explain(e, env) from None
    try:
        yield conn
    except psycopg.Error as e:
        raise explain(e, env) from None
    finally:
        conn.close()  # ends the session, which releases the lock even if unlock was never reached


def try_lock(conn: Conn) -> bool:
    """Take the target's sync lock if free; pg_try_advisory_lock works in a read-only session."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
    return bool(row and row[0])


def holder(conn: Conn) -> str | None:
    """Who holds the target's sync lock, in words ("pid 4242, driftwatch-sync, since 10:02 UTC")."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(_HOLDER, {"k": LOCK_KEY}).fetchone()
    if row is None:
        return None
    pid, application, user, since = row
    who = ", ".join(str(x) for x in (f"pid {pid}", application or None, user or None) if x)
    return f"{who}, since {since:%Y-%m-%d %H:%M} UTC" if since else who


# A one-argument bigint key appears in pg_locks as classid (high half), objid (low half), objsubid 1.
_HOLDER = """SELECT l.pid, a.application_name, a.usename, a.backend_start AT TIME ZONE 'UTC'
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = (%(k)s::bigint >> 32) AND l.objid::bigint = (%(k)s::bigint & 4294967295)
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    LIMIT 1"""
