"""Report periods: ISO weeks and date ranges in the schedule's time zone, always [since, until)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from driftwatch.errors import UserError

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class PeriodError(UserError):
    """A --week, --since or --until the report cannot use; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time [since, until), named for people and for file names."""

    since: datetime  # tz-aware, in `timezone`
    until: datetime  # exclusive
    label: str  # "2025-W49" or "2025-12-01 to 2025-12-07"
    slug: str  # for file names: "2025-W49" or "2025-12-01_2025-12-08"
    timezone: str

    @property
    def length(self) -> timedelta:
        return self.until - self.since

    def end(self, now: datetime) -> datetime:
        """Where facts stop: the period's end, or `now` for a period still going on."""
        return max(self.since, min(self.until, now))


def iso_week(year: int, week: int, timezone: str) -> Period:
    """ISO week `week` of `year`: Monday 00:00 to the next Monday 00:00 in `timezone`."""
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"{year}-W{week:02d} is not an ISO week; weeks run 1 to 52 or 53, "
                          "e.g. --week 2025-W49") from None  # fmt: skip
    tz = ZoneInfo(timezone)
    since = datetime.combine(monday, time(), tz)
    until = datetime.combine(monday + timedelta(days=7), time(), tz)
    name = f"{year}-W{week:02d}"
    return Period(since, until, name, name, timezone)


def parse_week(text: str, timezone: str) -> Period:
    """`2025-W49` (or `2025W49`) as a Period."""
    match = _WEEK.match(text.strip())
    if match is None:
        raise PeriodError(f"--week {text!r} is not an ISO week; write it as YYYY-Www, e.g. 2025-W49")
    return iso_week(int(match[1]), int(match[2]), timezone)


def week_of(at: datetime, timezone: str) -> Period:
    """The ISO week (in `timezone`) that contains `at`."""
    year, week, _ = at.astimezone(ZoneInfo(timezone)).isocalendar()
    return iso_week(year, week, timezone)


def last_complete_week(now: datetime, timezone: str) -> Period:
    """The most recent ISO week that has ended by `now`: on Monday 06:00, the week before."""
    return week_of(week_of(now, timezone).since - timedelta(seconds=1), timezone)


def _moment(text: str, flag: str, tz: ZoneInfo) -> datetime:
    """A date (midnight) or ISO date-time; without an offset it is read in the schedule's zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD "
                          "or YYYY-MM-DDTHH:MM") from None  # fmt: skip
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def parse_range(since: str, until: str, timezone: str) -> Period:
    """--since and --until (exclusive) as a Period."""
    tz = ZoneInfo(timezone)
    start, end = _moment(since, "--since", tz), _moment(until, "--until", tz)
    if end <= start:
        raise PeriodError(f"--until {until} is not after --since {since}; the period is [since, until)")
    if end - start > timedelta(days=366):
        raise PeriodError("the period is longer than a year; report a shorter span")
    last = end - timedelta(microseconds=1)
    label = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    if start.time() == time() and end.time() == time():
        label = f"{start:%Y-%m-%d} to {last:%Y-%m-%d}"
    return Period(start, end, label, f"{start:%Y-%m-%d}_{end:%Y-%m-%d}", timezone)
