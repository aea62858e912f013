"""Property tests of the pure diff and the snapshot document, on generated snapshots of every kind."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from types import UnionType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from driftwatch import snapshot_file
from driftwatch.diff import compare, compare_migrations, compare_schema
from driftwatch.model import AppliedMigration, Difference, MigrationHistory, SchemaObject, Snapshot
from driftwatch.objects import CLASSES

# Identity fields draw from a few names so that columns land on generated tables, keys
# collide across the two sides (giving `changed`), and whole tables or schemas go missing.
IDENTITY: dict[str, st.SearchStrategy[Any]] = {
    "schema": st.sampled_from(["public", "s"]),
    "table": st.sampled_from(["public.t", "public.u", "s.t"]),
    "name": st.sampled_from(["t", "u", "c"]),
}
TEXT = st.text(alphabet='ab"é', max_size=2)
SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: TEXT, int: st.integers(-2, 2) | st.just(2**63 - 1), bool: st.booleans(),
}  # fmt: skip
# Opted-in owners, grants and comments, as the catalog reader returns them.
NOTES: st.SearchStrategy[dict[str, object]] = st.fixed_dictionaries({}, optional={
    "owner": st.none() | TEXT, "grants": st.lists(TEXT, max_size=2).map(tuple), "comment": st.none() | TEXT,
})  # fmt: skip
PROPERTIES = settings(max_examples=100, deadline=None)
SWAPPED = {"missing": "extra", "extra": "missing", "changed": "changed"}


def values(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the type an object field is annotated with; generic over every kind."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, UnionType):
        return st.one_of([st.none() if a is type(None) else values(a) for a in args])
    if origin is tuple:
        return st.lists(values(args[0]), max_size=2).map(tuple)
    return SCALARS[hint]


def objects_of(cls: type[SchemaObject]) -> st.SearchStrategy[list[SchemaObject]]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: IDENTITY[f.name] if f.name in IDENTITY else values(hints[f.name])
              for f in dataclasses.fields(cls)}  # fmt: skip
    return st.lists(st.builds(cls, **fields), max_size=3)


ANY_OBJECTS = st.tuples(*(objects_of(cls) for cls in CLASSES.values())).map(
    lambda lists: [obj for objs in lists for obj in objs]
)


def _acyclic(key: str | None, parents: dict[str, str | None]) -> bool:
    seen = set()
    while key is not None:
        if key in seen:
            return False
        seen.add(key)
        key = parents.get(key)
    return True


def keyed(objs: Iterable[SchemaObject], parents: dict[str, str | None]) -> dict[str, dict[str, SchemaObject]]:
    """Objects by kind and key, leaving out any whose key already has another parent or whose
    parents lead back to itself.

    In a real database one qualified name has one owner and ownership has no cycles (an index
    cannot share its table's name); the generator has to be told.
    """
    result: dict[str, dict[str, SchemaObject]] = {}
    for obj in objs:
        known = obj.key in parents
        if parents.setdefault(obj.key, obj.parent) != obj.parent:
            continue
        if not known and not _acyclic(obj.key, parents):
            del parents[obj.key]
            continue
        result.setdefault(obj.kind, {})[obj.key] = obj
    return result


APPLIED = st.builds(
    AppliedMigration,
    id=st.sampled_from(["1", "2", "10", "a.js"]),
    applied_at=st.none() | st.datetimes(timezones=st.none() | st.just(UTC)),
    checksum=st.none() | st.sampled_from(["x", "y"]),
    success=st.booleans(),
)


def histories(tool: str) -> st.SearchStrategy[MigrationHistory | None]:
    applied = st.lists(APPLIED, max_size=4, unique_by=lambda m: m.id).map(tuple)
    history = st.builds(MigrationHistory, tool=st.just(tool), table=st.just("public.history"),
                        found=st.booleans(), applied=applied, head_only=st.booleans())  # fmt: skip
    return st.none() | history


def snapshot(
    name: str, objects: dict[str, dict[str, SchemaObject]], history: MigrationHistory | None
) -> Snapshot:
    return Snapshot(name, f"{name}_db", "18.1", datetime(2025, 12, 2, 9, tzinfo=UTC), objects, history,
                    f"app@127.0.0.1:5432/{name}_db")  # fmt: skip


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Snapshot, Snapshot]:
    """Two snapshots drawn from one small universe of names, with one migration tool."""
    parents: dict[str, str | None] = {}
    a, b = keyed(draw(ANY_OBJECTS), parents), keyed(draw(ANY_OBJECTS), parents)
    # golang-migrate compares numeric heads, not lists: the mirror must hold for both ways.
    history = histories(draw(st.sampled_from(["sequelize", "golang-migrate"])))
    return snapshot("ref", a, draw(history)), snapshot("tgt", b, draw(history))


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    """One snapshot with arbitrary header fields, for the document round trip."""
    objects = keyed(draw(ANY_OBJECTS), {})
    # A kind that was read but is empty must survive the round trip as well.
    for kind in draw(st.lists(st.sampled_from(list(CLASSES)), max_size=2)):
        objects.setdefault(kind, {})
    annotations: dict[str, dict[str, dict[str, object]]] = {}
    for kind, objs in objects.items():
        for key in objs:
            if notes := draw(NOTES):
                annotations.setdefault(kind, {})[key] = notes
    history = draw(histories(draw(st.sampled_from(["flyway", "alembic"]))))
    taken_at = draw(st.datetimes(timezones=st.just(UTC)))
    return Snapshot(draw(TEXT), draw(TEXT), draw(TEXT), taken_at, objects, history, draw(TEXT),
                    annotations)  # fmt: skip


def mirrored(d: Difference) -> tuple[str, Any, Any]:
    return SWAPPED[d.change], d.target, d.reference


@PROPERTIES
@given(pairs())
def test_a_snapshot_has_no_drift_against_itself(pair: tuple[Snapshot, Snapshot]) -> None:
    """diff(a, a) finds nothing; it is in sync unless a's own history is missing or failed."""
    a, _ = pair
    drift = compare(a, a)
    assert drift.schema.differences == ()
    assert drift.schema.reference_counts == drift.schema.target_counts
    if drift.migrations is not None:
        assert drift.migrations.missing == drift.migrations.extra == ()
        assert drift.migrations.checksum_mismatches == ()
    history = a.migrations
    healthy = history is None or (history.found and all(m.success for m in history.applied))
    assert drift.in_sync == healthy


@PROPERTIES
@given(pairs())
def test_schema_differences_mirror_when_the_sides_swap(pair: tuple[Snapshot, Snapshot]) -> None:
    """What is missing one way is extra the other way; changed values swap sides."""
    a, b = pair
    forward, backward = compare_schema(a, b), compare_schema(b, a)
    assert {(d.kind, d.name): mirrored(d) for d in forward.differences} == {
        (d.kind, d.name): (d.change, d.reference, d.target) for d in backward.differences
    }
    assert len(forward.differences) == len(backward.differences)
    assert (forward.reference_counts, forward.target_counts) == (
        backward.target_counts, backward.reference_counts)  # fmt: skip


@PROPERTIES
@given(pairs())
def test_migration_differences_mirror_when_the_sides_swap(pair: tuple[Snapshot, Snapshot]) -> None:
    """Missing and extra ids, failed entries and checksum mismatches swap with the sides."""
    a, b = pair
    if a.migrations is None or b.migrations is None:
        return
    forward = compare_migrations(a.migrations, b.migrations)
    backward = compare_migrations(b.migrations, a.migrations)
    assert (forward.missing, forward.extra) == (backward.extra, backward.missing)
    assert (forward.failed, forward.reference_failed) == (backward.reference_failed, backward.failed)
    assert forward.reference_found == backward.target_found
    assert forward.target_found == backward.reference_found
    assert {(c.id, c.reference, c.target) for c in forward.checksum_mismatches} == {
        (c.id, c.target, c.reference) for c in backward.checksum_mismatches
    }
    assert forward.in_sync == backward.in_sync


@PROPERTIES
@given(pairs())
def test_fingerprints_agree_with_the_diff(pair: tuple[Snapshot, Snapshot]) -> None:
    """Equal fingerprints exactly when the schema diff is empty (and then no migration drift)."""
    a, b = pair
    same = snapshot_file.fingerprint(a) == snapshot_file.fingerprint(b)
    unmigrated_a, unmigrated_b = (dataclasses.replace(s, migrations=None) for s in pair)
    same_schema = snapshot_file.fingerprint(unmigrated_a) == snapshot_file.fingerprint(unmigrated_b)
    assert same_schema == (compare_schema(a, b).differences == ())
    migrations = compare(a, b).migrations
    if same and migrations is not None:
        assert migrations.missing == migrations.extra == ()
        assert migrations.checksum_mismatches == ()


@PROPERTIES
@given(snapshots())
def test_snapshot_documents_round_trip(original: Snapshot) -> None:
    """to_document then from_document (through JSON text) gives back every field."""
    text = snapshot_file.dumps(original)
    loaded = snapshot_file.from_document(json.loads(text))
    assert loaded == original
    assert loaded.annotations == original.annotations
    assert {k: [dataclasses.asdict(o) for o in objs.values()] for k, objs in loaded.objects.items()} == {
        k: [dataclasses.asdict(objs[key]) for key in sorted(objs)] for k, objs in original.objects.items()
    }
    assert snapshot_file.dumps(loaded) == text


def documented_fingerprint(snap: Snapshot) -> str:
    """docs/json-report.md's definition, built whole: what stored fingerprints were made with."""
    objects = {kind: {key: snapshot_file._compared(obj, snap.annotations.get(kind, {}).get(key))
                      for key, obj in objs.items()}
               for kind, objs in snap.objects.items() if objs}  # fmt: skip
    applied = snap.migrations.applied if snap.migrations else ()
    migrations = sorted(([m.id, m.checksum, m.success] for m in applied),
                        key=lambda m: (m[0], m[1] or "", m[2]))  # fmt: skip
    canonical = json.dumps({"objects": objects, "migrations": migrations}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False).encode()  # fmt: skip
    return f"sha256:{hashlib.sha256(canonical).hexdigest()}"


@given(snapshots())
def test_the_streamed_fingerprint_is_the_documented_one(snap: Snapshot) -> None:
    """Hashing object by object gives the digest of the whole canonical document, byte for byte."""
    assert snapshot_file.fingerprint(snap) == documented_fingerprint(snap)


@given(snapshots())
def test_the_file_text_in_pieces_is_the_file_text(snap: Snapshot) -> None:
    """chunks() joined is json.dumps of the document, however small the pieces."""
    whole = json.dumps(snapshot_file.to_document(snap), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    saved = snapshot_file.CHUNK
    snapshot_file.CHUNK = 64  # many pieces, cut anywhere
    try:
        pieces = list(snapshot_file.chunks(snap))
    finally:
        snapshot_file.CHUNK = saved
    assert "".join(pieces) == whole == snapshot_file.dumps(snap)
