"""Each tool's history table, created with the tool's own DDL, read back by read_history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import psycopg.errors
import pytest
from psycopg import sql
from psycopg.pq import TransactionStatus

from driftwatch.migrations import (
    TOOLS,
    MigrationSettings,
    default_table,
    history_table,
    migrate_command,
    read_history,
)
from driftwatch.model import AppliedMigration, MigrationHistory
from tests.support.pgserver import SUPERUSER_PASSWORD, PgServer

MakeDb = Callable[..., str]


def read(pg: PgServer, db: str, settings: MigrationSettings) -> MigrationHistory:
    """Read history the way driftwatch does: read-only, and never committing."""
    with psycopg.connect(pg.dsn(db), password=SUPERUSER_PASSWORD) as conn:
        conn.read_only = True
        history = read_history(conn, settings)
        assert conn.info.transaction_status == TransactionStatus.INTRANS
        conn.rollback()
    return history


def stamp(day: int, hour: int = 12) -> datetime:
    """A fixed naive timestamp, as `timestamp without time zone` columns return it."""
    return datetime(2024, 1, day, hour)


def stamp_utc(day: int, hour: int = 12) -> datetime:
    """A fixed aware timestamp, as `timestamptz` columns return it."""
    return datetime(2024, 1, day, hour, tzinfo=UTC)


# sequelize (via umzug's SequelizeStorage) issues exactly this, mixed-case name quoted.
SEQUELIZE_DDL = """
CREATE TABLE IF NOT EXISTS {schema}."SequelizeMeta" ("name" VARCHAR(255) NOT NULL UNIQUE ,
    PRIMARY KEY ("name"));
INSERT INTO {schema}."SequelizeMeta" ("name") VALUES
    ('20240102090000-add-orders.js'), ('20240101090000-create-users.js'),
    ('20240103090000-add-order-index.js');
"""
SEQUELIZE_IDS = (
    "20240101090000-create-users.js",
    "20240102090000-add-orders.js",
    "20240103090000-add-order-index.js",
)


@pytest.mark.pg
def test_sequelize(pg: PgServer, make_db: MakeDb) -> None:
    """SequelizeMeta names come back in name order, which is the order Sequelize runs them."""
    db = make_db(SEQUELIZE_DDL.format(schema='"public"'))
    history = read(pg, db, MigrationSettings("sequelize"))
    assert history == MigrationHistory(
        "sequelize", "public.SequelizeMeta", True, tuple(AppliedMigration(i) for i in SEQUELIZE_IDS)
    )


FLYWAY_DDL = """
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history"
    ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
"""
FLYWAY_ROWS = """
INSERT INTO flyway_schema_history VALUES
 (1, '0', '<< Flyway Schema Creation >>', 'SCHEMA', '"public"', NULL, 'app',
  '2024-01-01 09:00', 0, true),
 (2, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app',
  '2024-01-01 10:00', 0, true),
 (3, '1.1', 'create users', 'SQL', 'V1_1__create_users.sql', 1205893244, 'app',
  '2024-01-02 12:00', 31, true),
 (4, NULL, 'views', 'SQL', 'R__views.sql', -902113412, 'app', '2024-01-02 12:00', 8, true),
 (5, '1.2', 'add orders', 'SQL', 'V1_2__add_orders.sql', 77512, 'app',
  '2024-01-03 12:00', 12, true),
 (6, NULL, 'views', 'SQL', 'R__views.sql', 311, 'app', '2024-01-03 12:00', 9, true),
 (7, '2', 'backfill', 'SQL', 'V2__backfill.sql', -5, 'app', '2024-01-04 12:00', 40, false);
"""


@pytest.mark.pg
def test_flyway(pg: PgServer, make_db: MakeDb) -> None:
    """Flyway rows by installed_rank: baseline kept, schema marker skipped, repeatable at its latest."""
    db = make_db(FLYWAY_DDL + FLYWAY_ROWS)
    history = read(pg, db, MigrationSettings("flyway"))
    assert history.table == "public.flyway_schema_history"
    assert history.applied == (
        AppliedMigration("1", stamp(1, 10), None, True),
        AppliedMigration("1.1", stamp(2), "1205893244", True),
        AppliedMigration("1.2", stamp(3), "77512", True),
        AppliedMigration("R__views.sql", stamp(3), "311", True),
        AppliedMigration("2", stamp(4), "-5", False),
    )


@pytest.mark.pg
def test_flyway_undo_takes_a_version_out(pg: PgServer, make_db: MakeDb) -> None:
    """An UNDO_SQL row (flyway undo) means the version it names is no longer applied."""
    undo = """INSERT INTO flyway_schema_history VALUES
     (8, '2', 'backfill', 'UNDO_SQL', 'U2__backfill.sql', 9, 'app', '2024-01-05 12:00', 3, true);"""
    db = make_db(FLYWAY_DDL + FLYWAY_ROWS + undo)
    history = read(pg, db, MigrationSettings("flyway"))
    assert history.ids == ("1", "1.1", "1.2", "R__views.sql")


LIQUIBASE_DDL = """
CREATE TABLE public.databasechangelog (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,
    FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    ORDEREXECUTED INTEGER NOT NULL, EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35),
    DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255), TAG VARCHAR(255), LIQUIBASE VARCHAR(20),
    CONTEXTS VARCHAR(255), LABELS VARCHAR(255), DEPLOYMENT_ID VARCHAR(10));
CREATE TABLE public.databasechangeloglock (ID INTEGER NOT NULL, LOCKED BOOLEAN NOT NULL,
    LOCKGRANTED TIMESTAMP WITHOUT TIME ZONE, LOCKEDBY VARCHAR(255),
    CONSTRAINT databasechangeloglock_pkey PRIMARY KEY (ID));
INSERT INTO public.databasechangelog (ID, AUTHOR, FILENAME, DATEEXECUTED, ORDEREXECUTED,
    EXECTYPE, MD5SUM, DESCRIPTION, LIQUIBASE, DEPLOYMENT_ID) VALUES
 ('2', 'bob', 'db/changelog/002-orders.xml', '2024-01-02 12:00', 3, 'EXECUTED',
  '9:0c5f1dbd0e4d6d1a8b7c1e2f3a4b5c6d', 'createTable tableName=orders', '4.25.1', '4381200001'),
 ('1', 'alice', 'db/changelog/001-users.xml', '2024-01-01 12:00', 1, 'EXECUTED',
  '9:5b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d', 'createTable tableName=users', '4.25.1', '4381100001'),
 ('1-seed', 'alice', 'db/changelog/001-users.xml', '2024-01-01 12:00', 2, 'MARK_RAN',
  NULL, 'sql', '4.25.1', '4381100001'),
 ('3', 'bob', 'db/changelog/003-index.xml', '2024-01-03 12:00', 4, 'FAILED',
  '9:aa00bb11cc22dd33ee44ff5566778899', 'createIndex', '4.25.1', '4381300001');
"""


@pytest.mark.pg
def test_liquibase(pg: PgServer, make_db: MakeDb) -> None:
    """DATABASECHANGELOG in orderexecuted order, identified as file::id::author, md5sum kept."""
    db = make_db(LIQUIBASE_DDL)
    history = read(pg, db, MigrationSettings("liquibase"))
    assert history.table == "public.databasechangelog"
    assert history.applied == (
        AppliedMigration("db/changelog/001-users.xml::1::alice", stamp(1),
                         "9:5b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d"),
        AppliedMigration("db/changelog/001-users.xml::1-seed::alice", stamp(1)),
        AppliedMigration("db/changelog/002-orders.xml::2::bob", stamp(2),
                         "9:0c5f1dbd0e4d6d1a8b7c1e2f3a4b5c6d"),
        AppliedMigration("db/changelog/003-index.xml::3::bob", stamp(3),
                         "9:aa00bb11cc22dd33ee44ff5566778899", success=False),
    )  # fmt: skip


DJANGO_DDL = """
CREATE TABLE "django_migrations" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS
    IDENTITY, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL,
    "applied" timestamp with time zone NOT NULL);
INSERT INTO django_migrations (app, name, applied) VALUES
 ('contenttypes', '0001_initial', '2024-01-01 12:00+00'),
 ('auth', '0001_initial', '2024-01-01 12:00+00'),
 ('contenttypes', '0002_remove_content_type_name', '2024-01-02 12:00+00'),
 ('shop', '0001_initial', '2024-01-03 12:00+00');
"""


@pytest.mark.pg
def test_django(pg: PgServer, make_db: MakeDb) -> None:
    """django_migrations rows in id order as app.name with their applied time."""
    db = make_db(DJANGO_DDL)
    history = read(pg, db, MigrationSettings("django"))
    assert history.applied == (
        AppliedMigration("contenttypes.0001_initial", stamp_utc(1)),
        AppliedMigration("auth.0001_initial", stamp_utc(1)),
        AppliedMigration("contenttypes.0002_remove_content_type_name", stamp_utc(2)),
        AppliedMigration("shop.0001_initial", stamp_utc(3)),
    )


RAILS_DDL = """
CREATE TABLE "schema_migrations" ("version" character varying NOT NULL PRIMARY KEY);
CREATE TABLE "ar_internal_metadata" ("key" character varying NOT NULL PRIMARY KEY,
    "value" character varying, "created_at" timestamp(6) NOT NULL,
    "updated_at" timestamp(6) NOT NULL);
INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now());
INSERT INTO schema_migrations (version) VALUES
 ('20240301120000'), ('20231115093000'), ('20240105170000');
"""


@pytest.mark.pg
def test_rails(pg: PgServer, make_db: MakeDb) -> None:
    """schema_migrations versions come back in version order, not insertion order."""
    db = make_db(RAILS_DDL)
    history = read(pg, db, MigrationSettings("rails"))
    assert history.table == "public.schema_migrations"
    assert history.ids == ("20231115093000", "20240105170000", "20240301120000")


@pytest.mark.pg
def test_dbmate(pg: PgServer, make_db: MakeDb) -> None:
    """dbmate's varchar(128) schema_migrations reads like Rails'."""
    db = make_db("""
        CREATE TABLE IF NOT EXISTS "public"."schema_migrations"
            (version varchar(128) primary key);
        INSERT INTO schema_migrations VALUES ('20240201000000'), ('20240101000000');
    """)
    history = read(pg, db, MigrationSettings("dbmate"))
    assert history.ids == ("20240101000000", "20240201000000")
    assert not history.head_only


GOLANG_MIGRATE_DDL = """
CREATE TABLE IF NOT EXISTS "public"."schema_migrations"
    (version bigint not null primary key, dirty boolean not null);
"""


@pytest.mark.pg
def test_golang_migrate_dirty_head(pg: PgServer, make_db: MakeDb) -> None:
    """golang-migrate's single row is the head; dirty means the migration stopped halfway."""
    db = make_db(GOLANG_MIGRATE_DDL + "INSERT INTO schema_migrations VALUES (20240301120000, true);")
    history = read(pg, db, MigrationSettings("golang-migrate"))
    assert history == MigrationHistory(
        "golang-migrate", "public.schema_migrations", True,
        (AppliedMigration("20240301120000", success=False),), head_only=True,
    )  # fmt: skip


@pytest.mark.pg
def test_golang_migrate_clean_and_empty(pg: PgServer, make_db: MakeDb) -> None:
    """A clean head is a success; an empty table (nothing applied) is found with no head."""
    clean = make_db(GOLANG_MIGRATE_DDL + "INSERT INTO schema_migrations VALUES (7, false);")
    empty = make_db(GOLANG_MIGRATE_DDL)
    assert read(pg, clean, MigrationSettings("golang-migrate")).applied == (AppliedMigration("7"),)
    history = read(pg, empty, MigrationSettings("golang-migrate"))
    assert history.found
    assert history.applied == ()


KNEX_DDL = """
create table "knex_migrations" ("id" serial primary key, "name" varchar(255),
    "batch" integer, "migration_time" timestamptz);
create table "knex_migrations_lock" ("index" serial primary key, "is_locked" integer);
insert into "knex_migrations_lock" ("is_locked") values (0);
insert into "knex_migrations" ("name", "batch", "migration_time") values
 ('20240101090000_create_users.js', 1, '2024-01-01 12:00+00'),
 ('20240102090000_add_orders.js', 1, '2024-01-01 12:00+00'),
 ('20231201090000_late_hotfix.js', 2, '2024-01-02 12:00+00');
"""


@pytest.mark.pg
def test_knex(pg: PgServer, make_db: MakeDb) -> None:
    """knex_migrations in id order (the applied order), with migration_time."""
    db = make_db(KNEX_DDL)
    history = read(pg, db, MigrationSettings("knex"))
    assert history.applied == (
        AppliedMigration("20240101090000_create_users.js", stamp_utc(1)),
        AppliedMigration("20240102090000_add_orders.js", stamp_utc(1)),
        AppliedMigration("20231201090000_late_hotfix.js", stamp_utc(2)),
    )


# goose >= 3.16; older goose used `id serial` and a nullable tstamp, read the same way.
GOOSE_DDL = """
CREATE TABLE goose_db_version (
    id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
    version_id bigint NOT NULL,
    is_applied boolean NOT NULL,
    tstamp timestamp NOT NULL DEFAULT now()
);
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
 (0, true, '2024-01-01 09:00'),
 (1, true, '2024-01-01 12:00'),
 (2, true, '2024-01-02 12:00'),
 (3, true, '2024-01-03 12:00'),
 (3, false, '2024-01-04 12:00'),
 (4, true, '2024-01-05 12:00'),
 (3, true, '2024-01-06 12:00'),
 (5, true, '2024-01-07 12:00'),
 (5, false, '2024-01-08 12:00');
"""


@pytest.mark.pg
def test_goose(pg: PgServer, make_db: MakeDb) -> None:
    """A goose version's latest row decides; re-applied 3 moves last, down-migrated 5 is gone."""
    db = make_db(GOOSE_DDL)
    history = read(pg, db, MigrationSettings("goose"))
    assert history.applied == (
        AppliedMigration("1", stamp(1)),
        AppliedMigration("2", stamp(2)),
        AppliedMigration("4", stamp(5)),
        AppliedMigration("3", stamp(6)),
    )


PRISMA_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "_prisma_migrations" VALUES
 ('0b1f2c3d-0000-4000-8000-000000000001', repeat('a', 64), '2024-01-01 12:00:01+00',
  '20240101120000_init', NULL, NULL, '2024-01-01 12:00+00', 1),
 ('0b1f2c3d-0000-4000-8000-000000000002', repeat('b', 64), NULL,
  '20240102120000_add_posts', 'ERROR: relation "users" does not exist',
  '2024-01-02 13:00+00', '2024-01-02 12:00+00', 0),
 ('0b1f2c3d-0000-4000-8000-000000000003', repeat('c', 64), '2024-01-03 12:00:01+00',
  '20240102120000_add_posts', NULL, NULL, '2024-01-03 12:00+00', 1),
 ('0b1f2c3d-0000-4000-8000-000000000004', repeat('d', 64), NULL,
  '20240104120000_add_tags', 'ERROR: syntax error', NULL, '2024-01-04 12:00+00', 0);
"""


@pytest.mark.pg
def test_prisma(pg: PgServer, make_db: MakeDb) -> None:
    """Rolled-back rows are ignored, the re-applied one counts, an unfinished one failed."""
    db = make_db(PRISMA_DDL)
    history = read(pg, db, MigrationSettings("prisma"))
    assert history.applied == (
        AppliedMigration("20240101120000_init", datetime(2024, 1, 1, 12, 0, 1, tzinfo=UTC),
                         "a" * 64),
        AppliedMigration("20240102120000_add_posts", datetime(2024, 1, 3, 12, 0, 1, tzinfo=UTC),
                         "c" * 64),
        AppliedMigration("20240104120000_add_tags", stamp_utc(4), "d" * 64, success=False),
    )  # fmt: skip


@pytest.mark.pg
def test_typeorm(pg: PgServer, make_db: MakeDb) -> None:
    """TypeORM's migrations table gives class names in id order."""
    db = make_db("""
        CREATE TABLE "migrations" ("id" SERIAL NOT NULL, "timestamp" bigint NOT NULL,
            "name" character varying NOT NULL,
            CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY ("id"));
        INSERT INTO migrations ("timestamp", name) VALUES
         (1704100000000, 'CreateUsers1704100000000'), (1704200000000, 'AddOrders1704200000000');
    """)
    history = read(pg, db, MigrationSettings("typeorm"))
    assert history.table == "public.migrations"
    assert history.ids == ("CreateUsers1704100000000", "AddOrders1704200000000")


@pytest.mark.pg
def test_node_pg_migrate(pg: PgServer, make_db: MakeDb) -> None:
    """pgmigrations names (file names without extension) in id order, with run_on."""
    db = make_db("""
        CREATE TABLE "public"."pgmigrations" ( id SERIAL PRIMARY KEY,
            name varchar(255) NOT NULL, run_on timestamp NOT NULL);
        INSERT INTO pgmigrations (name, run_on) VALUES
         ('1704100000000_create-users', '2024-01-01 12:00'),
         ('1704200000000_add-orders', '2024-01-02 12:00');
    """)
    history = read(pg, db, MigrationSettings("node-pg-migrate"))
    assert history.applied == (
        AppliedMigration("1704100000000_create-users", stamp(1)),
        AppliedMigration("1704200000000_add-orders", stamp(2)),
    )


@pytest.mark.pg
def test_alembic_heads(pg: PgServer, make_db: MakeDb) -> None:
    """alembic_version holds one row per head; the ids come back sorted and head_only is set."""
    db = make_db("""
        CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
        INSERT INTO alembic_version VALUES ('ae1027a6acf'), ('1975ea83b712');
    """)
    history = read(pg, db, MigrationSettings("alembic"))
    assert history.head_only
    assert history.ids == ("1975ea83b712", "ae1027a6acf")


@pytest.mark.pg
def test_custom_with_order_column(pg: PgServer, make_db: MakeDb) -> None:
    """The custom tool reads the configured table and id column, ordered by the order column."""
    db = make_db("""
        CREATE SCHEMA ops;
        CREATE TABLE ops.schema_history (version text PRIMARY KEY, seq int NOT NULL);
        INSERT INTO ops.schema_history VALUES ('b-second', 2), ('c-first', 1), ('a-third', 3);
    """)
    settings = MigrationSettings("custom", schema="ops", table="schema_history",
                                 id_column="version", order_column="seq")  # fmt: skip
    history = read(pg, db, settings)
    assert history.table == "ops.schema_history"
    assert history.ids == ("c-first", "b-second", "a-third")


@pytest.mark.pg
def test_missing_table_is_not_found(pg: PgServer, make_db: MakeDb) -> None:
    """No history table gives found=False with the unquoted qualified name, and no error."""
    db = make_db("CREATE TABLE users (id int)")
    options = "-c default_transaction_read_only=on"
    with psycopg.connect(pg.dsn(db), password=SUPERUSER_PASSWORD, options=options) as conn:
        history = read_history(conn, MigrationSettings("sequelize"))
        other_schema = read_history(conn, MigrationSettings("flyway", schema="nowhere"))
    assert history == MigrationHistory("sequelize", "public.SequelizeMeta", found=False)
    assert other_schema == MigrationHistory("flyway", "nowhere.flyway_schema_history", False)


@pytest.mark.pg
def test_schema_and_table_overrides(pg: PgServer, make_db: MakeDb) -> None:
    """Sequelize history in another schema, and under another table name, is found there."""
    db = make_db(
        'CREATE SCHEMA "Meta";' + SEQUELIZE_DDL.format(schema='"Meta"')
        + 'ALTER TABLE "Meta"."SequelizeMeta" RENAME TO "migration log";'
    )  # fmt: skip
    default = read(pg, db, MigrationSettings("sequelize"))
    moved = read(pg, db, MigrationSettings("sequelize", schema="Meta", table="migration log"))
    assert not default.found
    assert moved.table == "Meta.migration log"
    assert moved.ids == SEQUELIZE_IDS


@pytest.mark.pg
def test_role_without_select_privilege_raises(pg: PgServer, make_db: MakeDb) -> None:
    """A role that cannot SELECT the history table gets InsufficientPrivilege, not found=False."""
    db = make_db(SEQUELIZE_DDL.format(schema='"public"'))
    role, password = f"reader_{uuid.uuid4().hex[:10]}", "reader-secret-7c1d"
    with pg.admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)))  # fmt: skip
    try:
        with psycopg.connect(pg.dsn(db, user=role), password=password) as conn:
            conn.read_only = True
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                read_history(conn, MigrationSettings("sequelize"))
    finally:
        with pg.admin() as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_custom_without_id_column_is_a_value_error() -> None:
    """The custom tool cannot guess its table or id column."""
    with pytest.raises(ValueError, match="id_column"):
        history_table(MigrationSettings("custom", table="schema_history"))


def test_unknown_tool_is_a_value_error() -> None:
    """A tool name driftwatch does not know is refused with the list of known ones."""
    with pytest.raises(ValueError, match="sequelize"):
        history_table(MigrationSettings("rake"))


def test_every_tool_has_a_table_and_a_command() -> None:
    """Each supported tool has a default table (but custom) and a migrate command."""
    assert TOOLS[0] == "sequelize"
    assert len(TOOLS) == 14
    for tool in TOOLS:
        assert migrate_command(tool)
        if tool != "custom":
            assert default_table(tool).startswith("public.")
    assert default_table("sequelize") == "public.SequelizeMeta"
    assert migrate_command("alembic") == "alembic upgrade head"
    with pytest.raises(ValueError, match="custom"):
        default_table("custom")
