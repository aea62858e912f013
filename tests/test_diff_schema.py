"""The pure schema diff: folding, ignore rules with counts, critical tables, order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from driftwatch.config import ConfigError, parse
from driftwatch.diff import compare
from driftwatch.model import IgnoreRule, Snapshot
from driftwatch.objects import Column, Index, Schema, SchemaObject, Table

T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)


def snap(*objects: SchemaObject) -> Snapshot:
    by_kind: dict[str, dict[str, SchemaObject]] = {}
    for obj in objects:
        by_kind.setdefault(obj.kind, {})[obj.key] = obj
    return Snapshot("env", "db", "18.1", T0, by_kind)


def col(table: str, name: str, type_: str = "integer", nullable: bool = True) -> Column:
    return Column(table, name, type_, nullable, None)


USERS = (Schema("public"), Table("public", "users"), col("public.users", "id", nullable=False),
         col("public.users", "email", "text"))


class TestFolding:
    """A whole missing object is one difference; its children are not listed again."""

    def test_missing_table_folds_columns_and_indexes(self) -> None:
        """A missing table with columns and an index gives exactly one difference."""
        ref = snap(*USERS, Index("public", "users_email_idx", "public.users", "btree", False, ("email",)))
        drift = compare(ref, snap(Schema("public")))
        assert [(d.kind, d.name, d.change) for d in drift.schema.differences] == [
            ("table", "public.users", "missing")]

    def test_missing_schema_folds_its_tables(self) -> None:
        """An extra schema with a table in it is one difference."""
        tgt = snap(*USERS, Schema("scratch"), Table("scratch", "tmp"), col("scratch.tmp", "x"))
        drift = compare(snap(*USERS), tgt)
        assert [(d.kind, d.name, d.change) for d in drift.schema.differences] == [
            ("schema", "scratch", "extra")]

    def test_changed_column_reports_only_what_differs(self) -> None:
        """A type change lists the type alone, on each side."""
        tgt = snap(*USERS[:3], col("public.users", "email", "character varying(255)"))
        (d,) = compare(snap(*USERS), tgt).schema.differences
        assert (d.change, d.reference, d.target) == (
            "changed", {"type": "text"}, {"type": "character varying(255)"})

    def test_column_order_is_not_drift(self) -> None:
        """The same columns at other positions are no difference."""
        moved = Column("public.users", "email", "text", True, None, position=9)
        assert compare(snap(*USERS), snap(*USERS[:3], moved)).schema.differences == ()


class TestIgnore:
    """Ignore rules leave differences out and always say how many."""

    def test_rule_limited_to_kinds_counts_what_it_hid(self) -> None:
        """A table-only rule hides the partition table but not a column of the same name."""
        tgt = snap(*USERS, Table("public", "events_2025"), Table("public", "users_x"),
                   col("public.users", "events_2025"))
        rules = (IgnoreRule("public.events_*", ("table",)), IgnoreRule("public.*.events_*"),
                 IgnoreRule("nothing.*"))
        drift = compare(snap(*USERS), tgt, ignore=rules)
        assert [d.name for d in drift.schema.differences] == ["public.users_x"]
        assert [(i.rule, i.count) for i in drift.schema.ignored] == [
            ("public.events_* (table)", 1), ("public.*.events_*", 1), ("nothing.*", 0)]

    def test_config_accepts_strings_and_tables(self) -> None:
        """`ignore` takes globs and {pattern, kinds}; an unknown kind is a located error."""
        base = {"environments": {"a": {"dsn": "host=h"}, "b": {"dsn": "host=h"}},
                "comparisons": [{"reference": "a", "target": "b"}]}
        config = parse({**base, "schema": {"ignore": [
            "public.tmp_*", {"pattern": "public.events_*", "kinds": ["table", "index"]}]}}, None, {})
        assert config.schema.ignore == (
            IgnoreRule("public.tmp_*"), IgnoreRule("public.events_*", ("table", "index")))
        with pytest.raises(ConfigError, match=r"schema.ignore\[0\].kinds: unknown kind 'tables'"):
            parse({**base, "schema": {"ignore": [{"pattern": "x", "kinds": ["tables"]}]}}, None, {})


class TestCritical:
    """Critical tables get one verdict each, in the configured order."""

    def test_statuses(self) -> None:
        """ok, different, missing in target, missing in reference and missing on both."""
        ref = snap(*USERS, Table("public", "wallets"), Table("public", "gone"))
        tgt = snap(*USERS[:3], col("public.users", "email", "citext"), Table("public", "wallets"),
                   Table("app", "extra"))
        drift = compare(ref, tgt, critical_tables=("wallets", "users", "gone", "app.extra", "nope"))
        assert [(t.name, t.status) for t in drift.critical_tables] == [
            ("public.wallets", "ok"), ("public.users", "different"),
            ("public.gone", "missing_in_target"), ("app.extra", "missing_in_reference"),
            ("public.nope", "missing")]
        assert drift.in_sync is False
