"""`driftwatch status`: what the history says now, per comparison, as text or JSON data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftwatch.render.visible import visible_all

STATUS_FORMAT = "driftwatch.status/v1"


@dataclass(frozen=True, slots=True)
class ComparisonStatus:
    """One comparison as the history last saw it."""

    reference: str
    target: str
    in_sync: bool | None  # None: never checked, or the last check could not read a side
    since: datetime | None  # start of the current state (drift opened, or sync restored)
    last_check: datetime | None
    last_success: datetime | None
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    differences: int = 0
    error: str | None = None  # the last check's failure sentence, if it failed

    @property
    def name(self) -> str:
        return f"{self.reference}:{self.target}"


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "never"
    if now - at < timedelta(minutes=1):
        return f"{at:%Y-%m-%d %H:%M} UTC (just now)"
    return f"{at:%Y-%m-%d %H:%M} UTC ({_age(now - at)} ago)"


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _state(s: ComparisonStatus) -> str:
    if s.last_check is None:
        return "NOT CHECKED YET"
    if s.in_sync is None and s.error:
        return "COULD NOT CHECK"
    return "IN SYNC" if s.in_sync else "NOT IN SYNC"


def render_text(statuses: Sequence[ComparisonStatus], now: datetime) -> str:
    """A few lines per comparison, the missing migrations listed."""
    statuses = visible_all(tuple(statuses))  # ids and errors may hold control characters
    lines: list[str] = []
    for s in statuses:
        lines.append(f"{s.reference} → {s.target}: {_state(s)}"
                     + (f" since {_when(s.since, now)}" if s.since else ""))  # fmt: skip
        lines.append(f"   last check: {_when(s.last_check, now)}; "
                     f"last successful: {_when(s.last_success, now)}")  # fmt: skip
        if s.error:
            lines.append(f"   last error: {s.error}")
        if s.missing:
            lines.append(f"   missing in {s.target}: {len(s.missing)} migration(s)")
            lines += [f"     - {m}" for m in s.missing]
        if s.extra:
            lines.append(f"   only in {s.target}: {len(s.extra)} migration(s)")
            lines += [f"     - {m}" for m in s.extra]
        if s.differences:
            lines.append(f"   schema differences: {s.differences}")
    return "\n".join(lines) + "\n"


def document(statuses: Sequence[ComparisonStatus]) -> dict[str, Any]:
    """The same as a `driftwatch.status/v1` JSON document."""

    def ts(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {"format": STATUS_FORMAT, "comparisons": [
        {"comparison": s.name, "reference": s.reference, "target": s.target, "in_sync": s.in_sync,
         "since": ts(s.since), "last_check": ts(s.last_check), "last_success": ts(s.last_success),
         "missing": list(s.missing), "extra": list(s.extra), "schema_differences": s.differences,
         "error": s.error}
        for s in statuses]}  # fmt: skip
