"""The same rich schema on PostgreSQL 15 and 18 gives no difference at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch import diff, pipeline
from driftwatch.config import Config, Environment
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
