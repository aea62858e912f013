"""Phrases both renderers share: times in the report's zone, percentages, changes, states (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from driftwatch.model import PLURALS
from driftwatch.render.slack import display, duration
from driftwatch.report.facts import ComparisonFacts, EpisodeFacts, ReportFacts
from driftwatch.report.promotion import Sighting

ROWS_SHOWN = 50  # table rows before "… and N more": a 300-migration week stays readable
IDS_SHOWN = 25
SIZE_KINDS = (("table", "Tables"), ("column", "Columns"), ("index", "Indexes"))
METHOD = (
    "Time in sync: each check's verdict holds from its start until the next check, but no longer "
    "than twice the usual spacing of checks ({stale}); time no check covers counts as \"no check\", "
    "and a check that could not read a side as \"could not check\". Neither counts as in sync. "
    "Percentages are of the whole period up to {end}. Episodes that began before the period or "
    "were still open at its end count only their part inside it under \"in period\". Migration "
    "times are when driftwatch first saw a migration applied (Sequelize records none); the ones "
    "already applied when driftwatch first read an environment are its baseline, not arrivals. "
    "The median promotion lag leaves out lower bounds (marked ≥) and migrations that reached "
    "the target first."
)


def when(at: datetime | None, timezone: str) -> str:
    """"Tue 2 Dec 09:00" in the report's time zone; "—" for no time."""
    if at is None:
        return "—"
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def when_full(at: datetime, timezone: str) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def pct(value: float) -> str:
    return f"{value:.1f} %"


def change(start: Mapping[str, int] | None, end: Mapping[str, int] | None, kind: str) -> str:
    """"45 → 46 (+1)", "45 (no change)", or "—" without data."""
    if end is None:
        return "—"
    b, a = (start or {}).get(kind), end.get(kind, 0)
    if b is None or b == a:
        return f"{a:,}" + (" (no change)" if b is not None else "")
    return f"{b:,} → {a:,} ({a - b:+,})"


def title(facts: ReportFacts) -> str:
    return f"driftwatch weekly report — {facts.period.label}"


def period_line(facts: ReportFacts) -> str:
    p = facts.period
    text = (f"{when_full(p.since, p.timezone)} to {when_full(p.until, p.timezone)} ({p.timezone}); "
            "the start is included, the end is not.")  # fmt: skip
    if facts.end < p.until:
        text += f" The period is not over: facts up to {when_full(facts.end, p.timezone)}."
    return text


def arrow(c: ComparisonFacts) -> str:
    return f"{display(c.reference)} → {display(c.target)}"


def state(c: ComparisonFacts, facts: ReportFacts) -> str:
    """The comparison at the end of the period, with since when."""
    n, tz = c.now, facts.period.timezone
    lasting = f" since {when(n.since, tz)} ({duration(facts.end - n.since)})" if n.since else ""
    if n.checked_at is None:
        return "never checked"
    if n.in_sync is None:
        return f"could not be checked at {when(n.checked_at, tz)}: {n.error}"
    return ("in sync" if n.in_sync else "drifting") + lasting


def differences(c: ComparisonFacts) -> str:
    d = c.now.differences
    words = (f"{n:,} {(k if n == 1 else PLURALS.get(k, k)).replace('_', ' ')}" for k, n in sorted(d.items()))
    return ", ".join(words) if d else "none"


def drifted(e: EpisodeFacts) -> str:
    """What an episode was: its drift when it opened, and at its last check if that differed."""
    text = "; ".join(e.what) or "—"
    return f"{text}. Later: {'; '.join(e.latest)}" if e.latest else text


def time_split(c: ComparisonFacts) -> str:
    s = c.shares
    return (f"{pct(s.percent('in_sync'))} in sync; drift {pct(s.percent('drift'))}, could not check "
            f"{pct(s.percent('unchecked'))}, no check {pct(s.percent('no_data'))}")  # fmt: skip


def median(c: ComparisonFacts) -> str:
    """The median lag and how many migrations it is the median of."""
    if c.median_lag is None:
        return "no migration promoted in this period" if not c.lags else "no exact lag (see the table)"
    n = sum(not x.at_least and x.lag >= timedelta() for x in c.lags)
    return f"{duration(c.median_lag)} (median of {n:,} migration{'s' if n != 1 else ''})"


def journey_cells(facts: ReportFacts, migration_id: str) -> tuple[str, ...]:
    """The arrivals table's last cell: the lag from the first environment to the last, if shown."""
    j = facts.journey
    if j is None:
        return ()
    found = next((x for x in j.lags if x.migration_id == migration_id), None)
    if found is None:
        return ("—",)
    lag = duration(found.lag) if found.lag >= timedelta() else "target first"
    return (("≥ " if found.at_least else "") + lag,)


def journey_head(facts: ReportFacts) -> tuple[str, ...]:
    j = facts.journey
    return (f"{display(j.first)} → {display(j.last)}",) if j else ()


def sighting(s: Sighting | None, timezone: str) -> str:
    if s is None:
        return "—"
    return "before monitoring" if s.baseline else when(s.at, timezone)


def method(facts: ReportFacts) -> str:
    return METHOD.format(stale=duration(facts.stale_after), end=when_full(facts.end, facts.period.timezone))


def more(total: int, shown: int) -> str | None:
    return f"… and {total - shown:,} more" if total > shown else None
