"""Turn catalog rows into objects fast: one conversion plan per kind, made once.

Each query selects its columns in the order of its dataclass's fields, so a row becomes an
object by position, without a dict per row. The plan says which positions are arrays (made
tuples), which are server text to normalise, and which are short names worth interning
(a 20,000-table schema repeats `public`, `integer` and each table name many times).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from driftwatch.objects import CLASSES, SchemaObject

# Texts the server stores as written or deparses: whitespace alone must never be drift.
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


class ColumnOrderError(RuntimeError):
    """A catalog query's columns do not match its dataclass: a bug in driftwatch itself."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How to turn one kind's rows into objects."""

    cls: Callable[..., SchemaObject]
    fields: tuple[str, ...]
    arrays: tuple[int, ...]
    texts: tuple[int, ...]
    names: tuple[int, ...]
    views: bool  # view definitions also get unqualify_single_relation
    key: Callable[[list[Any]], str]  # the object's `key`, computed from the row directly


def _key_maker(kind: str, fields: tuple[str, ...]) -> Callable[[list[Any]], str]:
    """Keys by plain concatenation: objects.py's `key` properties, without a call per part.

    tests/test_catalog_build.py checks both agree for every kind.
    """
    if kind in ("schema", "extension"):
        return lambda v: v[0]
    first = fields.index("table") if fields[0] == "table" else 0
    if kind == "function":
        return lambda v: v[0] + "." + v[1] + "(" + v[2] + ")"
    return lambda v: v[first] + "." + v[1]


@cache
def plan(kind: str) -> Plan:
    cls = CLASSES[kind]
    fields = dataclasses.fields(cls)
    types = [str(f.type) for f in fields]
    return Plan(
        cls,
        tuple(f.name for f in fields),
        tuple(i for i, t in enumerate(types) if t.startswith("tuple")),
        tuple(i for i, f in enumerate(fields) if f.name in NORMALISED),
        tuple(i for i, (f, t) in enumerate(zip(fields, types, strict=True))
              if t.startswith("str") and f.name not in NORMALISED),
        kind in ("view", "materialized_view"),
        _key_maker(kind, tuple(f.name for f in fields)),
    )


def check_columns(kind: str, names: Sequence[str]) -> None:
    """Refuse a query whose columns are not the dataclass's fields in order."""
    expected = plan(kind).fields
    if tuple(names) != expected:
        raise ColumnOrderError(f"{kind} query returns {tuple(names)}, expected {expected}")


def build_all(kind: str, rows: Iterable[Sequence[Any]]) -> dict[str, SchemaObject]:
    """Objects of one kind by qualified name; rows are consumed one at a time."""
    p, intern = plan(kind), sys.intern
    result: dict[str, SchemaObject] = {}
    for row in rows:
        values = list(row)
        for i in p.arrays:
            values[i] = tuple(values[i])
        for i in p.texts:
            if values[i] is not None:
                values[i] = normalise(values[i])
        for i in p.names:
            if values[i] is not None:
                values[i] = intern(values[i])
        if p.views:
            values[2] = unqualify_single_relation(values[2])
        result[p.key(values)] = p.cls(*values)
    return result
