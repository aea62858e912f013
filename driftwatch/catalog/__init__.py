"""Read the schema of one database from the system catalogs: one set-based query per object kind."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from driftwatch.objects import CLASSES, SchemaObject

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
}

# Texts the server deparses or stores as written: whitespace alone must never be drift.
NORMALISED = frozenset({"definition", "body", "expression", "using", "with_check", "when",
                        "predicate", "default", "generated", "partition_bound"})  # fmt: skip
_SPACE = re.compile(r"\s+")
_RELATION = re.compile(r"\b(?:FROM|JOIN)\s+((?:\w+\.)?(\w+))(\s+(?!WHERE|GROUP|ORDER|LIMIT|WINDOW|HAVING"
                       r"|UNION|JOIN|LEFT|RIGHT|INNER|FULL|CROSS|ON)\w+)?", re.IGNORECASE)


def normalise(text: str) -> str:
    """Collapse runs of whitespace and drop a trailing semicolon: formatting is not drift."""
    return _SPACE.sub(" ", text).strip().removesuffix(";").rstrip()


def unqualify_single_relation(definition: str) -> str:
    """Drop `tbl.` before columns in a view over one unaliased relation.

    PostgreSQL 15 deparses `SELECT id FROM orders` as `SELECT orders.id FROM orders`; 16 and
    later leave the unneeded qualifier out. Both mean the same, so both read the later way.
    Views over several relations are qualified by every version and are left as they are.
    """
    relations = _RELATION.findall(definition)
    if len(relations) != 1 or relations[0][2]:
        return definition
    table = re.escape(relations[0][1])
    return re.sub(rf"(?<![\w.]){table}\.(?=\w)", "", definition)


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


@cache
def query(name: str) -> bytes:
    """A catalog query, prefixed with the shared filters as the CTEs `ext_members` and `ns`."""
    return (f"WITH ext_members AS (\n{_text('ext_members.sql')}\n),\n"
            f"ns AS (\n{_text('namespaces.sql')}\n)\n{_text(name)}").encode()  # fmt: skip


def _field_value(key: str, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if key in NORMALISED and isinstance(value, str):
        return normalise(value)
    return value


def build(kind: str, row: dict[str, Any]) -> SchemaObject:
    """One catalog row to its dataclass: columns are named after the fields."""
    values = {key: _field_value(key, value) for key, value in row.items()}
    if kind in ("view", "materialized_view"):
        values["definition"] = unqualify_single_relation(values["definition"])
    return CLASSES[kind](**values)


def read_schema(
    conn: psycopg.Connection[Any], options: CatalogOptions = CatalogOptions()
) -> dict[str, dict[str, SchemaObject]]:
    """Every object in scope, by kind and qualified name; all queries go in one round trip."""
    params = options.params()
    version = conn.info.server_version
    cursors = {}
    with conn.pipeline():
        for kind, filename in QUERIES.items():
            cur = conn.cursor(row_factory=dict_row)
            cur.execute(query(file_for(filename, version)), params)
            cursors[kind] = cur
    result: dict[str, dict[str, SchemaObject]] = {}
    for kind, cur in cursors.items():
        objects = [build(kind, row) for row in cur.fetchall()]
        result[kind] = {obj.key: obj for obj in sorted(objects, key=lambda o: o.key)}
    return result


Annotations = dict[str, dict[str, dict[str, object]]]


def read_annotations(conn: psycopg.Connection[Any], options: CatalogOptions) -> Annotations:
    """kind -> key -> {"owner"/"grants"/"comment": value} for the opted-in attributes only."""
    wanted = options.annotations
    if not wanted:
        return {}
    result: Annotations = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(query("annotations.sql"), options.params()):
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
