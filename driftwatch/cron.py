"""Standard crontab expressions for APScheduler 3.x, whose weekday numbers start at Monday = 0.

In a crontab, `0 6 * * 1` means Monday 06:00 (0 and 7 are Sunday). APScheduler 3.x's
`CronTrigger.from_crontab` reads the same `1` as Tuesday. We parse the weekday field
ourselves, expand it to a set of days, and hand APScheduler day *names*, which it cannot
misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

# Standard crontab numbering: 0 (or 7) is Sunday.
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}


class CronError(ValueError):
    """A crontab expression that cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed five-field crontab expression, weekdays already as names."""

    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str  # "mon,wed" or "*"

    def trigger(self, timezone: str) -> CronTrigger:
        # Imported here: config validation parses cron lines, and `driftwatch diff` should
        # not pay for loading APScheduler.
        from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

        return CronTrigger(minute=self.minute, hour=self.hour, day=self.day, month=self.month,
                           day_of_week=self.day_of_week, timezone=timezone)  # fmt: skip


def _day(token: str) -> int:
    name = token.lower()[:3]
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if not token.isdigit() or not 0 <= int(token) <= 7:
        raise CronError(f"weekday {token!r} is not 0-7 or a day name")
    return int(token) % 7  # 7 is Sunday too


def _weekday_item(item: str) -> set[int]:
    body, _, step_text = item.partition("/")
    step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
    if step_text and step is None:
        raise CronError(f"weekday step {step_text!r} is not a positive number")
    if body == "*":
        first, last = 0, 6
    elif "-" in body:
        start, _, end = body.partition("-")
        first, last = _day(start), _day(end)
        last = 7 if end == "7" or (last == 0 and first > 0) else last
    else:
        first = last = _day(body)
        if step:
            last = 6
    if last < first:
        raise CronError(f"weekday range {body!r} runs backwards")
    return {d % 7 for d in range(first, last + 1, step or 1)}


def weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler day names, e.g. `1-5` -> `mon,tue,wed,thu,fri`."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        days |= _weekday_item(item)
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse(expression: str) -> Cron:
    """Parse a standard five-field crontab expression (or @hourly, @daily, @weekly...)."""
    text = MACROS.get(expression.strip(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields; a crontab line has five: "
                        "minute hour day-of-month month day-of-week")  # fmt: skip
    minute, hour, day, month, dow = fields
    cron = Cron(minute, hour, day, month, weekdays(dow))
    try:
        cron.trigger("UTC")  # let APScheduler validate the other four fields
    except ValueError as e:
        raise CronError(f"{expression!r}: {e}") from None
    return cron
