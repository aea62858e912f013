"""When to post: alerts decided from drift episodes and environment health, each exactly once.

Every decision carries a key derived from the history (the episode's id, the drift summary's
digest, the reminder's slot), and the outbox stores each key once, so a restart that derives
the same decision again sends nothing new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from driftwatch.daemon_config import SEVERITIES, SlackSettings
from driftwatch.render.slack import Alert
from driftwatch.store_rows import Episode, EpisodeChange

AlertKind = Literal["opened", "changed", "reminder", "resolved", "unreachable", "reachable",
                    "test", "weekly"]
Severity = Literal["info", "warning", "critical"]
SUMMARY_LISTS = ("missing", "extra", "failed", "history_table_missing", "differences", "critical")


@dataclass(frozen=True, slots=True)
class Decision:
    """An alert to enqueue under its de-duplication key."""

    key: str
    subject: str  # the comparison ("uat:staging") or the environment ("env:production")
    alert: Alert
    channel: str | None = None


def drift_severity(report: Mapping[str, Any]) -> str:
    """Critical for a critical table, reverse drift (extra migrations) or a failed migration."""
    m = report.get("migrations") or {}
    critical_table = any(t.get("status") != "ok" for t in report.get("critical_tables", ()))
    if critical_table or m.get("extra") or m.get("failed") or m.get("reference_failed"):
        return "critical"
    return "warning"


def delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, list[str]], ...]:
    """(added, removed) per summary list, in each list's own order."""
    added = {k: [x for x in after.get(k, ()) if x not in set(before.get(k, ()))] for k in SUMMARY_LISTS}
    removed = {k: [x for x in before.get(k, ()) if x not in set(after.get(k, ()))] for k in SUMMARY_LISTS}
    return {k: v for k, v in added.items() if v}, {k: v for k, v in removed.items() if v}


def _digest(summary: Mapping[str, Any]) -> str:
    text = json.dumps(summary, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _enough(severity: str, settings: SlackSettings) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(settings.min_severity)


@dataclass(frozen=True, slots=True)
class ComparisonFacts:
    """What the policy needs about one comparison's latest check."""

    reference: str
    target: str
    change: EpisodeChange
    report: Mapping[str, Any]
    last_notice: datetime | None  # newest opened/changed/reminder alert of the open episode
    episode_alerted: bool  # some alert of this episode was enqueued (resolved follows it)
    channel: str | None = None


def _alert(kind: AlertKind, severity: Severity, facts: ComparisonFacts, now: datetime,
           settings: SlackSettings, **extra: Any) -> Alert:  # fmt: skip
    episode = facts.change.episode
    return Alert(kind, severity, facts.reference, facts.target, now, report=facts.report,
                 drift_started=episode.opened_at if episode else None,
                 dashboard_url=settings.dashboard_url, report_url=settings.report_base_url,
                 **extra)  # fmt: skip


def comparison_decisions(facts: ComparisonFacts, now: datetime, settings: SlackSettings) -> list[Decision]:
    """Opened, changed, reminder or resolved, from the episode change the check caused."""
    episode = facts.change.episode
    if episode is None:
        return []
    key, alert = _comparison_alert(facts, episode, now, settings)
    if alert is None or not (alert.kind == "resolved" or _enough(alert.severity, settings)):
        return []
    subject = f"{facts.reference}:{facts.target}"
    return [Decision(f"episode:{episode.id}:{key}", subject, alert, facts.channel)]


def _comparison_alert(
    facts: ComparisonFacts, episode: Episode, now: datetime, settings: SlackSettings
) -> tuple[str, Alert | None]:
    change = facts.change
    severity: Severity = "critical" if drift_severity(facts.report) == "critical" else "warning"
    mention = settings.mention_on_critical if severity == "critical" else None
    if change.kind == "opened":
        return "opened", _alert("opened", severity, facts, now, settings, mention=mention)
    if change.kind == "changed":
        added, removed = delta(change.previous_summary or {}, episode.summary)
        alert = _alert("changed", severity, facts, now, settings, added=added, removed=removed,
                       mention=mention)  # fmt: skip
        return f"changed:{_digest(episode.summary)}", alert
    if change.kind == "resolved":
        resolved = _alert("resolved", "info", facts, now, settings) if facts.episode_alerted else None
        return "resolved", resolved
    every = timedelta(hours=settings.remind_every_hours)
    if change.kind == "unchanged" and facts.last_notice and now - facts.last_notice >= every:
        slot = int((now - episode.opened_at) / every)
        return f"reminder:{slot}", _alert("reminder", severity, facts, now, settings, mention=mention)
    return "", None


def preview_alert(reference: str, target: str, report: Mapping[str, Any], now: datetime,
                  settings: SlackSettings) -> Alert:  # fmt: skip
    """The "drift opened" alert a check's report would produce now (notify preview, the demo)."""
    severity: Severity = "critical" if drift_severity(report) == "critical" else "warning"
    return Alert("opened", severity, reference, target, now, report=report,
                 mention=settings.mention_on_critical if severity == "critical" else None,
                 dashboard_url=settings.dashboard_url, report_url=settings.report_base_url)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EnvironmentFacts:
    """What the policy needs about one environment after a run."""

    name: str
    ok: bool
    failures: int  # consecutive failed checks, this one included
    last_kind: str | None  # the newest unreachable/reachable alert about it
    last_id: int | None
    error: str | None = None


def environment_decisions(facts: EnvironmentFacts, now: datetime, settings: SlackSettings) -> list[Decision]:
    """Unreachable after `unreachable_after` failed checks in a row; reachable again after that."""
    env, subject = facts.name, f"env:{facts.name}"
    if not facts.ok and facts.failures >= settings.unreachable_after and facts.last_kind != "unreachable":
        alert = Alert("unreachable", "critical", env, env, now, environment=env, error=facts.error,
                      failures=facts.failures, mention=settings.mention_on_critical,
                      dashboard_url=settings.dashboard_url)  # fmt: skip
        return [Decision(f"{subject}:unreachable:{now.isoformat()}", subject, alert)]
    if facts.ok and facts.last_kind == "unreachable":
        alert = Alert("reachable", "info", env, env, now, environment=env,
                      dashboard_url=settings.dashboard_url)  # fmt: skip
        return [Decision(f"{subject}:reachable:{facts.last_id}", subject, alert)]
    return []
