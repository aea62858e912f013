"""How many locks a catalog read holds at once: view definitions are read in batches whose locks
are released batch by batch, so 7,000 views fit PostgreSQL 15's default lock table."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from driftwatch import catalog, pipeline
from driftwatch.cli import run
from driftwatch.config import Config, Environment
from driftwatch.connect import CheckError
from driftwatch.secrets import Secret
from tests.support.pgserver import DEBIAN_PG15, PgServer, running_server

pytestmark = pytest.mark.pg

# Relation locks a read may hold at once: each view of one batch and the one table it reads,
# plus the system catalogs and their indexes the queries read (67 on PostgreSQL 15, whatever
# the schema size).
BOUND = 2 * catalog.VIEW_BATCH + 100
MANY = 7000


def create_views(server: PgServer, db: str, count: int) -> None:
    """`count` tables and a view over each (one transaction per 500: creating takes locks too)."""
    with server.admin(db) as conn:
        for start in range(0, count, 500):
            conn.execute("BEGIN;" + "".join(
                f"CREATE TABLE t{i} (id int, v text); CREATE VIEW v{i} AS SELECT id, v FROM t{i};"
                for i in range(start, min(start + 500, count))) + "COMMIT;")  # fmt: skip


@pytest.fixture(scope="module")
def pg15_defaults() -> Iterator[tuple[PgServer, str]]:
    """PostgreSQL 15 with its default settings (max_locks_per_transaction = 64,
    max_connections = 100) and a database of 7,000 tables with a view over each."""
    with running_server(DEBIAN_PG15, settings="") as server:
        with server.admin() as conn:
            row = conn.execute("SELECT current_setting('max_locks_per_transaction'),"
                               " current_setting('max_connections')").fetchone()  # fmt: skip
        assert row == ("64", "100")
        db = server.create_database("views")
        create_views(server, db, MANY)
        server.execute(db, 'CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY);'
                       " INSERT INTO \"SequelizeMeta\" VALUES ('20250101-a.js')")
        yield server, db


def test_seven_thousand_views_on_pg15_defaults_compare(
    pg15_defaults: tuple[PgServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both sides read at once, 7,000 views each: before batching, "out of shared memory"."""
    server, db = pg15_defaults
    monkeypatch.setenv("PGPASSWORD", server.password)
    out, err = io.StringIO(), io.StringIO()
    code = run(["diff", server.dsn(db), server.dsn(db), "--json"], out, err)
    assert code == 0, err.getvalue()
    report = json.loads(out.getvalue())
    assert report["in_sync"] is True
    schema = report["schema"]
    assert schema["reference_counts"]["views"] == schema["target_counts"]["views"] == MANY


def granted_relation_locks(admin: psycopg.Connection[tuple[object, ...]], pid: int) -> int:
    row = admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'relation'"
                        " AND granted", (pid,)).fetchone()  # fmt: skip
    assert row is not None
    return int(str(row[0]))


def waiting(admin: psycopg.Connection[tuple[object, ...]], pid: int) -> bool:
    row = admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                        (pid,)).fetchone()  # fmt: skip
    return row is not None and int(str(row[0])) > 0


def test_locks_held_at_once_stay_within_one_batch(pg: PgServer) -> None:
    """1,000 views; a migration holds the last one, so the read stops there and every lock it
    holds at that moment can be counted from another session: one batch's, not all views'.
    Sampled all through the read too. On PostgreSQL 15 and 18 (savepoint rollback frees locks)."""
    db = pg.create_database("locks")
    create_views(pg, db, 1000)
    with pg.admin(db) as migration, pg.admin(db) as watcher, psycopg.connect(
        pg.dsn(db), password=pg.password, options="-c lock_timeout=20000"
    ) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        pid = conn.info.backend_pid
        migration.autocommit = False
        migration.execute("LOCK TABLE v999 IN ACCESS EXCLUSIVE MODE")
        result: dict[str, object] = {}
        reader = threading.Thread(target=lambda: result.update(schema=catalog.read_schema(conn)))
        reader.start()
        samples, stopped_at = [], None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and stopped_at is None:
            samples.append(granted_relation_locks(watcher, pid))
            if waiting(watcher, pid):
                stopped_at = granted_relation_locks(watcher, pid)
        migration.rollback()  # the migration ends; the read goes on
        while reader.is_alive():
            samples.append(granted_relation_locks(watcher, pid))
        reader.join()
    assert stopped_at is not None, "the read never reached the locked view"
    # The last batch's other views and tables are locked by now: the count is real, and small.
    assert catalog.VIEW_BATCH <= stopped_at <= BOUND, stopped_at
    assert max(samples) <= BOUND, max(samples)
    schema = result["schema"]
    assert isinstance(schema, dict)
    assert len(schema["view"]) == 1000


def test_a_full_lock_table_gives_one_sentence_naming_the_setting(
    pg15_defaults: tuple[PgServer, str],
) -> None:
    """Another session fills the lock table first: the read fails with a sentence that names
    max_locks_per_transaction, not the server's bare "out of shared memory"."""
    server, db = pg15_defaults
    with server.admin(db) as hog:
        hog.autocommit = False
        # Lock views one by one, each in a subtransaction, until the server refuses: the
        # refused one is rolled back, the others stay held until hog's transaction ends.
        hog.execute(f"""DO $$ BEGIN FOR i IN 0..{MANY - 1} LOOP
            BEGIN EXECUTE format('LOCK TABLE t%s, v%s IN ACCESS SHARE MODE', i, i);
            EXCEPTION WHEN out_of_memory THEN EXIT; END; END LOOP; END $$""")
        env = Environment("big", server.dsn(db), Secret(server.password))
        with pytest.raises(CheckError) as caught:
            pipeline.take_snapshot(env, Config(None, {env.name: env}, ()))
        hog.rollback()
    host_port = f"{server.host}:{server.port}"
    assert caught.value.message == (
        "big: the server's lock table is full (out of shared memory); "
        f"raise max_locks_per_transaction on {host_port} (takes a restart), or end the sessions "
        "holding many locks (see pg_locks).")
