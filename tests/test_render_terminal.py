"""The terminal report at scale: counts first, details capped, every change described."""

from __future__ import annotations

from datetime import UTC, datetime

from driftwatch.diff import compare
from driftwatch.model import Snapshot
from driftwatch.objects import Column, Constraint, SchemaObject, Table
from driftwatch.render.terminal import Style, describe, render_drift

T0 = datetime(2025, 12, 2, tzinfo=UTC)


def snap(name: str, objects: list[SchemaObject]) -> Snapshot:
    by_kind: dict[str, dict[str, SchemaObject]] = {}
    for obj in objects:
        by_kind.setdefault(obj.kind, {})[obj.key] = obj
    return Snapshot(name, "db", "18.1", T0, by_kind, address=f"app@127.0.0.1:5433/{name}")


def big_drift() -> tuple[Snapshot, Snapshot]:
    """500 differences: 100 missing tables, 300 changed columns, 100 extra constraints."""
    tables = [Table("public", f"t{i:03d}") for i in range(200)]
    cols = [Column("public.t000", f"c{i:03d}", "integer", True, None) for i in range(300)]
    wider = [Column("public.t000", f"c{i:03d}", "bigint", True, None) for i in range(300)]
    checks = [Constraint("public.t000", f"k{i:03d}", "check", expression=f"CHECK (c000 > {i})")
              for i in range(100)]
    return snap("uat", [*tables, *cols]), snap("staging", [*tables[:100], *wider, *checks])


def test_500_differences_stay_readable() -> None:
    """Counts per kind come first; each kind lists at most --limit lines and says how many more."""
    ref, tgt = big_drift()
    drift = compare(ref, tgt)
    assert len(drift.schema.differences) == 500
    text = render_drift(drift, Style(limit=20))
    lines = text.splitlines()
    assert len(lines) < 140
    table_row = next(line for line in lines if line.strip().startswith("table "))
    assert table_row.split() == ["table", "100", "0", "0"]
    assert next(line for line in lines if line.strip().startswith("column ")).split() == [
        "column", "0", "0", "300"]
    assert "     … and 80 more (--limit 0 lists all; --json has every detail)" in lines
    assert "     … and 280 more (--limit 0 lists all; --json has every detail)" in lines
    assert text.index("missing in staging") < text.index("   table (100)")


def test_limit_zero_lists_everything() -> None:
    """--limit 0 lists all 500 differences."""
    ref, tgt = big_drift()
    text = render_drift(compare(ref, tgt), Style(limit=0))
    assert sum(1 for line in text.splitlines() if line.startswith("     - ")) == 500
    assert "more (--limit 0" not in text


def test_changed_attributes_read_as_before_and_after() -> None:
    """A foreign key action and a numeric precision read as `old → new`."""
    ref = snap("uat", [Table("public", "w"),
                       Column("public.w", "balance", "numeric(18,2)", False, None),
                       Constraint("public.w", "w_user_fk", "foreign key", ("user_id",),
                                  references="public.users(id)", on_delete="RESTRICT")])
    tgt = snap("staging", [Table("public", "w"),
                           Column("public.w", "balance", "numeric(20,4)", True, None),
                           Constraint("public.w", "w_user_fk", "foreign key", ("user_id",),
                                      references="public.users(id)", on_delete="CASCADE")])
    lines = [describe(d, "uat", "staging") for d in compare(ref, tgt).schema.differences]
    assert lines == [
        "public.w.balance: type numeric(18,2) → numeric(20,4); nullable NOT NULL → NULL",
        "public.w.w_user_fk: on_delete RESTRICT → CASCADE",
    ]
