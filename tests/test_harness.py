"""The harness itself: both server versions start, take passwords and give each test its own database."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.support.pgserver import SUPERUSER_PASSWORD, PgServer


def test_server_answers_with_its_version(pg: PgServer, make_db: Callable[..., str]) -> None:
    """A fresh database on each server answers a query, and its major version is 15 or 18."""
    db = make_db("CREATE TABLE t (id int)")
    with psycopg.connect(pg.dsn(db), password=SUPERUSER_PASSWORD) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert pg.version in (15, 18)


def test_wrong_password_is_refused(pg: PgServer) -> None:
    """Password authentication is real: a wrong password fails."""
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.dsn(), password="wrong", connect_timeout=5)
