"""The daemon's weekly report: write last week's report to state_dir/reports, queue its Slack summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from driftwatch import logs
from driftwatch.config import Config
from driftwatch.notify import Notifier
from driftwatch.pipeline import Clock
from driftwatch.render.slack import Alert, build_message
from driftwatch.report.history import ReportFiles, make_weekly_report
from driftwatch.report.items import open_items, summary_lines
from driftwatch.report.period import last_complete_week
from driftwatch.report.words import when
from driftwatch.store import Store

REPORTS = "reports"
OPEN_TEXT = 300  # characters of the first open item quoted in the Slack summary


def reports_dir(config: Config) -> Path:
    """Where the daemon keeps its reports (and serves them from, under /reports/)."""
    return config.state.state_dir / REPORTS


def report_url(base: str | None, files: ReportFiles) -> str | None:
    """The HTML report's address under `[slack] report_base_url`, if one is configured."""
    return f"{base.rstrip('/')}/{files.html.name}" if base else None


def slack_text(files: ReportFiles) -> str:
    """The summary Slack shows: the week, then the headline numbers, one per line."""
    p = files.facts.period
    last_day = when(p.until - timedelta(microseconds=1), p.timezone).rsplit(" ", 1)[0]
    head = f"*{p.label}* ({when(p.since, p.timezone).rsplit(' ', 1)[0]} to {last_day}, {p.timezone})"
    items = open_items(files.facts)
    still = "Nothing is open." if not items else (
        f"Still open: {len(items)} item{'s' if len(items) != 1 else ''}; first: {items[0].text[:OPEN_TEXT]}")
    return "\n".join([head, *summary_lines(files.facts), still])


def publish(config: Config, store: Store, clock: Clock, notifier: Notifier) -> ReportFiles | None:
    """Write the last complete ISO week's report in both formats and queue its summary once.

    The outbox key names the week, so a restart or a second weekly run posts nothing twice.
    A failure here is logged and never costs the run its checks.
    """
    log, now = logs.get(), clock()
    period = last_complete_week(now, config.schedule.timezone)
    try:
        files = make_weekly_report(store, config, period, reports_dir(config), lambda: now)
    except Exception:  # the checks are recorded already; a report bug must not fail the run
        log.exception("report.failed", week=period.label)
        return None
    log.info("report.written", week=period.label, markdown=str(files.markdown), html=str(files.html))
    if notifier.sender is not None:
        _queue(notifier, files, config, now)
    return files


def _queue(notifier: Notifier, files: ReportFiles, config: Config, now: datetime) -> None:
    alert = Alert("weekly", "info", "", "", now, text=slack_text(files),
                  dashboard_url=config.slack.dashboard_url,
                  report_url=report_url(config.slack.report_base_url, files))  # fmt: skip
    key = f"report:{files.facts.period.slug}"
    if notifier.outbox.enqueue(key, comparison=None, kind="weekly", severity="info", at=now,
                               payload=build_message(alert).payload()):  # fmt: skip
        notifier.log.info("alert.queued", key=key, kind="weekly", severity="info")
