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
    # Fills a dict key -> object from rows; generated once per kind (see _builder).
    build: Callable[[Iterable[Sequence[Any]], dict[str, SchemaObject]], None]


def _key_expression(kind: str, fields: tuple[str, ...]) -> str:
    """The key as an expression over the converted values v0, v1...: objects.py's `key`
    properties by plain concatenation. tests/test_catalog_build.py checks both agree."""
    if kind in ("schema", "extension"):
        return "v0"
    if kind == "function":
        return 'v0 + "." + v1 + "(" + v2 + ")"'
    first = fields.index("table") if fields[0] == "table" else 0
    return f'v{first} + "." + v1'


# View definitions also get unqualify_single_relation.
VIEW_KINDS = ("view", "materialized_view")
# Long texts that rarely repeat are not worth an entry in the interpreter's intern table.
_NOT_INTERNED = frozenset({"definition", "body"})


def _builder(kind: str, arrays: tuple[int, ...], texts: tuple[int, ...], names: tuple[int, ...]
             ) -> Callable[..., None]:  # fmt: skip
    """A loop specialised for one kind: each value converted in place, no list per row.

    A frozen dataclass sets each field through `object.__setattr__`, which costs about four
    times a plain slot assignment. So the fields are set on a plain class with the same
    slots, and the finished object then becomes a real `cls` by `__class__` assignment
    (allowed because the memory layouts are identical). It is frozen from then on.

    Keys are interned too: the two sides of a comparison mostly have the same keys, so the
    second side shares the first side's strings (30 MB less at 20,000 tables).
    """
    cls, views = CLASSES[kind], kind in VIEW_KINDS
    fields = tuple(f.name for f in dataclasses.fields(cls))
    twin = type(f"_{cls.__name__}Builder", cls.__bases__, {"__slots__": cls.__slots__})
    try:  # a layout the interpreter will not swap (a base with slots of its own, say)
        twin().__class__ = cls
        swap = True
    except TypeError:
        swap = False  # then the dataclass's own __init__, slower but the same objects
    lines = ["def build(rows, result):", "    for r in rows:"]
    for i, name in enumerate(fields):
        if i in arrays:
            value = f"tuple(r[{i}])"
        elif i in texts:
            text = "normalise(x)"
            if views and name == "definition":
                text = f"unqualify_single_relation({text})"
            if name not in _NOT_INTERNED:
                text = f"intern({text})"
            value = f"None if (x := r[{i}]) is None else {text}"
        elif i in names:
            value = f"x if (x := r[{i}]) is None else intern(x)"
        else:
            value = f"r[{i}]"
        lines.append(f"        v{i} = {value}")
    values = [f"v{i}" for i in range(len(fields))]
    if swap:
        lines += ["        o = twin()", *(f"        o.{name} = v{i}" for i, name in enumerate(fields)),
                  "        o.__class__ = cls"]  # fmt: skip
    else:
        lines.append(f"        o = cls({', '.join(values)})")
    lines.append(f"        result[intern({_key_expression(kind, fields)})] = o")
    scope: dict[str, Any] = {"twin": twin, "cls": cls, "intern": sys.intern, "normalise": normalise,
                             "unqualify_single_relation": unqualify_single_relation}  # fmt: skip
    # Generated from our own dataclasses' field names only, as `dataclasses` does itself.
    exec(compile("\n".join(lines), f"<build {kind}>", "exec"), scope)  # noqa: S102
    build: Callable[..., None] = scope["build"]
    return build


@cache
def plan(kind: str) -> Plan:
    cls = CLASSES[kind]
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    types = [str(f.type) for f in fields]
    arrays = tuple(i for i, t in enumerate(types) if t.startswith("tuple"))
    texts = tuple(i for i, f in enumerate(fields) if f.name in NORMALISED)
    strings = tuple(i for i, (f, t) in enumerate(zip(fields, types, strict=True))
                    if t.startswith("str") and f.name not in NORMALISED)  # fmt: skip
    return Plan(cls, names, arrays, texts, strings, kind in VIEW_KINDS,
                _builder(kind, arrays, texts, strings))


def check_columns(kind: str, names: Sequence[str]) -> None:
    """Refuse a query whose columns are not the dataclass's fields in order."""
    expected = plan(kind).fields
    if tuple(names) != expected:
        raise ColumnOrderError(f"{kind} query returns {tuple(names)}, expected {expected}")


def build_all(kind: str, rows: Iterable[Sequence[Any]]) -> dict[str, SchemaObject]:
    """Objects of one kind by qualified name; rows are consumed one at a time."""
    result: dict[str, SchemaObject] = {}
    plan(kind).build(rows, result)
    return result
