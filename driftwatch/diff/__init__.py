"""Compare two snapshots into a Drift: pure functions, no I/O below this package."""

from __future__ import annotations

from driftwatch.diff.critical import check_critical
from driftwatch.diff.migrations import compare_migrations
from driftwatch.diff.schema import compare_schema
from driftwatch.model import Drift, IgnoreRule, Side, Snapshot

__all__ = ["compare", "compare_migrations", "compare_schema"]


def side(snapshot: Snapshot) -> Side:
    """The report header for one snapshot."""
    return Side(snapshot.environment, snapshot.database, snapshot.server_version,
                snapshot.taken_at, snapshot.address)  # fmt: skip


def compare(
    reference: Snapshot,
    target: Snapshot,
    critical_tables: tuple[str, ...] = (),
    ignore: tuple[IgnoreRule, ...] = (),
    files: tuple[str, ...] | None = None,
) -> Drift:
    """Everything that differs between a target and its reference."""
    schema = compare_schema(reference, target, ignore)
    migrations = None
    if reference.migrations is not None and target.migrations is not None:
        migrations = compare_migrations(reference.migrations, target.migrations, files)
    critical = check_critical(critical_tables, reference, target, schema.differences)
    return Drift(side(reference), side(target), migrations, schema, critical)
