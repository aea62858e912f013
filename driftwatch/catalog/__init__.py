"""Read the schema of one database from the system catalogs: one set-based query per object kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from driftwatch.model import Column, SchemaObject, Table, qualify

Row = dict[str, Any]


def _table(row: Row) -> Table:
    return Table(row["schema"], row["name"], row["relkind"])


def _column(row: Row) -> Column:
    return Column(
        qualify(row["schema"], row["table_name"]), row["name"], row["type"], row["nullable"],
        row["default"], row["position"],
    )  # fmt: skip


# kind -> (query file, row builder). A new kind is a .sql file and a line here.
READERS: Mapping[str, tuple[str, Callable[[Row], SchemaObject]]] = {
    "table": ("tables.sql", _table),
    "column": ("columns.sql", _column),
}


@cache
def query(name: str) -> str:
    """The text of a catalog query, prefixed with the schema filter as the CTE `ns`."""
    folder = resources.files(__package__)
    namespaces = folder.joinpath("namespaces.sql").read_text(encoding="utf-8")
    body = folder.joinpath(name).read_text(encoding="utf-8")
    return f"WITH ns AS (\n{namespaces}\n)\n{body}"


def read_schema(
    conn: psycopg.Connection[Any],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> dict[str, dict[str, SchemaObject]]:
    """Every object in scope, by kind and qualified name; all queries go in one round trip."""
    params = {"include": list(include), "exclude": list(exclude)}
    cursors = {}
    with conn.pipeline():
        for kind, (filename, _) in READERS.items():
            cur = conn.cursor(row_factory=dict_row)
            cur.execute(query(filename).encode(), params)
            cursors[kind] = cur
    result: dict[str, dict[str, SchemaObject]] = {}
    for kind, cur in cursors.items():
        build = READERS[kind][1]
        objects = (build(row) for row in cur.fetchall())
        result[kind] = {obj.key: obj for obj in sorted(objects, key=lambda o: o.key)}
    return result


def server_facts(conn: psycopg.Connection[Any]) -> tuple[str, str]:
    """(server version, database name) of the connection."""
    cur = conn.execute("SELECT current_setting('server_version'), current_database()")
    version, database = cur.fetchall()[0]
    return str(version).split(" ")[0], str(database)
