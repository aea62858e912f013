"""One reader per migration tool: each reads the tool's history table the way the tool writes it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import AppliedMigration, MigrationHistory, qualify

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]
Reader = Callable[[Conn, sql.Identifier, MigrationSettings], tuple[AppliedMigration, ...]]
SortKey = Callable[[str], Any]

DEFAULT_SCHEMA = "public"
# How a history row whose id column is NULL is named in reports (no real id has parentheses).
NULL_ID = "(NULL id)"


@dataclass(frozen=True, slots=True)
class Adapter:
    """How to find and read one tool's history, and how a person applies pending migrations."""

    table: str  # the tool's default table name, in DEFAULT_SCHEMA
    command: str
    read: Reader
    # The table holds the current head(s), not the list of applied migrations.
    head_only: bool = False


def _select(
    conn: Conn,
    table: sql.Identifier,
    columns: Sequence[str],
    order: Sequence[sql.Composable] = (),
    where: sql.Composable | None = None,
) -> list[Row]:
    """Rows of `columns` from `table`; every identifier is quoted by psycopg."""
    query = sql.SQL("SELECT {columns} FROM {table}").format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns), table=table
    )
    if where is not None:
        query = sql.Composed([query, sql.SQL(" WHERE "), where])
    if order:
        query = sql.Composed([query, sql.SQL(" ORDER BY "), sql.SQL(", ").join(order)])
    # The caller's connection may carry any row factory; the readers below unpack tuples.
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(query).fetchall()


def _by(*columns: str) -> list[sql.Composable]:
    return [sql.Identifier(c) for c in columns]


def text_key(version: str) -> str:
    """Code-point order: what JavaScript's sort() and PostgreSQL's "C" collation give."""
    return version


def version_key(version: str) -> tuple[int, int, str]:
    """Digit strings by value (Rails compares versions as integers), anything else after them."""
    if version.isascii() and version.isdigit():
        return (0, int(version), version)
    return (1, 0, version)


def _list_reader(
    id_column: str,
    order_column: str | None = None,
    applied_column: str | None = None,
    key: SortKey = text_key,
) -> Reader:
    """A reader for tools whose table is a plain list of ids, honouring id/order overrides."""

    def read(conn: Conn, table: sql.Identifier, settings: MigrationSettings) -> tuple[AppliedMigration, ...]:
        ident = settings.id_column or id_column
        order = settings.order_column or order_column
        columns = [ident] if applied_column is None else [ident, applied_column]
        rows = _select(conn, table, columns, _by(order) if order else ())
        applied, seen = [], set()
        for row in rows:
            ident_value = NULL_ID if row[0] is None else str(row[0])
            # A NULL id or an id recorded twice is a broken history, never "in sync": such a
            # row becomes a failed entry, reported like a failed or dirty migration.
            broken = row[0] is None or ident_value in seen
            seen.add(ident_value)
            applied.append(AppliedMigration(ident_value, row[1] if applied_column else None,
                                            success=not broken))  # fmt: skip
        if order is None:
            # Sorted here, not in SQL, so two databases with different collations agree.
            applied.sort(key=lambda m: key(m.id))
        return tuple(applied)

    return read


def _read_flyway(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """Replay flyway_schema_history in installed_rank order."""
    rows = _select(conn, table, ["version", "script", "type", "checksum", "installed_on",
                                 "success"], _by("installed_rank"))  # fmt: skip
    current: dict[str, AppliedMigration] = {}
    for version, script, kind, checksum, installed_on, success in rows:
        if kind == "SCHEMA":  # the "<< Flyway Schema Creation >>" marker, not a migration
            continue
        key = str(version) if version is not None else str(script)
        # A repeatable migration gets a new row each time it re-runs: the latest row is its
        # state and its position. DELETE (repair) and UNDO_* rows take a version back out.
        current.pop(key, None)
        if kind == "DELETE" or str(kind).startswith("UNDO"):
            continue
        current[key] = AppliedMigration(
            key, installed_on, None if checksum is None else str(checksum), bool(success)
        )
    return tuple(current.values())


def _read_liquibase(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """DATABASECHANGELOG: one row per changeset, identified by file, id and author together."""
    rows = _select(conn, table, ["filename", "id", "author", "dateexecuted", "md5sum",
                                 "exectype"], _by("orderexecuted", "dateexecuted"))  # fmt: skip
    return tuple(
        AppliedMigration(f"{filename}::{ident}::{author}", executed, md5sum, exectype != "FAILED")
        for filename, ident, author, executed, md5sum, exectype in rows
    )


def _read_django(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """django_migrations: a migration is named within its app, so the id is `app.name`."""
    rows = _select(conn, table, ["app", "name", "applied"], _by("id"))
    return tuple(AppliedMigration(f"{app}.{name}", applied) for app, name, applied in rows)


def _read_goose(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """goose_db_version is a log: a version's latest row says whether it is applied now."""
    rows = _select(conn, table, ["version_id", "is_applied", "tstamp"], _by("id"))
    latest: dict[int, Row] = {}
    for row in rows:
        latest.pop(row[0], None)  # re-insert so the dict keeps latest-row order
        latest[row[0]] = row
    return tuple(
        AppliedMigration(str(version), tstamp)
        for version, is_applied, tstamp in latest.values()
        # Version 0 is the row goose writes when it creates the table.
        if is_applied and version != 0
    )


def _read_prisma(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """_prisma_migrations: rolled-back rows no longer count; unfinished ones failed."""
    order = [sql.Identifier("started_at"),
             sql.SQL('{} COLLATE "C"').format(sql.Identifier("migration_name"))]  # fmt: skip
    rows = _select(conn, table, ["migration_name", "checksum", "started_at", "finished_at"],
                   order, sql.SQL("rolled_back_at IS NULL"))  # fmt: skip
    return tuple(
        AppliedMigration(name, finished or started, checksum, finished is not None)
        for name, checksum, started, finished in rows
    )


def _read_golang_migrate(
    conn: Conn, table: sql.Identifier, settings: MigrationSettings
) -> tuple[AppliedMigration, ...]:
    """schema_migrations holds one row, the current version; dirty means it stopped halfway."""
    rows = _select(conn, table, ["version", "dirty"], _by("version"))
    return tuple(AppliedMigration(str(version), success=not dirty) for version, dirty in rows)


ADAPTERS: dict[str, Adapter] = {
    "sequelize": Adapter("SequelizeMeta", "npx sequelize-cli db:migrate", _list_reader("name")),
    "flyway": Adapter("flyway_schema_history", "flyway migrate", _read_flyway),
    "liquibase": Adapter("databasechangelog", "liquibase update", _read_liquibase),
    "django": Adapter("django_migrations", "python manage.py migrate", _read_django),
    "rails": Adapter("schema_migrations", "bin/rails db:migrate",
                     _list_reader("version", key=version_key)),
    "dbmate": Adapter("schema_migrations", "dbmate up", _list_reader("version", key=version_key)),
    "golang-migrate": Adapter("schema_migrations",
                              'migrate -path ./migrations -database "$DATABASE_URL" up',
                              _read_golang_migrate, head_only=True),
    "knex": Adapter("knex_migrations", "npx knex migrate:latest",
                    _list_reader("name", "id", "migration_time")),
    "goose": Adapter("goose_db_version", "goose up", _read_goose),
    "prisma": Adapter("_prisma_migrations", "npx prisma migrate deploy", _read_prisma),
    "typeorm": Adapter("migrations", "npx typeorm migration:run", _list_reader("name", "id")),
    "node-pg-migrate": Adapter("pgmigrations", "npx node-pg-migrate up",
                               _list_reader("name", "id", "run_on")),
    "alembic": Adapter("alembic_version", "alembic upgrade head", _list_reader("version_num"),
                       head_only=True),
    "custom": Adapter("", "your migration tool", _list_reader("")),
}  # fmt: skip


def adapter(tool: str) -> Adapter:
    """The adapter for `tool`; an unknown name is a ValueError listing the known ones."""
    try:
        return ADAPTERS[tool]
    except KeyError:
        raise ValueError(f"unknown migration tool {tool!r}; one of {', '.join(ADAPTERS)}") from None


def history_table(settings: MigrationSettings) -> tuple[str, str]:
    """(schema, table) of the history table: the settings' overrides, else the tool's default."""
    found = adapter(settings.tool)
    if settings.tool == "custom" and not (settings.table and settings.id_column):
        raise ValueError(
            "The custom migration tool needs both table and id_column in [migrations], "
            'e.g. table = "schema_history" and id_column = "version".'
        )
    return settings.schema or DEFAULT_SCHEMA, settings.table or found.table


def default_table(tool: str) -> str:
    """The qualified `schema.table` a tool writes its history to when not told otherwise."""
    if tool == "custom":
        raise ValueError("The custom migration tool has no default table; set table in [migrations].")
    return qualify(DEFAULT_SCHEMA, adapter(tool).table)


def migrate_command(tool: str) -> str:
    """The command a person runs to apply pending migrations with `tool`."""
    return adapter(tool).command


def _exists(conn: Conn, table: sql.Identifier) -> bool:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table.as_string(conn)]).fetchone()
    return bool(row and row[0])


def _unique(applied: Iterable[AppliedMigration]) -> tuple[AppliedMigration, ...]:
    """One entry per id, at its latest position: the diff treats ids as a set with an order."""
    latest: dict[str, AppliedMigration] = {}
    for migration in applied:
        latest.pop(migration.id, None)
        latest[migration.id] = migration
    return tuple(latest.values())


def read_history(conn: Conn, settings: MigrationSettings) -> MigrationHistory:
    """Read the configured tool's history table inside the caller's read-only transaction.

    Permission errors propagate (psycopg.errors.InsufficientPrivilege): the caller explains
    them. id_column/order_column override the list-shaped tools (sequelize, rails, dbmate,
    knex, typeorm, node-pg-migrate, alembic, custom); the others have a fixed layout.
    """
    tool = adapter(settings.tool)
    schema, name = history_table(settings)
    table = sql.Identifier(schema, name)
    qualified = qualify(schema, name)
    if not _exists(conn, table):
        return MigrationHistory(settings.tool, qualified, found=False, head_only=tool.head_only)
    applied = _unique(tool.read(conn, table, settings))
    return MigrationHistory(settings.tool, qualified, True, applied, tool.head_only)
