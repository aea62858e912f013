"""Snapshots as files: a deterministic, versioned JSON form (`driftwatch.snapshot/v1`) and a fingerprint."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from driftwatch.errors import UserError
from driftwatch.model import Snapshot
from driftwatch.objects import CLASSES, KINDS, SchemaObject

FORMAT = "driftwatch.snapshot/v1"
CHUNK = 1 << 16  # characters per piece of chunks()
_FORMAT_FAMILY = "driftwatch.snapshot/"
_HEADER = ("environment", "database", "server_version", "taken_at", "address", "migrations")
_TOP_LEVEL = ("format", "fingerprint", "objects", "annotations", *_HEADER)

T = TypeVar("T")


class SnapshotFileError(UserError):
    """A snapshot file or document that cannot be used; the message is one sentence."""


class _Invalid(Exception):
    """A problem deep in a document, before it is known which file it came from."""


def _plain(value: object) -> Any:
    """`value` as JSON data: dataclasses become objects, tuples lists, datetimes ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _object_lists(snapshot: Snapshot) -> dict[str, list[Any]]:
    # KINDS.index fails loudly on a kind no class describes rather than dropping it.
    kinds = sorted(snapshot.objects, key=KINDS.index)
    return {kind: [_plain(objs[key]) for key in sorted(objs)]
            for kind in kinds for objs in (snapshot.objects[kind],)}  # fmt: skip


def to_document(snapshot: Snapshot, known_fingerprint: str | None = None) -> dict[str, Any]:
    """The snapshot as a `driftwatch.snapshot/v1` document (plain JSON data); `known_fingerprint`
    is the snapshot's fingerprint when the caller has already computed it."""
    return {
        "format": FORMAT,
        "environment": snapshot.environment,
        "database": snapshot.database,
        "server_version": snapshot.server_version,
        "taken_at": snapshot.taken_at.isoformat(),
        "address": snapshot.address,
        "fingerprint": known_fingerprint or fingerprint(snapshot),
        "objects": _object_lists(snapshot),
        "annotations": _plain(snapshot.annotations),
        "migrations": _plain(snapshot.migrations),
    }


def _compared(obj: SchemaObject, notes: Mapping[str, object] | None) -> dict[str, Any]:
    fields = {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.compare}
    # Opted-in owners/grants/comments are compared as part of their object, so they count;
    # "@" keeps them apart from any field name.
    return {**fields, "@annotations": _plain(notes)} if notes else fields


# The canonical form's encoder: sorted keys, no spaces, UTF-8 as is (docs/json-report.md).
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def fingerprint(snapshot: Snapshot) -> str:
    """`sha256:<hex>` of the schema content only: equal for environments the diff calls equal.

    It hashes the canonical JSON of {"migrations": [...], "objects": {kind: {key: attributes}}},
    fed to the hash one object at a time: built whole, that document of a 20,000-table schema
    held hundreds of MB at once, the daemon's peak.
    """
    applied = snapshot.migrations.applied if snapshot.migrations else ()
    # The comparison treats applied ids as a set, so the order they ran in is left out too.
    migrations = sorted(([m.id, m.checksum, m.success] for m in applied),
                        key=lambda m: (m[0], m[1] or "", m[2]))  # fmt: skip
    digest = hashlib.sha256(f'{{"migrations":{_encode(migrations)},"objects":{{'.encode())
    # An empty kind and an unread kind compare the same, so they fingerprint the same.
    kinds = sorted(kind for kind, objs in snapshot.objects.items() if objs)
    for k, kind in enumerate(kinds):
        objs, notes = snapshot.objects[kind], snapshot.annotations.get(kind, {})
        digest.update(f'{"," if k else ""}{_encode(kind)}:{{'.encode())
        for i, key in enumerate(sorted(objs)):
            attributes = _encode(_compared(objs[key], notes.get(key)))
            digest.update(f'{"," if i else ""}{_encode(key)}:{attributes}'.encode())
        digest.update(b"}")
    digest.update(b"}}")
    return f"sha256:{digest.hexdigest()}"


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """Field name -> resolved annotation; the modules use postponed (string) annotations."""
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _convert(value: Any, hint: Any, what: str) -> Any:
    """`value` (JSON data) as the type `hint` names; ValueError when it is not one."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None and (hint is type(None) or type(None) in args):
        return None
    if origin in (typing.Union, types.UnionType):
        for arg in (a for a in args if a is not type(None)):
            with contextlib.suppress(ValueError):
                return _convert(value, arg, what)
        raise ValueError(value)
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError(value)
        return tuple(_convert(v, args[0], f"{what}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _instance(hint, value, what)
    if hint is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    # JSON true is a Python int too, but never a valid number here.
    if isinstance(value, hint) and (hint is bool or not isinstance(value, bool)):
        return value
    raise ValueError(value)


def _check_keys(doc: Mapping[str, Any], known: Iterable[str], required: set[str], what: str) -> None:
    unknown = sorted(doc.keys() - set(known))
    if unknown:
        raise _Invalid(f"{what} has unknown field {', '.join(map(repr, unknown))}; "
                       "was it written by a newer driftwatch?")  # fmt: skip
    missing = sorted(required - doc.keys())
    if missing:
        raise _Invalid(f"{what} lacks the field {', '.join(map(repr, missing))}")


def _required(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}  # fmt: skip


def _field(value: Any, hint: Any, what: str) -> Any:
    try:
        return _convert(value, hint, what)
    except ValueError:
        raise _Invalid(f"{what} has an invalid value {json.dumps(value)[:60]}") from None


def _instance(cls: type[T], value: Any, what: str) -> T:
    """An instance of the dataclass `cls` from its JSON object, every field checked."""
    if not isinstance(value, dict):
        raise _Invalid(f"{what} is not a JSON object")
    hints = _hints(cls)
    _check_keys(value, hints, _required(cls), what)
    return cls(**{k: _field(v, hints[k], f"{what}.{k}") for k, v in value.items()})


def _check_kinds(raw: Any, what: str) -> None:
    if not isinstance(raw, dict):
        raise _Invalid(f"{what} is not a JSON object")
    unknown = sorted(raw.keys() - set(KINDS))
    if unknown:
        raise _Invalid(f"{what} has unknown kind {', '.join(map(repr, unknown))} "
                       f"(known kinds: {', '.join(KINDS)})")  # fmt: skip


def _objects(raw: Any) -> dict[str, dict[str, SchemaObject]]:
    _check_kinds(raw, "objects")
    result: dict[str, dict[str, SchemaObject]] = {}
    for kind in sorted(raw, key=KINDS.index):
        if not isinstance(raw[kind], list):
            raise _Invalid(f"objects.{kind} is not a JSON list")
        built = [_instance(CLASSES[kind], item, f"objects.{kind}[{i}]") for i, item in enumerate(raw[kind])]
        result[kind] = {obj.key: obj for obj in sorted(built, key=lambda o: o.key)}
        if len(result[kind]) < len(built):
            raise _Invalid(f"objects.{kind} lists the same {kind} twice")
    return result


def _frozen(value: Any) -> Any:
    """JSON lists back as tuples, as the catalog reader builds them (grants)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _annotations(raw: Any) -> dict[str, dict[str, dict[str, object]]]:
    _check_kinds(raw, "annotations")
    for kind, by_key in raw.items():
        if not (isinstance(by_key, dict) and all(isinstance(n, dict) for n in by_key.values())):
            raise _Invalid(f"annotations.{kind} is not a JSON object of name -> attributes")
    return {kind: {key: {attr: _frozen(v) for attr, v in notes.items()} for key, notes in by_key.items()}
            for kind, by_key in raw.items()}  # fmt: skip


def _check_format(doc: Any) -> None:
    found = doc.get("format") if isinstance(doc, dict) else None
    if found == FORMAT:
        return
    if isinstance(found, str) and found.startswith(_FORMAT_FAMILY):
        raise _Invalid(f"a {found} file, but this driftwatch reads only {FORMAT}; "
                       "upgrade driftwatch or take the snapshot again")  # fmt: skip
    said = "it has no format" if found is None else f"its format is {json.dumps(found)}"
    raise _Invalid(f"not a driftwatch snapshot ({said}, expected {FORMAT}); "
                   "write one with `driftwatch snapshot ENV -o FILE`")  # fmt: skip


def _snapshot(doc: Any) -> Snapshot:
    _check_format(doc)
    _check_keys(doc, _TOP_LEVEL, set(_TOP_LEVEL), "the document")
    hints = _hints(Snapshot)
    header = {k: _field(doc[k], hints[k], k) for k in _HEADER}
    snapshot = Snapshot(objects=_objects(doc["objects"]), annotations=_annotations(doc["annotations"]),
                        **header)  # fmt: skip
    if doc["fingerprint"] != fingerprint(snapshot):
        raise _Invalid("the content does not match the stored fingerprint; "
                       "the file was edited or corrupted after driftwatch wrote it")  # fmt: skip
    return snapshot


def from_document(doc: Any, source: str = "the snapshot document") -> Snapshot:
    """The Snapshot a `driftwatch.snapshot/v1` document describes, validated against its fingerprint."""
    try:
        return _snapshot(doc)
    except _Invalid as e:
        raise SnapshotFileError(f"{source}: {e}") from None


def chunks(snapshot: Snapshot, known_fingerprint: str | None = None) -> Iterator[str]:
    """The file's text in pieces of about CHUNK characters, for a writer that need not hold it whole."""
    encoder = json.JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False)
    pending: list[str] = []
    size = 0
    for piece in encoder.iterencode(to_document(snapshot, known_fingerprint)):
        pending.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending) + "\n"


def dumps(snapshot: Snapshot, known_fingerprint: str | None = None) -> str:
    """The file's text: the same snapshot always gives the same bytes."""
    return "".join(chunks(snapshot, known_fingerprint))


def write(snapshot: Snapshot, path: Path | str) -> None:
    """Write the snapshot to `path`, replacing it whole: a reader never sees half a file."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(dumps(snapshot), encoding="utf-8")
    os.replace(partial, path)


def read(path: Path | str) -> Snapshot:
    """The Snapshot stored at `path`; SnapshotFileError names the file and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SnapshotFileError(f"{path}: cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise SnapshotFileError(f"{path}: not a snapshot file (not UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SnapshotFileError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, "
                                f"column {e.colno})") from None  # fmt: skip
    return from_document(doc, str(path))

