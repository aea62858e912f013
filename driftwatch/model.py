"""The data driftwatch works on: snapshots of one environment and the drift between two."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from driftwatch.objects import KINDS, Column, SchemaObject, Table, qualify

__all__ = ["KINDS", "Column", "SchemaObject", "Table", "qualify"]

Change = Literal["missing", "extra", "changed"]

# How counts are named in reports: {"tables": 45, "indexes": 12, ...}.
PLURALS = {kind: "indexes" if kind == "index" else (
    "policies" if kind == "policy" else f"{kind}s") for kind in KINDS}


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """One row of a migration tool's history, as the tool recorded it."""

    id: str
    applied_at: datetime | None = None
    checksum: str | None = None
    # False for a failed, dirty or half-applied migration.
    success: bool = True


@dataclass(frozen=True, slots=True)
class MigrationHistory:
    """What one environment's migration history table says."""

    tool: str
    table: str  # qualified name of the history table
    found: bool  # False when the history table does not exist
    applied: tuple[AppliedMigration, ...] = ()
    # Tools such as alembic and golang-migrate record the current head, not a list.
    head_only: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.applied)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything driftwatch read from one environment at one moment."""

    environment: str
    database: str
    server_version: str
    taken_at: datetime
    # kind -> qualified name -> object; built once by the catalog reader, never mutated.
    objects: Mapping[str, Mapping[str, SchemaObject]]
    migrations: MigrationHistory | None = None
    address: str = ""  # user@host:port/dbname it was read from; never a password
    # Opted-in owner/grants/comment per object: kind -> key -> attribute -> value.
    annotations: Mapping[str, Mapping[str, Mapping[str, object]]] = field(default_factory=dict)

    def of_kind(self, kind: str) -> Mapping[str, SchemaObject]:
        return self.objects.get(kind, {})

    def parent_of(self, kind: str, key: str) -> str | None:
        """The key of the object that owns `key` (a column's table, a table's schema)."""
        obj = self.of_kind(kind).get(key)
        return obj.parent if obj is not None else None

    def counts(self) -> dict[str, int]:
        """Objects per kind, in contract order, e.g. {"tables": 45, "columns": 523}."""
        return {PLURALS[kind]: len(self.of_kind(kind)) for kind in KINDS if kind in self.objects}


@dataclass(frozen=True, slots=True)
class Difference:
    """One object that differs between reference and target."""

    kind: str
    name: str
    change: Change
    # For `changed`: only the attributes that differ; for missing/extra: the object's attributes.
    reference: Mapping[str, object] | None
    target: Mapping[str, object] | None


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """A glob on qualified names, optionally only for some kinds (`[schema] ignore`)."""

    pattern: str
    kinds: tuple[str, ...] = ()

    def matches(self, kind: str, name: str) -> bool:
        return (not self.kinds or kind in self.kinds) and fnmatch.fnmatchcase(name, self.pattern)

    @property
    def label(self) -> str:
        return f"{self.pattern} ({', '.join(self.kinds)})" if self.kinds else self.pattern


@dataclass(frozen=True, slots=True)
class IgnoredCount:
    """How many differences one `ignore` rule left out of a report."""

    rule: str
    count: int


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """The schema half of a comparison."""

    reference_counts: Mapping[str, int]
    target_counts: Mapping[str, int]
    differences: tuple[Difference, ...]
    ignored: tuple[IgnoredCount, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecksumMismatch:
    """The same migration recorded with different checksums on the two sides."""

    id: str
    reference: str | None
    target: str | None


@dataclass(frozen=True, slots=True)
class MigrationDiff:
    """The migration half of a comparison."""

    tool: str
    table: str
    reference_found: bool
    target_found: bool
    reference_count: int
    target_count: int
    missing: tuple[str, ...]  # applied in the reference, not in the target, in order
    extra: tuple[str, ...]  # applied only in the target
    failed: tuple[str, ...]  # failed or dirty entries in the target
    checksum_mismatches: tuple[ChecksumMismatch, ...]
    head_only: bool = False
    files_count: int | None = None
    unapplied_files: tuple[str, ...] = ()  # migration files applied in neither environment
    reference_failed: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return (
            self.reference_found
            and self.target_found
            and not self.missing
            and not self.extra
            and not self.failed
            and not self.reference_failed
            and not self.checksum_mismatches
        )


CriticalStatus = Literal["ok", "missing_in_target", "missing_in_reference", "missing", "different"]


@dataclass(frozen=True, slots=True)
class CriticalTable:
    """The verdict on one table the team marked critical."""

    name: str
    status: CriticalStatus
    differences: tuple[Difference, ...] = ()


@dataclass(frozen=True, slots=True)
class Side:
    """Which environment a report side describes."""

    name: str
    database: str
    server_version: str
    taken_at: datetime
    address: str  # host:port/dbname, never a password


@dataclass(frozen=True, slots=True)
class Drift:
    """The full result of comparing a target environment against its reference."""

    reference: Side
    target: Side
    migrations: MigrationDiff | None
    schema: SchemaDiff
    critical_tables: tuple[CriticalTable, ...]

    @property
    def in_sync(self) -> bool:
        migrations_ok = self.migrations is None or self.migrations.in_sync
        critical_ok = all(t.status == "ok" for t in self.critical_tables)
        return migrations_ok and critical_ok and not self.schema.differences


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A comparison that could not be checked, with the one sentence that says why."""

    reference: str
    target: str
    reason: str  # short machine-readable cause: refused, auth, unknown_database, ...
    message: str


Outcome = Drift | CheckFailure
