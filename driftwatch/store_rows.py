"""The history's rows as frozen dataclasses, and how a stored row becomes one."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

T = TypeVar("T")
EpisodeKind = Literal["opened", "changed", "unchanged", "resolved", "none"]
_BOOLS = frozenset({"in_sync", "ok", "full"})
_JSON = frozenset({"summary", "first_summary", "schema_counts"})


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One comparison as one run checked it; `in_sync` is None when it could not be checked."""

    id: int
    run_id: str
    job: str
    comparison: str
    reference: str
    target: str
    started_at: datetime
    finished_at: datetime
    in_sync: bool | None
    error_reason: str | None
    error_message: str | None
    reference_fingerprint: str | None
    target_fingerprint: str | None
    full: bool
    report: str  # the driftwatch.report/v1 document as JSON text, parsed only on demand
    episode_id: int | None

    def report_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.report)
        return document


@dataclass(frozen=True, slots=True)
class EnvironmentCheck:
    """One environment as one run read it, or failed to."""

    id: int
    run_id: str
    env: str
    at: datetime
    ok: bool
    duration_seconds: float
    reason: str | None
    message: str | None
    server_fingerprint: str | None
    snapshot_fingerprint: str | None
    applied_migrations: int | None
    failed_migrations: int | None
    schema_counts: Mapping[str, int] | None


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A full snapshot document, kept because its fingerprint was new for the environment."""

    env: str
    fingerprint: str
    taken_at: datetime
    confirmed_at: datetime  # the last time a run found the environment at this fingerprint
    server_fingerprint: str | None
    document: str


@dataclass(frozen=True, slots=True)
class Episode:
    """A period during which a comparison drifted; `resolved_at` is None while it lasts."""

    id: int
    comparison: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    summary: Mapping[str, Any]
    first_summary: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class EpisodeChange:
    """What recording a check did to its comparison's drift episode."""

    kind: EpisodeKind
    episode: Episode | None = None
    previous_summary: Mapping[str, Any] | None = None  # set for "changed"


@dataclass(frozen=True, slots=True)
class SeenMigration:
    """The first time driftwatch saw a migration applied in an environment."""

    env: str
    migration_id: str
    first_seen_at: datetime


def value(name: str, raw: Any) -> Any:
    """A column's Python value: the column name says how it is stored."""
    if raw is None:
        return None
    if name == "at" or name.endswith("_at"):
        return datetime.fromtimestamp(raw, UTC)
    if name in _BOOLS:
        return bool(raw)
    if name == "document":
        return zlib.decompress(raw).decode()
    return json.loads(raw) if name in _JSON else raw


def build(cls: type[T], row: sqlite3.Row) -> T:
    """A dataclass from a row whose column names are its field names."""
    return cls(**{f.name: value(f.name, row[f.name]) for f in fields(cls)})  # type: ignore[arg-type]
