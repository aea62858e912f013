"""Compare the schema objects of two snapshots, kind by kind, into a list of Differences."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from driftwatch.diff.keyed import keyed_diff
from driftwatch.model import (
    IDENTITY_FIELDS,
    KINDS,
    Difference,
    IgnoredCount,
    IgnoreRule,
    SchemaDiff,
    SchemaObject,
    Snapshot,
)


def attributes(obj: SchemaObject) -> dict[str, object]:
    """The compared attributes of an object: its fields minus identity and compare=False ones."""
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)
        if f.compare and f.name not in IDENTITY_FIELDS
    }


def _changed(kind: str, name: str, ref: SchemaObject, tgt: SchemaObject) -> Difference:
    a, b = attributes(ref), attributes(tgt)
    keys = [k for k in a if a[k] != b.get(k)]
    return Difference(kind, name, "changed", {k: a[k] for k in keys}, {k: b[k] for k in keys})


def _kind_differences(
    kind: str, ref: Mapping[str, SchemaObject], tgt: Mapping[str, SchemaObject]
) -> Iterable[Difference]:
    d = keyed_diff(ref, tgt)
    for name in d.missing:
        yield Difference(kind, name, "missing", attributes(ref[name]), None)
    for name in d.extra:
        yield Difference(kind, name, "extra", None, attributes(tgt[name]))
    for name in d.changed:
        yield _changed(kind, name, ref[name], tgt[name])


def _without_children(diffs: list[Difference], parents: Mapping[str, str | None]) -> list[Difference]:
    # A missing table is one difference: its columns (and later its indexes, triggers...) are
    # implied, so any difference whose ancestor is missing/extra the same way is dropped.
    whole = {(d.name, d.change) for d in diffs if d.change != "changed"}

    def covered(d: Difference) -> bool:
        parent = parents.get(d.name)
        while parent is not None:
            if (parent, d.change) in whole:
                return True
            parent = parents.get(parent)
        return False

    return [d for d in diffs if not covered(d)]


def _apply_ignore(
    diffs: list[Difference], rules: tuple[IgnoreRule, ...]
) -> tuple[list[Difference], tuple[IgnoredCount, ...]]:
    # Every rule is reported with its count, zero included, so a rule that hides drift is
    # always visible in the report, and a stale rule (matching nothing) can be spotted.
    counts = dict.fromkeys(rules, 0)
    kept = []
    for d in diffs:
        rule = next((r for r in rules if r.matches(d.kind, d.name)), None)
        if rule is None:
            kept.append(d)
        else:
            counts[rule] += 1
    return kept, tuple(IgnoredCount(r.label, n) for r, n in counts.items())


def compare_schema(
    reference: Snapshot, target: Snapshot, ignore: tuple[IgnoreRule, ...] = ()
) -> SchemaDiff:
    """Every schema difference between the two snapshots, children of whole objects folded in."""
    diffs = [
        d
        for kind in KINDS
        for d in _kind_differences(kind, reference.of_kind(kind), target.of_kind(kind))
    ]
    diffs = _without_children(diffs, {**reference.parents(), **target.parents()})
    diffs.sort(key=lambda d: (KINDS.index(d.kind), d.name))
    kept, ignored = _apply_ignore(diffs, ignore)
    return SchemaDiff(reference.counts(), target.counts(), tuple(kept), ignored)
