"""The Slack outbox: each alert is decided once, stored, and kept until Slack accepts it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftwatch.store import Store


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One decided alert and how its delivery went so far."""

    id: int
    dedupe_key: str
    comparison: str | None
    kind: str
    severity: str
    created_at: datetime
    channel: str | None
    payload: str  # {"text", "blocks"} as JSON text
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    attempt_at: datetime | None  # an attempt since then may have reached Slack (outcome unknown)

    def message(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.payload)
        return payload


class Outbox:
    """Alerts in the history database (schema version 2, table `alerts`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def enqueue(self, key: str, *, comparison: str | None, kind: str, severity: str, at: datetime,
                payload: Mapping[str, Any], channel: str | None = None) -> bool:  # fmt: skip
        """Store an alert unless one with `key` exists (a restart re-deciding it); True if new."""
        values = {"key": key, "comparison": comparison, "kind": kind, "severity": severity,
                  "at": at.timestamp(), "channel": channel,
                  "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":"))}  # fmt: skip
        with self.store.transaction() as conn:
            cur = conn.execute(_ENQUEUE, values)
            return cur.rowcount == 1

    def pending(self, limit: int = 100) -> list[AlertRow]:
        """Alerts Slack has not accepted yet, oldest first (they go out in the order decided)."""
        return self.store.rows(AlertRow, _PENDING, limit=limit)

    def mark_attempt(self, alert_id: int, since: datetime) -> None:
        """Committed before a post: from `since` on, Slack may hold this alert."""
        with self.store.transaction() as conn:
            conn.execute(_ATTEMPT, {"id": alert_id, "since": since.timestamp()})

    def mark_sent(self, alert_id: int, at: datetime) -> None:
        with self.store.transaction() as conn:
            conn.execute(_SENT, {"id": alert_id, "at": at.timestamp()})

    def mark_failed(self, alert_id: int, error: str, uncertain_since: datetime | None = None) -> None:
        """Slack did not take it; `uncertain_since` when an attempt since then may still have been posted."""
        since = uncertain_since.timestamp() if uncertain_since else None
        with self.store.transaction() as conn:
            conn.execute(_FAILED, {"id": alert_id, "error": error, "since": since})

    def last(self, comparison: str, kinds: tuple[str, ...]) -> AlertRow | None:
        """The newest alert of these kinds for a comparison (for reminder spacing)."""
        placeholders = ", ".join(f":k{i}" for i in range(len(kinds)))
        params = {f"k{i}": k for i, k in enumerate(kinds)}
        rows = self.store.rows(AlertRow, _LAST.format(kinds=placeholders), c=comparison, **params)
        return rows[0] if rows else None

    def has_prefix(self, prefix: str) -> bool:
        """Whether any alert was decided under keys starting with `prefix` (an episode's)."""
        return bool(self.store.rows(AlertRow, _PREFIX, p=prefix))

    def all(self) -> list[AlertRow]:
        return self.store.rows(AlertRow, "SELECT * FROM alerts ORDER BY id")


_ENQUEUE = """INSERT INTO alerts (dedupe_key, comparison, kind, severity, created_at, channel, payload)
VALUES (:key, :comparison, :kind, :severity, :at, :channel, :payload)
ON CONFLICT (dedupe_key) DO NOTHING"""
_PENDING = "SELECT * FROM alerts WHERE sent_at IS NULL ORDER BY id LIMIT :limit"
_ATTEMPT = "UPDATE alerts SET attempt_at = :since WHERE id = :id"
_SENT = """UPDATE alerts SET sent_at = :at, attempts = attempts + 1, last_error = NULL, attempt_at = NULL
WHERE id = :id"""
_FAILED = "UPDATE alerts SET attempts = attempts + 1, last_error = :error, attempt_at = :since WHERE id = :id"
_PREFIX = "SELECT * FROM alerts WHERE substr(dedupe_key, 1, length(:p)) = :p LIMIT 1"
_LAST = """SELECT * FROM alerts WHERE comparison = :c AND kind IN ({kinds})
ORDER BY created_at DESC, id DESC LIMIT 1"""
