"""The sync's use of the history: the reference's past snapshots, and the audit of every sync run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from driftwatch import snapshot_file
from driftwatch.config import Config
from driftwatch.model import Snapshot
from driftwatch.store import Store, StoredSnapshot
from driftwatch.sync.plan import Baseline

RESULTS = ("applied", "incomplete", "failed", "timeout", "refused", "nothing_to_do")
# After these the daemon leaves the target alone until a person runs `sync` again.
PAUSING = frozenset({"failed", "timeout", "incomplete"})
AUTO_ACTOR = "daemon (auto)"
CANDIDATES = 20  # stored snapshots of the reference looked at beyond the counted ones


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One audited sync: who, when, what was planned, what happened, and the output."""

    id: int
    comparison: str
    reference: str
    target: str
    actor: str
    started_at: datetime
    finished_at: datetime
    result: str
    reasons: str  # JSON list
    planned: str  # JSON list
    applied: str  # JSON list
    still_missing: str  # JSON list
    schema_equal: int | None
    command: str  # JSON argv
    workdir: str
    target_address: str
    target_fingerprint: str | None
    exit_code: int | None
    output: str

    def listed(self, name: str) -> list[str]:
        values: list[str] = json.loads(getattr(self, name))
        return values


@dataclass(frozen=True, slots=True)
class _Fingerprint:
    fingerprint: str


def baseline(store: Store, reference: str, target: str, target_ids: frozenset[str]) -> Baseline | None:
    """What `target` should look like with `target_ids` applied, from the history; None if unknown."""
    return _reference_baseline(store, reference, target_ids) or _last_sync(store, target, target_ids)


def _reference_baseline(store: Store, reference: str, target_ids: frozenset[str]) -> Baseline | None:
    """The newest stored snapshot of `reference` whose applied migrations are exactly `target_ids`."""
    # environment_checks counts each reading's migrations: only snapshots with the right count are
    # decompressed and parsed, which matters with a 20k-table schema.
    counted = store.rows(_Fingerprint, _COUNTED, env=reference, n=len(target_ids))
    recent = store.rows(_Fingerprint, _RECENT, env=reference, limit=CANDIDATES)
    for fp in dict.fromkeys(r.fingerprint for r in (*counted, *recent)):
        stored = store.snapshot(reference, fp)
        if stored is None:
            continue
        snap = _parse(stored)
        if snap is not None and snap.migrations and frozenset(snap.migrations.ids) == target_ids:
            label = (f"{reference}'s as of {_when(snap)}, when {reference} had the same "
                     f"{len(target_ids)} migrations")  # fmt: skip
            return Baseline(snap, fp, label)
    return None


def _last_sync(store: Store, target: str, target_ids: frozenset[str]) -> Baseline | None:
    """The target as driftwatch's last sync of it left it (a sync that stopped halfway, say):
    the reference never had that set of migrations, but any change by hand since would show."""
    last = store.first(SyncRun, _LAST_RUN, t=target)
    stored = store.snapshot(target, last.target_fingerprint) if last and last.target_fingerprint else None
    snap = _parse(stored) if stored else None
    if last is None or snap is None or not snap.migrations or frozenset(snap.migrations.ids) != target_ids:
        return None
    label = f"what sync {last.id} ({last.result}) left in {target} at {_when(snap)}"
    return Baseline(snap, str(last.target_fingerprint), label)


def _when(snap: Snapshot) -> str:
    return f"{snap.taken_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _parse(stored: StoredSnapshot) -> Snapshot | None:
    try:
        return snapshot_file.from_document(json.loads(stored.document), f"stored {stored.env}")
    except (snapshot_file.SnapshotFileError, ValueError):
        return None  # an unreadable old document is no baseline; the plan says none was found


def seen(store: Store, env: str) -> frozenset[str]:
    """Every migration id the history ever saw applied in `env`."""
    return frozenset(m.migration_id for m in store.migrations_seen(env))


def record(store: Store, values: Mapping[str, Any]) -> int:
    """Add one audit row; lists are stored as JSON. Returns its id."""
    row = {k: json.dumps(list(v)) if isinstance(v, tuple | list) else v for k, v in values.items()}
    for key in ("started_at", "finished_at"):
        row[key] = values[key].timestamp()
    columns = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    with store.transaction() as conn:
        # Column names are this module's own keys (service.py), never user data.
        cur = conn.execute(f"INSERT INTO sync_runs ({columns}) VALUES ({marks})", row)
        return int(cur.lastrowid or 0)


def runs(store: Store, target: str | None = None) -> list[SyncRun]:
    """Audited syncs, oldest first (of one target, or all)."""
    return store.rows(SyncRun, _RUNS, t=target)


def paused_by(store: Store, target: str) -> SyncRun | None:
    """The failed sync that pauses auto-sync of `target`, if its latest audited sync is one."""
    latest = store.first(SyncRun, _LATEST, t=target)
    return latest if latest is not None and latest.result in PAUSING else None


@dataclass(frozen=True, slots=True)
class _Count:
    reference: str
    target: str
    result: str
    n: int


def series(config: Config, store: Store) -> dict[tuple[str, str, str], int]:
    """Every result of every comparison with a [sync] table at 0, plus the audited counts."""
    zeros = {(c.reference, c.target, r): 0
             for c in config.comparisons if c.name in config.sync for r in RESULTS}  # fmt: skip
    return {**zeros, **counts(store)}


def counts(store: Store) -> dict[tuple[str, str, str], int]:
    """(reference, target, result) -> audited syncs, for driftwatch_sync_runs_total."""
    return {(r.reference, r.target, r.result): r.n for r in store.rows(_Count, _COUNTS)}


_COUNTED = """SELECT snapshot_fingerprint AS fingerprint FROM environment_checks
    WHERE env = :env AND ok = 1 AND applied_migrations = :n AND snapshot_fingerprint IS NOT NULL
    GROUP BY snapshot_fingerprint ORDER BY max(at) DESC"""
_RECENT = "SELECT fingerprint FROM snapshots WHERE env = :env ORDER BY confirmed_at DESC LIMIT :limit"
_LAST_RUN = """SELECT * FROM sync_runs WHERE target = :t AND target_fingerprint IS NOT NULL
    ORDER BY id DESC LIMIT 1"""
_RUNS = "SELECT * FROM sync_runs WHERE (:t IS NULL OR target = :t) ORDER BY id"
_LATEST = "SELECT * FROM sync_runs WHERE target = :t ORDER BY id DESC LIMIT 1"
_COUNTS = "SELECT reference, target, result, count(*) AS n FROM sync_runs GROUP BY reference, target, result"
