"""The daemon's history in an embedded SQLite database: checks, snapshots, drift episodes."""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from driftwatch.store_file import BUSY_TIMEOUT_SECONDS, StoreError, damaged, open_error, prepare
from driftwatch.store_rows import (
    CheckRow,
    EnvironmentCheck,
    Episode,
    EpisodeChange,
    SeenMigration,
    StoredSnapshot,
    build,
)

__all__ = ["CheckRow", "EnvironmentCheck", "Episode", "EpisodeChange", "SeenMigration", "Store",
           "StoreError", "StoredSnapshot"]  # fmt: skip

FILENAME = "history.db"
T = TypeVar("T")


def _ts(at: datetime) -> float:
    if at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the history store needs timezone-aware times")
    return at.timestamp()


def _json(value: Mapping[str, Any]) -> str:
    # Sorted keys: the same summary always gives the same text, so equal text means "unchanged".
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Store:
    """One history database; every method may be called from any thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        # Re-entrant: a caller's transaction() may call methods that take it again, which then
        # join that transaction (the daemon records a check and queues its alerts as one).
        self._lock = threading.RLock()

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        """Open `state_dir/history.db`, creating both if needed; StoreError if it cannot be used."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create state_dir {state_dir}: {e.strerror or e}; "
                             "create it or point state_dir elsewhere") from e  # fmt: skip
        path = state_dir / FILENAME
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                   check_same_thread=False)  # fmt: skip
        except sqlite3.Error as e:
            raise open_error(path, e) from e
        try:
            prepare(conn, path)
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return cls(path, conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    @contextmanager
    def _guarded(self) -> Iterator[sqlite3.Connection]:
        """The connection, to this thread alone; a database failure becomes a StoreError."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as e:
                raise StoreError(f"the history database {self.path} failed: {e}") from e
            except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as e:
                raise damaged(self.path, f"unreadable stored value: {e}") from e

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it reaches the file, or none of it does.

        Inside another transaction() of the same thread it is part of that one (commits with it)."""
        with self._guarded() as conn:
            if conn.in_transaction:  # only this thread can be in one: it holds the lock
                yield conn
                return
            # IMMEDIATE takes the write lock up front: a transaction that reads before it writes
            # (record_check does) would otherwise fail with SQLITE_BUSY, which no timeout retries,
            # when another process (a CLI command) wrote in between.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def rows(self, cls: type[T], sql: str, **params: Any) -> list[T]:
        """Rows of `sql` as `cls` instances (column names are field names); for sibling tables."""
        with self._guarded() as conn:
            return [build(cls, row) for row in conn.execute(sql, params).fetchall()]

    def first(self, cls: type[T], sql: str, **params: Any) -> T | None:
        rows = self.rows(cls, sql, **params)
        return rows[0] if rows else None

    # --- writes ---------------------------------------------------------------------------------

    def record_environment(self, run_id: str, env: str, at: datetime, ok: bool, duration_seconds: float, *,
                           reason: str | None = None, message: str | None = None,
                           server_fingerprint: str | None = None, snapshot_fingerprint: str | None = None,
                           applied_migrations: int | None = None, failed_migrations: int | None = None,
                           schema_counts: Mapping[str, int] | None = None) -> None:  # fmt: skip
        """Note how reading one environment went in one run."""
        counts = None if schema_counts is None else _json(schema_counts)
        values = {"run_id": run_id, "env": env, "at": _ts(at), "ok": ok, "duration_seconds": duration_seconds,
                  "reason": reason, "message": message, "server_fingerprint": server_fingerprint,
                  "snapshot_fingerprint": snapshot_fingerprint, "applied_migrations": applied_migrations,
                  "failed_migrations": failed_migrations, "schema_counts": counts}  # fmt: skip
        with self.transaction() as conn:
            _insert(conn, "environment_checks", values)

    def record_migrations_seen(self, env: str, ids: Iterable[str], at: datetime) -> tuple[str, ...]:
        """Remember when each migration was first seen in `env`; returns the ids new to it."""
        wanted, when = list(dict.fromkeys(ids)), _ts(at)
        with self.transaction() as conn:
            known = {r[0] for r in conn.execute(_SEEN_IDS, (env,))}
            conn.executemany(_SEEN_UPSERT, [(env, i, when) for i in wanted])
        return tuple(i for i in wanted if i not in known)

    def save_snapshot(self, env: str, fingerprint: str, taken_at: datetime, server_fingerprint: str | None,
                      document: str | bytes | Iterable[str]) -> bool:  # fmt: skip
        """Keep the document if `fingerprint` is new for `env` (True); otherwise only touch it.

        `document` may come in pieces (snapshot_file.chunks), compressed as they come, so the
        text of a large schema is never held whole."""
        # Compressed before taking the lock: a large schema's document takes a while.
        body = _compress(document)
        taken = _ts(taken_at)
        values = {"env": env, "fingerprint": fingerprint, "taken_at": taken, "confirmed_at": taken,
                  "server_fingerprint": server_fingerprint, "body": body}  # fmt: skip
        with self.transaction() as conn:
            if conn.execute(_TOUCH, values).rowcount:
                return False
            _insert(conn, "snapshots", values)
            return True

    def touch_snapshot(self, env: str, fingerprint: str, server_fingerprint: str | None,
                       at: datetime) -> bool:  # fmt: skip
        """Note that the cheap path found `env` still at `fingerprint`; False if that one is not stored."""
        values = {"env": env, "fingerprint": fingerprint, "confirmed_at": _ts(at),
                  "server_fingerprint": server_fingerprint}  # fmt: skip
        with self.transaction() as conn:
            return conn.execute(_TOUCH, values).rowcount == 1

    def record_check(self, *, run_id: str, job: str, comparison: str, reference: str, target: str,
                     started_at: datetime, finished_at: datetime, report: Mapping[str, Any],
                     in_sync: bool | None, full: bool, error_reason: str | None = None,
                     error_message: str | None = None, reference_fingerprint: str | None = None,
                     target_fingerprint: str | None = None,
                     drift_summary: Mapping[str, Any] | None = None) -> EpisodeChange:  # fmt: skip
        """Store one comparison's result and, in the same transaction, its effect on the episode."""
        values: dict[str, Any] = {
            "run_id": run_id, "job": job, "comparison": comparison, "reference": reference, "target": target,
            "started_at": _ts(started_at), "finished_at": _ts(finished_at), "in_sync": in_sync,
            "error_reason": error_reason, "error_message": error_message, "full": full,
            "reference_fingerprint": reference_fingerprint, "target_fingerprint": target_fingerprint,
            "report": json.dumps(report, ensure_ascii=False, separators=(",", ":"))}  # fmt: skip
        summary = _json(drift_summary or {})
        with self.transaction() as conn:
            change = _episode_effect(conn, comparison, values["started_at"], in_sync, summary)
            values["episode_id"] = change.episode.id if change.episode else None
            _insert(conn, "checks", values)
        return change

    def prune(self, now: datetime, retention: timedelta) -> int:
        """Delete history older than `retention`, but never an open episode, a first-seen migration,
        a snapshot a kept row names, an environment's latest snapshot, or an alert a decision
        still reads or Slack has not accepted; returns rows deleted."""
        cutoff = _ts(now - retention)
        with self.transaction() as conn:
            return sum(conn.execute(sql, {"cutoff": cutoff}).rowcount for sql in _PRUNE)

    # --- reads ----------------------------------------------------------------------------------

    def latest_check(self, comparison: str) -> CheckRow | None:
        return self.first(CheckRow, f"{_CHECKS} AND comparison = :c {_NEWEST}", c=comparison)

    def latest_checks(self) -> dict[str, CheckRow]:
        """The latest check of each comparison that has one."""
        return {row.comparison: row for row in self.rows(CheckRow, _LATEST_CHECKS)}

    def latest_verdict(self, comparison: str) -> CheckRow | None:
        """The latest check that could compare the two environments (in sync or not)."""
        return self.first(CheckRow, f"{_CHECKS} AND comparison = :c AND in_sync IS NOT NULL {_NEWEST}",
                          c=comparison)  # fmt: skip

    def last_success(self, comparison: str) -> datetime | None:
        """When the latest check that could compare the two environments started."""
        row = self.latest_verdict(comparison)
        return None if row is None else row.started_at

    def checks(self, since: datetime, until: datetime, comparison: str | None = None) -> list[CheckRow]:
        """Checks started in [since, until), oldest first."""
        return self.rows(CheckRow, f"{_CHECKS} AND started_at >= :since AND started_at < :until "
                                   "AND (:c IS NULL OR comparison = :c) ORDER BY started_at, id",
                         since=_ts(since), until=_ts(until), c=comparison)  # fmt: skip

    def open_episode(self, comparison: str) -> Episode | None:
        return self.first(Episode, _OPEN_EPISODE, c=comparison)

    def episodes(self, since: datetime, until: datetime, comparison: str | None = None) -> list[Episode]:
        """Episodes that overlap [since, until), oldest first."""
        return self.rows(Episode, "SELECT * FROM episodes WHERE opened_at < :until "
                                  "AND (resolved_at IS NULL OR resolved_at > :since) "
                                  "AND (:c IS NULL OR comparison = :c) ORDER BY opened_at, id",
                         since=_ts(since), until=_ts(until), c=comparison)  # fmt: skip

    def environment_checks(self, since: datetime, until: datetime,
                           env: str | None = None) -> list[EnvironmentCheck]:  # fmt: skip
        """Environment reads in [since, until), oldest first."""
        return self.rows(EnvironmentCheck, "SELECT * FROM environment_checks WHERE at >= :since "
                                           "AND at < :until AND (:env IS NULL OR env = :env) ORDER BY at, id",
                         since=_ts(since), until=_ts(until), env=env)  # fmt: skip

    def latest_environment(self, env: str) -> EnvironmentCheck | None:
        return self.first(EnvironmentCheck, "SELECT * FROM environment_checks WHERE env = :env "
                                             "ORDER BY at DESC, id DESC LIMIT 1", env=env)  # fmt: skip

    def consecutive_failures(self, env: str) -> int:
        """Failed reads of `env` since its last successful one (all of them if it never had one)."""
        with self._guarded() as conn:
            return int(conn.execute(_FAILURES, {"env": env}).fetchone()[0])

    def migrations_seen(self, env: str | None = None) -> list[SeenMigration]:
        return self.rows(SeenMigration, "SELECT * FROM migrations_seen WHERE (:env IS NULL OR env = :env) "
                                        "ORDER BY env, first_seen_at, migration_id", env=env)  # fmt: skip

    def latest_snapshot(self, env: str) -> StoredSnapshot | None:
        """The stored snapshot `env` was most recently found at."""
        return self.first(StoredSnapshot, f"{_SNAPSHOTS} WHERE env = :env {_LATEST_FIRST} LIMIT 1",
                           env=env)  # fmt: skip

    def snapshot(self, env: str, fingerprint: str) -> StoredSnapshot | None:
        return self.first(StoredSnapshot, f"{_SNAPSHOTS} WHERE env = :env AND fingerprint = :fp",
                           env=env, fp=fingerprint)  # fmt: skip


def _compress(document: str | bytes | Iterable[str]) -> bytes:
    if isinstance(document, bytes):
        return zlib.compress(document)
    if isinstance(document, str):
        return zlib.compress(document.encode())
    z = zlib.compressobj()
    parts = [z.compress(piece.encode()) for piece in document]
    return b"".join([*parts, z.flush()])


def _insert(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> None:
    # Table and column names come from this module's own literals, never from callers' data.
    marks = ", ".join(f":{column}" for column in values)
    conn.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})", values)


def _episode(conn: sqlite3.Connection, sql: str, params: Mapping[str, Any]) -> Episode | None:
    # fetchall runs the statement to completion, which COMMIT needs after UPDATE ... RETURNING.
    rows = conn.execute(sql, params).fetchall()
    return build(Episode, rows[0]) if rows else None


def _stale(conn: sqlite3.Connection, comparison: str, started: float) -> bool:
    # A check older than one already recorded (the check and weekly jobs can overlap) says
    # nothing about the present, so it may neither open nor resolve an episode.
    latest = conn.execute(_LATEST_DECISIVE, (comparison,)).fetchone()[0]
    return latest is not None and started < latest


def _episode_effect(conn: sqlite3.Connection, comparison: str, started: float, in_sync: bool | None,
                    summary: str) -> EpisodeChange:  # fmt: skip
    """Open, extend or resolve the comparison's episode for a check that started at `started`."""
    if in_sync is None or _stale(conn, comparison, started):
        return EpisodeChange("none")
    params = {"c": comparison, "at": started, "summary": summary}
    current = _episode(conn, _OPEN_EPISODE, params)
    if in_sync:
        resolved = current and _episode(conn, _RESOLVE, {**params, "id": current.id})
        return EpisodeChange("resolved", resolved) if resolved else EpisodeChange("none")
    if current is None:
        return EpisodeChange("opened", _episode(conn, _OPEN, params))
    updated = _episode(conn, _EXTEND, {**params, "id": current.id})
    if _json(current.summary) == summary:
        return EpisodeChange("unchanged", updated)
    return EpisodeChange("changed", updated, current.summary)


_CHECKS = "SELECT * FROM checks WHERE 1"
_NEWEST = "ORDER BY started_at DESC, id DESC LIMIT 1"
_LATEST_CHECKS = f"""SELECT * FROM checks WHERE id IN (
    SELECT (SELECT id FROM checks WHERE comparison = c.comparison {_NEWEST})
    FROM (SELECT DISTINCT comparison FROM checks) c) ORDER BY comparison"""
_LATEST_DECISIVE = "SELECT max(started_at) FROM checks WHERE comparison = ? AND in_sync IS NOT NULL"
_SNAPSHOTS = "SELECT *, body AS document FROM snapshots"
_LATEST_FIRST = "ORDER BY confirmed_at DESC, taken_at DESC"
_FAILURES = """SELECT count(*) FROM environment_checks WHERE env = :env AND ok = 0
    AND at > coalesce((SELECT max(at) FROM environment_checks WHERE env = :env AND ok = 1), -1e300)"""
_SEEN_IDS = "SELECT migration_id FROM migrations_seen WHERE env = ?"
# The earliest sighting wins even when threads record out of order; a later one never moves it.
_SEEN_UPSERT = """INSERT INTO migrations_seen VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at)"""
_TOUCH = """UPDATE snapshots SET confirmed_at = max(confirmed_at, :confirmed_at),
    server_fingerprint = coalesce(:server_fingerprint, server_fingerprint)
    WHERE env = :env AND fingerprint = :fingerprint"""
_OPEN_EPISODE = "SELECT * FROM episodes WHERE comparison = :c AND resolved_at IS NULL"
_OPEN = """INSERT INTO episodes (comparison, opened_at, last_seen_at, summary, first_summary)
    VALUES (:c, :at, :at, :summary, :summary) RETURNING *"""
_EXTEND = "UPDATE episodes SET last_seen_at = :at, summary = :summary WHERE id = :id RETURNING *"
_RESOLVE = "UPDATE episodes SET resolved_at = :at WHERE id = :id RETURNING *"
# Checks go before episodes so that no kept check points at a deleted episode.
_PRUNE = (
    "DELETE FROM checks WHERE started_at < :cutoff",
    "DELETE FROM environment_checks WHERE at < :cutoff",
    "DELETE FROM episodes WHERE resolved_at IS NOT NULL AND resolved_at < :cutoff",
    f"""DELETE FROM snapshots WHERE confirmed_at < :cutoff
        AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.reference = snapshots.env
                        AND c.reference_fingerprint = snapshots.fingerprint)
        AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.target = snapshots.env
                        AND c.target_fingerprint = snapshots.fingerprint)
        AND NOT EXISTS (SELECT 1 FROM environment_checks e WHERE e.env = snapshots.env
                        AND e.snapshot_fingerprint = snapshots.fingerprint)
        AND rowid <> (SELECT rowid FROM snapshots l WHERE l.env = snapshots.env {_LATEST_FIRST} LIMIT 1)""",
    # Alerts Slack accepted, once no decision reads them: an episode's when the episode is gone
    # (after the statement above; SQLite may then give its id to the next episode, whose alerts
    # the old keys would silence), any other once it is old and a newer alert about the same
    # subject exists (reminders and "reachable again" read the newest). Unsent ones always stay.
    """DELETE FROM alerts WHERE sent_at IS NOT NULL AND (
        (dedupe_key LIKE 'episode:%' AND NOT EXISTS (
            SELECT 1 FROM episodes e WHERE alerts.dedupe_key LIKE 'episode:' || e.id || ':%'))
        OR (dedupe_key NOT LIKE 'episode:%' AND created_at < :cutoff AND EXISTS (
            SELECT 1 FROM alerts n WHERE n.comparison IS alerts.comparison AND n.id > alerts.id)))""",
)
