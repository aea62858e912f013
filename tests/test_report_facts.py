"""The report's facts from hand-built history: durations, shares, lags and edges of the period."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from driftwatch.report import facts as report_facts
from driftwatch.report import html, markdown, period
from driftwatch.report.items import headline, open_items
from driftwatch.report.period import PeriodError
from driftwatch.report.timeline import stale_after
from tests.support.history import Builder

WEEK = period.parse_week("2025-W49", "UTC")  # Mon 1 Dec 2025 00:00 to Mon 8 Dec 00:00
MON = WEEK.since
H = timedelta(hours=1)
BASE = [f"2025010{i}_base.js" for i in range(1, 6)]
NEW = "20251202_01_enforce_e164_beneficiaries.js"
AFTER = MON + timedelta(days=7, hours=6)  # Monday 06:00, when the weekly job runs


def hours(start: datetime, end: datetime) -> list[datetime]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += H
    return out


def story() -> Builder:
    """In sync; drift Tue 09:00 to Thu 09:00; Staging refused Fri 10:00-12:00; NEW promoted on three days."""
    b = Builder(comparisons=(("uat", "staging"), ("staging", "production")),
                environments=("uat", "staging", "production"))  # fmt: skip
    tue9, thu9 = MON + timedelta(days=1, hours=9), MON + timedelta(days=3, hours=9)
    fri10, fri13 = MON + timedelta(days=4, hours=10), MON + timedelta(days=4, hours=13)
    sat12 = MON + timedelta(days=5, hours=12)
    for at in hours(MON - H, MON + timedelta(days=7)):
        down = fri10 <= at < fri13
        drift = tue9 <= at < thu9
        b.check(at, None if down else not drift, [NEW] if drift else [], ["index"] if drift else [],
                error="Staging refused the connection" if down else None)
        b.check(at, None if down else True, comparison="staging:production",
                error="Staging refused the connection" if down else None)
        for env in ("uat", "staging", "production"):
            b.read(at, env, ok=not (down and env == "staging"))
    b.episode(tue9, thu9, {"missing": [NEW], "differences": ["index public.msisdn_idx missing"]})
    for env in ("uat", "staging", "production"):
        b.saw(env, MON - H, *BASE)
    b.saw("uat", tue9, NEW)
    b.saw("staging", thu9, NEW)
    b.saw("production", sat12, NEW)
    return b


class TestFacts:
    """One week told by hand, its numbers worked out by hand."""

    def test_time_in_sync_counts_drift_and_could_not_check_apart(self) -> None:
        """48 h drift and 3 h unreachable of 168 h: 69.6 % in sync, 28.6 % drift, 1.8 % unchecked."""
        f = report_facts.build(story().history(), WEEK, AFTER)
        c = f.comparisons[0]
        assert c.shares.drift == timedelta(hours=48)
        assert c.shares.unchecked == timedelta(hours=3)
        assert c.shares.no_data == timedelta()
        assert c.shares.in_sync == timedelta(hours=117)
        assert round(c.shares.percent("in_sync"), 1) == 69.6
        assert (c.checks, c.failed_checks) == (168, 3)

    def test_episode_and_state_at_the_end(self) -> None:
        """The episode lasted two days, all inside; at the end: in sync since Thursday 09:00."""
        f = report_facts.build(story().history(), WEEK, AFTER)
        (e,) = f.comparisons[0].episodes
        assert (e.duration, e.in_period, e.resolved_at) == (timedelta(days=2), timedelta(days=2),
                                                            MON + timedelta(days=3, hours=9))  # fmt: skip
        assert e.what == ("1 migration missing in the target", "1 schema difference (1 index)")
        now = f.comparisons[0].now
        assert (now.in_sync, now.since) == (True, MON + timedelta(days=3, hours=9))
        assert open_items(f) == ()

    def test_promotion_lags_and_arrivals(self) -> None:
        """NEW took 2 days to Staging and 2 days 3 h to Production; the baseline is no arrival."""
        f = report_facts.build(story().history(), WEEK, AFTER)
        assert [(x.migration_id, x.lag, x.at_least) for x in f.comparisons[0].lags] == [
            (NEW, timedelta(days=2), False)]
        assert f.comparisons[1].median_lag == timedelta(days=2, hours=3)
        assert [a.migration_id for a in f.arrivals] == [NEW]
        assert [e.arrived for e in f.environments] == [1, 1, 1]
        assert f.environments[0].baseline_at == MON - H
        assert f.journey is not None
        journey = (f.journey.first, f.journey.last, f.journey.median)
        assert journey == ("uat", "production", timedelta(days=4, hours=3))

    def test_outage_and_health(self) -> None:
        """Staging failed three reads in a row: unreachable 3 h, from Friday 10:00 to 13:00."""
        f = report_facts.build(story().history(), WEEK, AFTER)
        staging = f.environments[1]
        (o,) = staging.outages
        assert (o.start, o.end, o.failures, staging.unreachable) == (
            MON + timedelta(days=4, hours=10), MON + timedelta(days=4, hours=13), 3, timedelta(hours=3))
        h = headline(f)
        assert (h.runs, h.failed_checks, h.opened, h.resolved) == (168, 6, 1, 1)

    def test_markdown_carries_the_numbers(self) -> None:
        """The Markdown shows the shares, the episode, the lag and the outage."""
        text = markdown.render(report_facts.build(story().history(), WEEK, AFTER))
        for fact in ("69.6 % in sync", "drift 28.6 %", "could not check 1.8 %", "| 2 days | 2 days |",
                     f"| `{NEW}` | Tue 2 Dec 09:00 | Thu 4 Dec 09:00 | Sat 6 Dec 12:00 |",
                     "| Staging | Fri 5 Dec 10:00 | Fri 5 Dec 13:00 | 3 h | 3 | refused |",
                     "2 days 3 h (median of 1 migration)", "Nothing is open"):  # fmt: skip
            assert fact in text, fact


class TestEdges:
    """Episodes and outages that cross the period's edges, and gaps in the checks."""

    def test_episode_open_before_and_after_the_period(self) -> None:
        """Opened a day before the week, never resolved: 8 days long, 7 of them in the week."""
        b = Builder()
        for at in hours(MON - timedelta(days=1), MON + timedelta(days=7)):
            b.check(at, False, [NEW])
            b.read(at, "uat")
            b.read(at, "staging")
        b.episode(MON - timedelta(days=1), None, {"missing": [NEW]})
        b.saw("uat", MON - timedelta(days=1), NEW)
        f = report_facts.build(b.history(), WEEK, AFTER)
        (e,) = f.comparisons[0].episodes
        assert (e.duration, e.in_period, e.resolved_at) == (timedelta(days=8), timedelta(days=7), None)
        assert f.comparisons[0].shares.percent("drift") == 100.0
        (item,) = open_items(f)
        assert "driftwatch sync --comparison uat:staging --dry-run" in item.commands
        assert "8 days" in item.text

    def test_a_daemon_down_for_a_day_is_no_data_not_in_sync(self) -> None:
        """No check for 24 h: the last verdict stands 2 h (twice the spacing), the rest is no data."""
        b = Builder()
        for at in hours(MON, MON + timedelta(days=7)):
            if not MON + timedelta(days=2) <= at < MON + timedelta(days=3):
                b.check(at, True)
        c = report_facts.build(b.history(), WEEK, AFTER).comparisons[0]
        assert c.shares.no_data == timedelta(hours=23)  # 25 h between checks, less 2 h
        assert c.shares.in_sync == timedelta(hours=145)

    def test_current_week_so_far(self) -> None:
        """Wednesday noon of the week itself: facts stop there, the rest is not counted."""
        b = Builder()
        for at in hours(MON, MON + timedelta(days=2, hours=12)):
            b.check(at, True)
        f = report_facts.build(b.history(), WEEK, MON + timedelta(days=2, hours=12))
        assert f.comparisons[0].shares.total == timedelta(days=2, hours=12)
        assert "not over" in markdown.render(f)

    def test_outage_going_on_at_both_edges(self) -> None:
        """Unreachable from Sunday until after the week: 7 days inside, still failing at the end."""
        b = Builder()
        b.read(MON - timedelta(days=2), "staging")
        for at in hours(MON - timedelta(days=1), MON + timedelta(days=7)):
            b.read(at, "staging", ok=False)
        for at in hours(MON - timedelta(days=1), MON + timedelta(days=7)):
            b.check(at, None, error="staging refused")
        f = report_facts.build(b.history(), WEEK, AFTER)
        env = f.environments[1]
        (o,) = env.outages
        assert (o.start, o.end, env.unreachable) == (MON - timedelta(days=1), None, timedelta(days=7))
        (item,) = open_items(f)  # the comparison it blocks is not listed again
        assert item.text == "Staging has been unreachable for 8 days (refused): connection refused"
        assert item.commands == ("driftwatch check-config", "driftwatch check --comparison uat:staging")

    def test_empty_history(self) -> None:
        """No rows at all: a report that says so, with nothing divided by zero."""
        f = report_facts.build(Builder().history(), WEEK, AFTER)
        assert f.comparisons[0].now.checked_at is None
        assert f.comparisons[0].shares.no_data == timedelta(days=7)
        text = markdown.render(f)
        assert "never checked" in text
        assert "No migration reached any environment" in text
        (item,) = open_items(f)
        assert "was never checked in this period" in item.text
        assert item.commands[0] == "driftwatch status"

    def test_stale_after_is_twice_the_median_spacing(self) -> None:
        at = [MON + i * H for i in range(5)] + [MON + timedelta(days=2)]
        assert stale_after(at) == 2 * H
        assert stale_after([MON]) == 2 * H


class TestPeriods:
    """ISO weeks in the schedule's time zone; bad input gets one plain sentence."""

    def test_week_in_a_time_zone(self) -> None:
        p = period.parse_week("2025-W49", "Africa/Johannesburg")
        assert p.since.isoformat() == "2025-12-01T00:00:00+02:00"
        assert p.until - p.since == timedelta(days=7)

    def test_last_complete_week_on_monday_morning(self) -> None:
        """Monday 06:00 Johannesburg (04:00 UTC) reports the week that ended at midnight."""
        now = datetime(2025, 12, 8, 4, 0, tzinfo=UTC)
        assert period.last_complete_week(now, "Africa/Johannesburg").label == "2025-W49"
        assert period.last_complete_week(datetime(2026, 1, 5, 6, tzinfo=UTC), "UTC").label == "2026-W01"

    @pytest.mark.parametrize(("text", "words"), [("2025-49", "YYYY-Www"), ("2025-W54", "not an ISO week"),
                                                  ("last week", "YYYY-Www")])  # fmt: skip
    def test_bad_weeks(self, text: str, words: str) -> None:
        with pytest.raises(PeriodError, match=words):
            period.parse_week(text, "UTC")

    def test_ranges(self) -> None:
        p = period.parse_range("2025-12-01", "2025-12-08", "UTC")
        assert (p.label, p.slug) == ("2025-12-01 to 2025-12-07", "2025-12-01_2025-12-08")
        with pytest.raises(PeriodError, match="not after"):
            period.parse_range("2025-12-08", "2025-12-01", "UTC")
        with pytest.raises(PeriodError, match="not a date"):
            period.parse_range("monday", "2025-12-01", "UTC")


class TestRenderers:
    """Both formats from the same facts: self-contained, escaped, bounded."""

    def test_html_is_self_contained(self) -> None:
        """No scripts, no links, no loads: it works offline and as an e-mail attachment."""
        page = html.render(report_facts.build(story().history(), WEEK, AFTER))
        for banned in ("<script", "<link", "src=", "url(", "@import", "http://", "https://", "<iframe"):
            assert banned not in page.lower(), banned
        assert page.count("<svg") == 5
        assert page.startswith("<!DOCTYPE html>")

    def test_hostile_names_are_escaped(self) -> None:
        """A migration named like markup stays text in HTML and stays in its cell in Markdown."""
        b = story()
        evil = "2025_<script>alert(1)</script>|x`.js"
        b.saw("uat", MON + timedelta(days=6), evil)
        facts = report_facts.build(b.history(), WEEK, AFTER)
        page, md = html.render(facts), markdown.render(facts)
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;|x`.js" in page
        assert "| `` 2025_<script>alert(1)</script>\\|x`.js `` | Sun 7 Dec 00:00 | — | — |" in md

    def test_svg_times_are_in_the_report_zone(self) -> None:
        """Hover texts and axis labels use the schedule's time zone, not UTC."""
        week = period.parse_week("2025-W49", "Africa/Johannesburg")
        page = html.render(report_facts.build(story().history(), week, AFTER))
        assert "<title>drift: Tue 11:00 to Thu 11:00</title>" in page  # 09:00 UTC is 11:00 SAST


def test_the_command_line_loads_no_report_machinery() -> None:
    """check and diff stay light: importing the CLI loads neither sqlite3 nor the report package."""
    code = ("import sys, driftwatch.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlite3', 'apscheduler', 'slack_sdk') or m.startswith('driftwatch.report')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_slack_summary_names_what_is_open() -> None:
    """The weekly Slack text: the week, the headline, and the first open item."""
    from pathlib import Path  # noqa: PLC0415

    from driftwatch.report.history import ReportFiles  # noqa: PLC0415
    from driftwatch.report.weekly import report_url, slack_text  # noqa: PLC0415

    b = Builder()
    for at in hours(MON, MON + timedelta(days=7)):
        b.check(at, False, [NEW])
    b.episode(MON, None, {"missing": [NEW]})
    facts = report_facts.build(b.history(), WEEK, AFTER)
    files = ReportFiles(Path("r.md"), Path("driftwatch-2025-W49.html"), facts)
    text = slack_text(files)
    assert text.startswith("*2025-W49* (Mon 1 Dec to Sun 7 Dec, UTC)\n0 of 1 comparisons in sync")
    assert text.endswith("Still open: 1 item; first: Staging has drifted from UAT for 7 days: 1 migration "
                         "from UAT missing.")  # fmt: skip
    url = report_url("https://dw.example.com/reports", files)
    assert url == "https://dw.example.com/reports/driftwatch-2025-W49.html"
    assert report_url(None, files) is None


def test_missing_series_breaks_where_no_check_covered() -> None:
    """The missing-migrations line stops 2 h after the last check before a gap, like the timeline."""
    b = Builder()
    day = MON + timedelta(days=1)
    for i in range(3):
        b.check(MON + i * H, False, [NEW])
        b.check(day + i * H, True)
    series = report_facts.build(b.history(), WEEK, AFTER).comparisons[0].missing_series
    assert series == ((MON, 1), (MON + H, 1), (MON + 2 * H, 1), (MON + 4 * H, None),
                      (day, 0), (day + H, 0), (day + 2 * H, 0), (day + 4 * H, None))  # fmt: skip
