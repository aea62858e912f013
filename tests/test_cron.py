"""Standard crontab meaning, proved on the calendar: `0 6 * * 1` is Monday, not Tuesday."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from driftwatch.cron import CronError, parse, weekdays

UTC = ZoneInfo("UTC")


def fire_times(expression: str, start: datetime, n: int, tz: str = "UTC") -> list[datetime]:
    trigger = parse(expression).trigger(tz)
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        times.append(nxt)
        previous, now = nxt, nxt + timedelta(seconds=1)
    return times


def test_monday_is_monday() -> None:
    """`0 6 * * 1` fires on Mondays at 06:00 (2025-12-01 is a Monday)."""
    times = fire_times("0 6 * * 1", datetime(2025, 11, 26, tzinfo=UTC), 3)
    assert [t.strftime("%A %Y-%m-%d %H:%M") for t in times] == [
        "Monday 2025-12-01 06:00", "Monday 2025-12-08 06:00", "Monday 2025-12-15 06:00"]


@pytest.mark.parametrize(("field", "names"), [
    ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("mon", "mon"),
    ("MON-FRI", "mon,tue,wed,thu,fri"), ("*/2", "sun,tue,thu,sat"), ("1-7", "sun,mon,tue,wed,thu,fri,sat"),
    ("5-7", "sun,fri,sat"), ("0,6", "sun,sat"), ("sat-sun", "sun,sat"), ("*", "*"),
])
def test_weekday_fields(field: str, names: str) -> None:
    """Numbers, names, ranges, steps and lists mean what they mean in crontab(5)."""
    assert weekdays(field) == names


def test_hourly_and_timezone() -> None:
    """`0 * * * *` fires every hour on the hour; a weekly job honours its time zone."""
    hours = fire_times("0 * * * *", datetime(2025, 12, 1, 10, 30, tzinfo=UTC), 3)
    assert [t.hour for t in hours] == [11, 12, 13]
    (jhb,) = fire_times("0 6 * * mon", datetime(2025, 11, 26, tzinfo=UTC), 1, "Africa/Johannesburg")
    assert jhb.astimezone(UTC).strftime("%A %H:%M") == "Monday 04:00"


@pytest.mark.parametrize(("expression", "message"), [
    ("0 6 * *", "has 4 fields"), ("0 6 * * 8", "weekday '8' is not 0-7"),
    ("61 * * * *", "61"), ("0 6 * * 5-1", "runs backwards"),
])
def test_bad_expressions(expression: str, message: str) -> None:
    """A wrong expression is a CronError that says what is wrong."""
    with pytest.raises(CronError, match=message):
        parse(expression)


def test_macros() -> None:
    """@hourly and @weekly are the crontab macros (weekly: Sunday midnight)."""
    assert parse("@hourly") == parse("0 * * * *")
    assert parse("@weekly").day_of_week == "sun"
