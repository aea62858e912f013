"""The weekly maintenance report: facts from the history, rendered as Markdown and as HTML."""

from __future__ import annotations

from driftwatch.report.history import ReportFiles, make_weekly_report
from driftwatch.report.period import Period, iso_week, last_complete_week, parse_range, parse_week, week_of

__all__ = ["Period", "ReportFiles", "iso_week", "last_complete_week", "make_weekly_report", "parse_range",
           "parse_week", "week_of"]  # fmt: skip
