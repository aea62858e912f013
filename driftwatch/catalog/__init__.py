"""Read the schema of one database from the system catalogs: one set-based query per object kind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from driftwatch.catalog.build import ColumnOrderError, build_all, check_columns
from driftwatch.objects import SchemaObject

# kind -> query file. A new kind is a dataclass in objects.py, a .sql file and a line here.
QUERIES: dict[str, str] = {
    "schema": "schemas.sql",
    "extension": "extensions.sql",
    "type": "types.sql",
    "sequence": "sequences.sql",
    "table": "tables.sql",
    "column": "columns.sql",
    "constraint": "constraints.sql",
    "index": "indexes.sql",
    "view": "views.sql",
    "materialized_view": "materialized_views.sql",
    "function": "functions.sql",
    "trigger": "triggers.sql",
    "policy": "policies.sql",
}

# Files with a variant for older servers: (file, first version that uses the main file).
# Explicit, rather than patching SQL text at run time.
VARIANTS: dict[str, tuple[str, int]] = {
    "functions.sql": ("functions.pg13.sql", 140000),  # pg_get_function_sqlbody is 14+
    "index_options.sql": ("index_options.pg14.sql", 150000),  # NULLS NOT DISTINCT is 15+
}

def file_for(name: str, server_version_num: int) -> str:
    """The query file to use for `name` on a server of this version."""
    variant = VARIANTS.get(name)
    if variant is not None and server_version_num < variant[1]:
        return variant[0]
    return name


@dataclass(frozen=True, slots=True)
class CatalogOptions:
    """What to read beyond the default: each flag is a `[schema]` opt-in."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extension_objects: bool = False
    owners: bool = False
    grants: bool = False
    comments: bool = False

    def params(self) -> dict[str, Any]:
        return {"include": list(self.include), "exclude": list(self.exclude),
                "extension_objects": self.extension_objects}  # fmt: skip

    @property
    def annotations(self) -> tuple[str, ...]:
        """The annotation attributes asked for, in report order."""
        wanted = (("owner", self.owners), ("grants", self.grants), ("comment", self.comments))
        return tuple(name for name, on in wanted if on)


def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


# Shared filters every query can use, as CTEs in this order. A query that needs CTEs of its
# own continues the WITH list by starting with a comma.
SHARED = ("ext_members", "ns", "index_options")
_SHARED_FILES = {"ext_members": "ext_members.sql", "ns": "namespaces.sql",
                 "index_options": "index_options.sql"}  # fmt: skip


@cache
def query(name: str, server_version_num: int = 180000) -> bytes:
    """A catalog query for a server of this version, prefixed with the shared CTEs."""
    ctes = ",\n".join(f"{cte} AS (\n{_text(file_for(_SHARED_FILES[cte], server_version_num))}\n)"
                      for cte in SHARED)  # fmt: skip
    body = _text(file_for(name, server_version_num))
    return f"WITH {ctes}\n{body}".encode()


# The kinds with a row per column, constraint or index: a 20,000-table schema has 240,000
# column rows. They are streamed in chunks after the pipeline, so that no more than one
# chunk of them is ever held in libpq's memory (a whole columns result is ~60 MB there).
STREAMED = ("column", "constraint", "index")
CHUNK_ROWS = 2000


def _rows(kind: str, cur: psycopg.Cursor[tuple[Any, ...]], rows: Iterator[tuple[Any, ...]]
          ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """The rows, once the cursor's columns are known to match the kind's fields."""
    first = next(rows, None)  # the result (and its description) arrives on first read
    names = [c.name for c in cur.description or ()]
    if first is None and not names:
        return  # an empty streamed result has no description; there is nothing to build
    check_columns(kind, names)
    if first is not None:
        yield first
        yield from rows


def _stream(cur: psycopg.Cursor[tuple[Any, ...]], sql: bytes, params: dict[str, Any]
            ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """The query's rows, fetched CHUNK_ROWS at a time (libpq 17+), else one at a time."""
    if psycopg.pq.version() >= 170000:
        try:
            return cur.stream(sql, params, size=CHUNK_ROWS)
        except TypeError:  # psycopg before 3.2 has no chunked stream
            pass
    return cur.stream(sql, params)


# pg_get_viewdef takes ACCESS SHARE on the view and every relation it reads and keeps it until
# the (sub)transaction ends. Held through the rest of the read, it would make a migration's ALTER
# TABLE wait, and the application's queries queue behind that ALTER; taken for 7,000 views at
# once, it fills the server's lock table (max_locks_per_transaction = 64: "out of shared
# memory"). So these kinds are read last, VIEW_BATCH objects per query, each query inside a
# savepoint that is rolled back: rolling back a subtransaction releases the locks it took
# (RELEASE would hand them to the transaction), while the REPEATABLE READ snapshot stays the
# same for every batch. At most one batch's locks are held at any moment.
LOCKING = ("view", "materialized_view")
VIEW_BATCH = 100


def _read_batched(conn: psycopg.Connection[Any], kind: str, params: dict[str, Any]
                  ) -> dict[str, SchemaObject]:  # fmt: skip
    """One locking kind, VIEW_BATCH objects at a time by oid, each batch's locks released."""
    sql = query(QUERIES[kind], conn.info.server_version)
    built: dict[str, SchemaObject] = {}
    after = 0
    while True:
        with conn.transaction(force_rollback=True), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, {**params, "after": after, "batch": VIEW_BATCH})
            rows = cur.fetchall()  # all of it before the rollback: the locks go with it
            names = [c.name for c in cur.description or ()]
        if names[-1:] != ["oid"]:
            raise ColumnOrderError(f"{kind} query must end with its oid, returns {tuple(names)}")
        check_columns(kind, names[:-1])
        # The builder reads each row's fields by position, so the trailing oid is left alone.
        built.update(build_all(kind, rows))
        if len(rows) < VIEW_BATCH:
            return built
        after = max(int(row[-1]) for row in rows)


def _pipelined(conn: psycopg.Connection[Any], kinds: tuple[str, ...], params: dict[str, Any]
               ) -> dict[str, dict[str, SchemaObject]]:  # fmt: skip
    """Several small kinds in one round trip."""
    built = {}
    with conn.pipeline():
        cursors = {}
        for kind in kinds:
            cur = conn.cursor(row_factory=tuple_row)
            cur.execute(query(QUERIES[kind], conn.info.server_version), params)
            cursors[kind] = cur
        for kind, cur in cursors.items():
            built[kind] = build_all(kind, _rows(kind, cur, iter(cur)))
            cur.close()
    return built


def read_schema(
    conn: psycopg.Connection[Any], options: CatalogOptions = CatalogOptions()
) -> dict[str, dict[str, SchemaObject]]:
    """Every object in scope, by kind and qualified name; ends the connection's transaction.

    The small kinds go out together in one pipeline (one round trip); the three big ones are
    then streamed one after the other, each built while its rows arrive; views come last, in
    batches whose locks are released one batch at a time. All of it runs in one read-only
    REPEATABLE READ transaction, so every kind sees the same moment of the catalog, and the
    transaction is committed at once so no lock outlives the read.
    """
    params = options.params()
    small = tuple(k for k in QUERIES if k not in STREAMED and k not in LOCKING)
    built = _pipelined(conn, small, params)
    for kind in STREAMED:
        with conn.cursor(row_factory=tuple_row) as cur:
            rows = _stream(cur, query(QUERIES[kind], conn.info.server_version), params)
            built[kind] = build_all(kind, _rows(kind, cur, iter(rows)))
    # Not pipelined: a pipeline right after a chunked stream fails with "unexpected result status
    # TUPLES_CHUNK" (psycopg 3.3.9, libpq 18).
    for kind in LOCKING:
        built[kind] = _read_batched(conn, kind, params)
    conn.commit()
    return {kind: built[kind] for kind in QUERIES}


Annotations = dict[str, dict[str, dict[str, object]]]


def read_annotations(conn: psycopg.Connection[Any], options: CatalogOptions) -> Annotations:
    """kind -> key -> {"owner"/"grants"/"comment": value} for the opted-in attributes only."""
    wanted = options.annotations
    if not wanted:
        return {}
    result: Annotations = {}
    with conn.cursor(row_factory=dict_row) as cur:
        sql = query("annotations.sql", conn.info.server_version)
        for row in cur.execute(sql, options.params()):
            values = {k: tuple(row[k]) if k == "grants" else row[k] for k in wanted}
            result.setdefault(row["kind"], {})[row["key"]] = values
    return result


def read_fingerprint(conn: psycopg.Connection[Any]) -> str:
    """The server-side catalog fingerprint: equal values mean no catalog change in between."""
    cur = conn.execute(resources.files(__package__).joinpath("fingerprint.sql").read_bytes())
    return f"catalog:{cur.fetchall()[0][0]}"


def server_facts(conn: psycopg.Connection[Any]) -> tuple[str, str]:
    """(server version, database name) of the connection."""
    cur = conn.execute("SELECT current_setting('server_version'), current_database()")
    version, database = cur.fetchall()[0]
    return str(version).split(" ")[0], str(database)
