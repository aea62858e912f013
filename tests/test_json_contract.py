"""docs/json-report.md and the code agree: every documented field is emitted, nothing undocumented is."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftwatch.diff import compare
from driftwatch.model import AppliedMigration, IgnoreRule, MigrationHistory, Snapshot
from driftwatch.objects import CLASSES, Column, SchemaObject, Table
from driftwatch.render import json as json_report

DOC = (Path(__file__).parent.parent / "docs" / "json-report.md").read_text()
T0 = datetime(2025, 12, 2, tzinfo=UTC)


def section(title: str) -> str:
    """The text from a heading (or a line) of the doc up to the next heading."""
    start = DOC.index(title)
    end = DOC.find("\n#", start + len(title))
    return DOC[start:end if end != -1 else len(DOC)]


def table_rows(text: str) -> dict[str, str]:
    """First cell → the rest, for the markdown table rows of `text` (header and rule skipped)."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-", ":"}:
            rows[cells[0]] = " | ".join(cells[1:])
    return rows


def documented_fields(text: str, first_table_only: bool = False) -> set[str]:
    """Every backticked name in the first column of the section's field table."""
    if first_table_only:
        text = text[:text.index("\n\n", text.index("| field |"))]
    names: set[str] = set()
    for cell in table_rows(text):
        names |= set(re.findall(r"`([a-z_]+)`", cell))
    return names - {"field"}


def snap(name: str, columns: list[SchemaObject], ids: tuple[str, ...]) -> Snapshot:
    objects: dict[str, dict[str, SchemaObject]] = {}
    for obj in [Table("public", "users"), *columns]:
        objects.setdefault(obj.kind, {})[obj.key] = obj
    history = MigrationHistory("sequelize", "public.SequelizeMeta", True,
                               tuple(AppliedMigration(i) for i in ids))  # fmt: skip
    return Snapshot(name, "db", "18.1", T0, objects, history, address=f"app@127.0.0.1:5433/{name}")


def a_report() -> dict[str, Any]:
    ref = snap("uat", [Column("public.users", "email", "text", True, None)], ("1.js", "2.js"))
    tgt = snap("staging", [Column("public.users", "email", "varchar(5)", True, None)], ("1.js",))
    drift = compare(ref, tgt, ("users",), (IgnoreRule("public.tmp_*"),), files=("1.js", "2.js"))
    return json_report.report(drift)


class TestReportFields:
    """Each object of driftwatch.report/v1 has exactly the fields its doc table lists."""

    def test_top_level(self) -> None:
        """Top level: the documented fields, `error` only for a comparison that could not be checked."""
        assert set(a_report()) == documented_fields(section("### Top level")) - {"error"}

    def test_sides(self) -> None:
        """`reference` and `target` carry the documented fields."""
        report = a_report()
        documented = documented_fields(section("### `reference` and `target`"))
        assert set(report["reference"]) == documented
        assert set(report["target"]) == documented

    def test_migrations(self) -> None:
        """`migrations` carries the documented fields."""
        fields = set(a_report()["migrations"])
        assert fields == documented_fields(section("### `migrations`"))

    def test_schema_and_each_difference(self) -> None:
        """`schema` and each of its differences carry the documented fields."""
        schema = a_report()["schema"]
        assert set(schema) == documented_fields(section("### `schema`"), first_table_only=True)
        (difference,) = schema["differences"]
        assert set(difference) == documented_fields(section("Each difference:"), first_table_only=True)


def documented_attributes() -> dict[str, set[str]]:
    """kind → the attribute names the doc's "Attributes by kind" table lists for it."""
    rows = table_rows(section("Attributes by kind"))
    result: dict[str, set[str]] = {}
    for kinds, cell in rows.items():
        names = set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cell)))
        for kind in re.findall(r"`([a-z_]+)`", kinds):
            result[kind] = names
    return result


@pytest.mark.parametrize("kind", list(CLASSES))
def test_attributes_by_kind_are_the_compared_fields(kind: str) -> None:
    """A kind's documented attributes are exactly the fields the diff compares and reports."""
    cls = CLASSES[kind]
    compared = {f.name for f in dataclasses.fields(cls) if f.compare and f.name not in cls.key_fields}
    assert documented_attributes()[kind] == compared
