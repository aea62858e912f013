"""Time from check rows: in-sync/drift timelines, their shares of a period, and outages (pure)."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from driftwatch.secrets import redact_text
from driftwatch.store_rows import CheckRow, EnvironmentCheck

Status = Literal["in_sync", "drift", "unchecked", "no_data"]
# With no spacing to learn from (one check or none), a verdict is trusted this long.
DEFAULT_STALE = timedelta(hours=2)
# A verdict is never trusted for less than this, however often checks ran.
MIN_STALE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the period with one status."""

    start: datetime
    end: datetime
    status: Status

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Shares:
    """How a period splits into in sync, drift, could not check and no check at all."""

    in_sync: timedelta
    drift: timedelta
    unchecked: timedelta
    no_data: timedelta

    @property
    def total(self) -> timedelta:
        return self.in_sync + self.drift + self.unchecked + self.no_data

    def percent(self, status: Status) -> float:
        """Share of the whole period, 0 to 100 (0 for an empty period)."""
        total = self.total.total_seconds()
        part: timedelta = getattr(self, status)
        return 100.0 * part.total_seconds() / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Outage:
    """An environment's consecutive failed reads: from the first failure to the next good read."""

    start: datetime  # the first failed read, possibly before the period
    end: datetime | None  # None: still failing when the period ended
    failures: int  # failed reads inside the period
    reason: str
    message: str

    def within(self, since: datetime, end: datetime) -> timedelta:
        """How much of [since, end) the outage covered."""
        return max(timedelta(), min(self.end or end, end) - max(self.start, since))


def stale_after(starts: Sequence[datetime]) -> timedelta:
    """How long a verdict stands without a newer check: twice the usual spacing of checks.

    The median spacing is what the schedule produces; a daemon that was down for a day makes
    one long gap, which the median ignores, so that day counts as "no data", not as the old verdict.
    """
    times = sorted(set(starts))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    if not gaps:
        return DEFAULT_STALE
    return max(timedelta(seconds=2 * statistics.median(gaps)), MIN_STALE)


def _status(in_sync: bool | None) -> Status:
    return "unchecked" if in_sync is None else ("in_sync" if in_sync else "drift")


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for s in segments:
        if s.end <= s.start:
            continue
        if out and out[-1].status == s.status and out[-1].end == s.start:
            out[-1] = Segment(out[-1].start, s.end, s.status)
        else:
            out.append(s)
    return tuple(out)


def timeline(checks: Sequence[CheckRow], since: datetime, end: datetime,
             stale: timedelta) -> tuple[Segment, ...]:  # fmt: skip
    """[since, end) as segments: each check's verdict holds until the next check, at most `stale`.

    `checks` may start with the last check before `since` (its verdict covers the period's start).
    """
    rows = sorted((c for c in checks if c.started_at < end), key=lambda c: (c.started_at, c.id))
    segments, cursor = [], since
    for i, row in enumerate(rows):
        nxt = rows[i + 1].started_at if i + 1 < len(rows) else end
        start, stop = max(row.started_at, since), min(nxt, row.started_at + stale, end)
        if stop <= since:
            continue
        if start > cursor:
            segments.append(Segment(cursor, start, "no_data"))
        segments.append(Segment(start, stop, _status(row.in_sync)))
        cursor = max(cursor, stop)
    if cursor < end:
        segments.append(Segment(cursor, end, "no_data"))
    return _merge(segments)


def shares(segments: Sequence[Segment]) -> Shares:
    total: dict[Status, timedelta] = {s: timedelta() for s in ("in_sync", "drift", "unchecked", "no_data")}
    for s in segments:
        total[s.status] += s.length
    return Shares(total["in_sync"], total["drift"], total["unchecked"], total["no_data"])


def outages(reads: Sequence[EnvironmentCheck], since: datetime, end: datetime) -> tuple[Outage, ...]:
    """Runs of failed reads overlapping [since, end); `reads` may start before `since`."""
    found: list[Outage] = []
    first: EnvironmentCheck | None = None
    failures = 0
    for r in sorted((r for r in reads if r.at < end), key=lambda r: (r.at, r.id)):
        if not r.ok:
            first = first or r
            failures += r.at >= since
            continue
        if first is not None and r.at > since:
            found.append(_outage(first, r.at, failures))
        first, failures = None, 0
    if first is not None:
        found.append(_outage(first, None, failures))
    return tuple(found)


def _outage(first: EnvironmentCheck, end: datetime | None, failures: int) -> Outage:
    # Messages are the connect module's safe sentences; redacted again because they go to files.
    message = redact_text(" ".join((first.message or "").split()))
    return Outage(first.at, end, failures, first.reason or "error", message)
