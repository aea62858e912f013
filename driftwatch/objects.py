"""Schema object kinds: frozen dataclasses keyed by qualified name, one per kind of the contract.

Every class has `kind`, `key_fields` (the fields its key is made of, never reported as
attributes) and `owner_field`; from them come `key` (the contract's qualified name) and
`parent` (the key of the object that owns it, so a missing table is reported once, not once
per column). Fields with
`compare=False` are kept for display but are never drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


def qualify(*parts: str) -> str:
    """Join identifiers into the contract's qualified name: unquoted, dot-separated."""
    return ".".join(parts)


class _Keyed:
    """Key and owner derived from class data: `key_fields` joined, and the `owner_field` value."""

    __slots__ = ()
    key_fields: ClassVar[tuple[str, ...]]
    owner_field: ClassVar[str | None] = None

    @property
    def key(self) -> str:
        return qualify(*(getattr(self, f) for f in self.key_fields))

    @property
    def parent(self) -> str | None:
        return getattr(self, self.owner_field) if self.owner_field else None


@dataclass(frozen=True, slots=True)
class Schema(_Keyed):
    """A namespace, keyed by its name."""

    kind: ClassVar[str] = "schema"
    key_fields: ClassVar[tuple[str, ...]] = ("name",)
    name: str


@dataclass(frozen=True, slots=True)
class Extension(_Keyed):
    """An installed extension; its member objects are never listed separately."""

    kind: ClassVar[str] = "extension"
    key_fields: ClassVar[tuple[str, ...]] = ("name",)
    name: str
    version: str
    schema: str = field(compare=False, default="public")


@dataclass(frozen=True, slots=True)
class Type(_Keyed):
    """A user-defined type: enum (values in order), domain, composite or range."""

    kind: ClassVar[str] = "type"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    type_kind: str  # enum, domain, composite, range
    values: tuple[str, ...] = ()  # enum labels in sort order
    base_type: str | None = None  # domain base type or range subtype
    default: str | None = None
    not_null: bool = False
    checks: tuple[str, ...] = ()  # domain CHECK expressions, sorted
    attributes: tuple[str, ...] = ()  # composite: "name type" in order


@dataclass(frozen=True, slots=True)
class Sequence(_Keyed):
    """A standalone sequence; serial and identity sequences belong to their column instead."""

    kind: ClassVar[str] = "sequence"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    data_type: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cache: int
    cycle: bool


@dataclass(frozen=True, slots=True)
class Table(_Keyed):
    """A table, keyed by `schema.name`; its columns and constraints are separate objects."""

    kind: ClassVar[str] = "table"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    relkind: str = "regular"  # regular, partitioned, unlogged, foreign
    partition_of: str | None = None  # qualified parent when this table is a partition
    partition_bound: str | None = None  # FOR VALUES ... of a partition
    partition_key: str | None = None  # PARTITION BY ... of a partitioned table
    inherits: tuple[str, ...] = ()  # classic inheritance parents, not partitioning
    rls_enabled: bool = False
    rls_forced: bool = False


@dataclass(frozen=True, slots=True)
class Column(_Keyed):
    """A table column, keyed by `schema.table.column`."""

    kind: ClassVar[str] = "column"
    key_fields: ClassVar[tuple[str, ...]] = ("table", "name")
    owner_field: ClassVar[str | None] = "table"
    table: str  # qualified name of the owning table
    name: str
    type: str
    nullable: bool
    default: str | None
    collation: str | None = None  # only when it differs from the type's default
    identity: str | None = None  # "always" or "by default"
    generated: str | None = None  # expression of a generated column
    # Column order is not drift (ADD COLUMN lands last wherever it is replayed), so it is
    # kept for display but left out of comparisons.
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Constraint(_Keyed):
    """A table constraint, keyed by `schema.table.constraint`; NOT NULL lives on the column."""

    kind: ClassVar[str] = "constraint"
    key_fields: ClassVar[tuple[str, ...]] = ("table", "name")
    owner_field: ClassVar[str | None] = "table"
    table: str
    name: str
    constraint_type: str  # primary key, unique, foreign key, check, exclusion
    columns: tuple[str, ...] = ()
    expression: str | None = None  # check and exclusion: their definition
    references: str | None = None  # foreign key: "schema.table(col, ...)"
    on_delete: str | None = None
    on_update: str | None = None
    match: str | None = None
    nulls_not_distinct: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    validated: bool = True  # False for NOT VALID


@dataclass(frozen=True, slots=True)
class Index(_Keyed):
    """An index that does not back a constraint, keyed by `schema.index`."""

    kind: ClassVar[str] = "index"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "table"
    schema: str
    name: str
    table: str  # qualified table (or materialized view) it indexes
    method: str
    unique: bool
    keys: tuple[str, ...]  # columns or expressions, with non-default opclass, order, nulls
    include: tuple[str, ...] = ()
    predicate: str | None = None
    nulls_not_distinct: bool = False


@dataclass(frozen=True, slots=True)
class View(_Keyed):
    """A view, keyed by `schema.name`; its definition compared in normalised form."""

    kind: ClassVar[str] = "view"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class MaterializedView(_Keyed):
    """A materialized view; its indexes are Index objects."""

    kind: ClassVar[str] = "materialized_view"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class Function(_Keyed):
    """A function or procedure, keyed by `schema.name(argument types)`."""

    kind: ClassVar[str] = "function"
    key_fields: ClassVar[tuple[str, ...]] = ("schema", "name", "arguments")
    owner_field: ClassVar[str | None] = "schema"
    schema: str
    name: str
    arguments: str  # identity argument types, e.g. "numeric, integer"
    function_kind: str  # function, procedure, aggregate, window
    returns: str | None
    language: str
    volatility: str  # immutable, stable, volatile
    strict: bool
    security_definer: bool
    body: str  # normalised source

    @property
    def key(self) -> str:
        return f"{qualify(self.schema, self.name)}({self.arguments})"


@dataclass(frozen=True, slots=True)
class Trigger(_Keyed):
    """A trigger, keyed by `schema.table.trigger`."""

    kind: ClassVar[str] = "trigger"
    key_fields: ClassVar[tuple[str, ...]] = ("table", "name")
    owner_field: ClassVar[str | None] = "table"
    table: str
    name: str
    timing: str  # before, after, instead of
    events: tuple[str, ...]  # insert, update, delete, truncate
    level: str  # row, statement
    function: str  # qualified function it executes
    when: str | None = None
    enabled: str = "origin"  # origin, always, replica, disabled


@dataclass(frozen=True, slots=True)
class Policy(_Keyed):
    """A row-level security policy, keyed by `schema.table.policy`."""

    kind: ClassVar[str] = "policy"
    key_fields: ClassVar[tuple[str, ...]] = ("table", "name")
    owner_field: ClassVar[str | None] = "table"
    table: str
    name: str
    command: str  # all, select, insert, update, delete
    permissive: bool
    roles: tuple[str, ...]
    using: str | None = None
    with_check: str | None = None


SchemaObject = (
    Schema | Extension | Type | Sequence | Table | Column | Constraint | Index | View
    | MaterializedView | Function | Trigger | Policy
)

# kind -> class, in the contract's report order.
CLASSES: dict[str, type[SchemaObject]] = {
    cls.kind: cls
    for cls in (Schema, Extension, Type, Sequence, Table, Column, Constraint, Index, View,
                MaterializedView, Function, Trigger, Policy)
}  # fmt: skip
KINDS: tuple[str, ...] = tuple(CLASSES)
