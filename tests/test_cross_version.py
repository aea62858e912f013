"""The rich schema (every golden case): equal on PostgreSQL 15 and 18, readable by a least-privileged
role, and what catalog reads lock."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from driftwatch import catalog, diff, pipeline
from driftwatch.config import Config, Environment
from driftwatch.connect import CheckError
from driftwatch.model import Snapshot
from driftwatch.secrets import Secret
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
GOLDEN = Path(__file__).parent / "golden"


def rich_schema_sql() -> str:
    """Every golden case's reference side, each case in a schema of its own."""
    parts = []
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        parts.append(f"CREATE SCHEMA case_{case.name}; SET search_path TO case_{case.name}, public;")
        parts += [(case / "base.sql").read_text(), (case / "reference.sql").read_text()]
    return "\n".join([*parts, "RESET search_path;"])


def snapshot(server: PgServer, sql: str) -> Snapshot:
    db = server.create_database("rich")
    server.execute(db, sql)
    env = Environment(f"pg{server.version}", server.dsn(db), Secret(server.password))
    return pipeline.take_snapshot(env, Config(None, {env.name: env}, ()))


def test_rich_schema_is_identical_across_versions(pg15: PgServer, pg18: PgServer) -> None:
    """Hundreds of objects of every kind read the same on 15 and 18: zero differences."""
    sql = rich_schema_sql()
    old, new = snapshot(pg15, sql), snapshot(pg18, sql)
    counts = old.counts()
    assert all(counts[kind] > 0 for kind in counts), counts
    assert counts == new.counts()
    drift = diff.compare(old, new)
    assert drift.schema.differences == ()


def test_a_role_with_only_select_on_the_history_table_reads_everything(pg: PgServer) -> None:
    """The least-privileged role the README documents sees the same snapshot as a superuser."""
    db = pg.create_database("priv")
    pg.execute(db, rich_schema_sql() + ' CREATE TABLE public."SequelizeMeta" (name varchar(255) PRIMARY KEY);'
               " INSERT INTO \"SequelizeMeta\" VALUES ('20250101-a.js');")
    role = f"dw_reader_{db[-10:]}"
    with pg.admin(db) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{pg.password}'")
        conn.execute(f'GRANT SELECT ON public."SequelizeMeta" TO {role}')
    try:
        config = Config(None, {}, ())
        owner = pipeline.take_snapshot(Environment("owner", pg.dsn(db), Secret(pg.password)), config)
        reader = pipeline.take_snapshot(Environment("reader", pg.dsn(db, user=role), Secret(pg.password)),
                                        config)  # fmt: skip
    finally:
        with pg.admin(db) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    assert reader.counts() == owner.counts()
    drift = diff.compare(owner, reader)
    assert drift.schema.differences == ()
    assert drift.migrations is not None
    assert drift.migrations.target_count == 1




HELD = """SELECT DISTINCT format('%I.%I', n.nspname, c.relname) FROM pg_locks l
 JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.pid = pg_backend_pid() AND n.nspname LIKE 'case\\_%' ORDER BY 1"""


def test_catalog_reads_leave_no_table_lock_behind(pg: PgServer) -> None:
    """pg_get_viewdef locks the tables a view reads until the transaction ends; read_schema ends it."""
    db = pg.create_database("locks")
    pg.execute(db, rich_schema_sql())
    with psycopg.connect(pg.dsn(db), password=pg.password) as conn:
        conn.read_only = True
        # The hazard, shown on the same schema: one view definition read in a transaction
        # leaves ACCESS SHARE locks on its tables for as long as the transaction lasts.
        conn.execute("SELECT pg_get_viewdef('case_views.totals'::regclass)")
        assert "case_views.orders" in [str(r[0]) for r in conn.execute(HELD).fetchall()]
        conn.rollback()
        catalog.read_schema(conn)
        held = [str(r[0]) for r in conn.execute(HELD).fetchall()]
    assert held == []


def test_a_migration_holding_a_table_gives_the_lock_timeout_sentence(pg: PgServer) -> None:
    """A table under ACCESS EXCLUSIVE that a view reads: the read gives up after lock_timeout."""
    db = pg.create_database("locks")
    pg.execute(db, rich_schema_sql())
    with pg.admin(db) as migration:
        migration.autocommit = False
        migration.execute("LOCK TABLE case_views.orders IN ACCESS EXCLUSIVE MODE")
        env = Environment("locked", pg.dsn(db), Secret(pg.password), lock_timeout=1.0)
        with pytest.raises(CheckError) as caught:
            pipeline.take_snapshot(env, Config(None, {env.name: env}, ()))
        migration.rollback()
    assert caught.value.reason == "timeout"
    assert caught.value.message == (
        "locked: a catalog read waited longer than lock_timeout for a lock (a migration running?); "
        "driftwatch will try again next run.")
