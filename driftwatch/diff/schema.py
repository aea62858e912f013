"""Compare the schema objects of two snapshots, kind by kind, into a list of Differences."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping

from driftwatch.diff.keyed import keyed_diff
from driftwatch.model import (
    KINDS,
    Difference,
    IgnoredCount,
    IgnoreRule,
    SchemaDiff,
    SchemaObject,
    Snapshot,
)


def attributes(obj: SchemaObject) -> dict[str, object]:
    """The compared attributes of an object: its fields minus its key's and compare=False ones."""
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)
        if f.compare and f.name not in obj.key_fields
    }


def _comparable(snapshot: Snapshot, kind: str, annotated: bool) -> Mapping[str, object]:
    objects = snapshot.of_kind(kind)
    if not annotated:
        return objects  # frozen objects compare field by field; no dicts built per object
    # Opted-in owners/grants/comments count as attributes of their object.
    notes = snapshot.annotations.get(kind, {})
    return {k: attributes(o) | dict(notes.get(k, {})) for k, o in objects.items()}


def _attrs(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else attributes(value)  # type: ignore[arg-type]


def _kind_differences(kind: str, reference: Snapshot, target: Snapshot) -> Iterable[Difference]:
    annotated = bool(reference.annotations.get(kind) or target.annotations.get(kind))
    ref, tgt = _comparable(reference, kind, annotated), _comparable(target, kind, annotated)
    d = keyed_diff(ref, tgt)
    for name in d.missing:
        yield Difference(kind, name, "missing", _attrs(ref[name]), None)
    for name in d.extra:
        yield Difference(kind, name, "extra", None, _attrs(tgt[name]))
    for name in d.changed:
        a, b = _attrs(ref[name]), _attrs(tgt[name])
        keys = [k for k in a if a[k] != b.get(k)]
        yield Difference(kind, name, "changed", {k: a[k] for k in keys}, {k: b[k] for k in keys})


# Kinds that own other objects, where a parent key is looked up.
OWNER_KINDS = ("table", "materialized_view", "view", "schema")


class Ancestry:
    """Parents looked up on demand in both snapshots: only differences ever ask, so no map
    of every object's parent (hundreds of thousands of entries) is built."""

    def __init__(self, reference: Snapshot, target: Snapshot) -> None:
        self.sides = (reference, target)

    def parent(self, kind: str, key: str) -> str | None:
        for side in self.sides:
            found = side.parent_of(kind, key)
            if found is not None:
                return found
        return None

    def ancestors(self, kind: str, key: str) -> Iterator[str]:
        seen = {key}
        parent = self.parent(kind, key)
        # `seen` guards against a loop: keys of different kinds may coincide (an index and a
        # table can share a name), and a walk must still end.
        while parent is not None and parent not in seen:
            seen.add(parent)
            yield parent
            parent = next((p for k in OWNER_KINDS if (p := self.parent(k, parent)) is not None),
                          None)  # fmt: skip


def _without_children(diffs: list[Difference], ancestry: Ancestry) -> list[Difference]:
    # A missing table is one difference: its columns, indexes, triggers... are implied, so
    # any difference whose ancestor is missing/extra the same way is dropped.
    whole = {(d.name, d.change) for d in diffs if d.change != "changed"}
    return [d for d in diffs if d.change == "changed" or not any(
        (a, d.change) in whole for a in ancestry.ancestors(d.kind, d.name))]


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
        for d in _kind_differences(kind, reference, target)
    ]
    diffs = _without_children(diffs, Ancestry(reference, target))
    diffs.sort(key=lambda d: (KINDS.index(d.kind), d.name))
    kept, ignored = _apply_ignore(diffs, ignore)
    return SchemaDiff(reference.counts(), target.counts(), tuple(kept), ignored)
