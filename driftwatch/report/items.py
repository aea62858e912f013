"""What the reader does next: open items with commands, and the headline numbers (pure)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta

from driftwatch.render.slack import display, duration
from driftwatch.report.facts import ComparisonFacts, EnvironmentFacts, ReportFacts

# A comparison no check covered for this share of the period gets an open item of its own.
NO_CHECK_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class OpenItem:
    """Something still wrong when the period ended, and the commands that move it forward."""

    subject: str  # "uat:staging" or "production"
    text: str
    commands: tuple[str, ...]
    severity: str  # "critical" or "warning"


@dataclass(frozen=True, slots=True)
class Headline:
    """The numbers the Slack summary and the report's first lines lead with."""

    comparisons: int
    in_sync: int
    drifting: int
    unknown: int
    opened: int  # episodes opened in the period
    resolved: int  # episodes resolved in the period
    arrived: tuple[tuple[str, int], ...]  # env -> migrations that arrived
    median_lags: tuple[tuple[str, timedelta | None], ...]  # comparison -> median lag
    runs: int
    failed_checks: int
    unreachable: tuple[tuple[str, timedelta], ...]  # envs that were, and for how long


def headline(facts: ReportFacts) -> Headline:
    cs, since, end = facts.comparisons, facts.period.since, facts.end
    return Headline(
        len(cs), sum(c.now.in_sync is True for c in cs), sum(c.now.in_sync is False for c in cs),
        sum(c.now.in_sync is None for c in cs),
        sum(since <= e.opened_at < end for c in cs for e in c.episodes),
        sum(e.resolved_at is not None and since <= e.resolved_at < end for c in cs for e in c.episodes),
        tuple((e.name, e.arrived) for e in facts.environments),
        tuple((c.name, c.median_lag) for c in cs), facts.runs, sum(c.failed_checks for c in cs),
        tuple((e.name, e.unreachable) for e in facts.environments if e.unreachable > timedelta()),
    )  # fmt: skip


def _q(comparison: str) -> str:
    return shlex.quote(comparison)


def _drift_item(c: ComparisonFacts, end: datetime) -> OpenItem:
    ref, tgt, n = display(c.reference), display(c.target), c.now
    parts = []
    if n.missing:
        oldest = min(n.waiting.values(), default=None)
        waited = f", the oldest waiting {duration(end - oldest)}" if oldest else ""
        parts.append(f"{len(n.missing):,} migration{'s' if len(n.missing) != 1 else ''} from {ref} "
                     f"missing{waited}")  # fmt: skip
    if n.extra:
        parts.append(f"{len(n.extra):,} only in {tgt} (a hotfix to bring back to {ref}?)")
    if n.failed:
        parts.append(f"{len(n.failed):,} failed in {tgt}")
    if diffs := sum(n.differences.values()):
        parts.append(f"{diffs:,} schema difference{'s' if diffs != 1 else ''}")
    if n.critical:
        parts.append(f"critical tables not matching: {', '.join(t for t, _ in n.critical[:5])}")
    lasting = f" for {duration(end - n.since)}" if n.since else ""
    text = f"{tgt} has drifted from {ref}{lasting}: {'; '.join(parts) or 'see the check'}."
    commands = [f"driftwatch check --comparison {_q(c.name)}"]
    if n.missing and not (n.extra or n.failed):
        commands.append(f"driftwatch sync --comparison {_q(c.name)} --dry-run")
    severe = bool(n.extra or n.failed or n.critical)
    return OpenItem(c.name, text, tuple(commands), "critical" if severe else "warning")


def open_items(facts: ReportFacts) -> tuple[OpenItem, ...]:
    """Drift still open, comparisons that could not be checked, environments still unreachable."""
    items = [item for env in facts.environments if (item := _down(env, facts))]
    down = {item.subject for item in items}
    for c in facts.comparisons:
        if gap := _gap(c, facts):
            items.append(gap)
        if c.now.in_sync is False:
            items.append(_drift_item(c, facts.end))
        elif c.now.in_sync is None and c.now.checked_at is not None and not {c.reference, c.target} & down:
            items.append(OpenItem(c.name, f"{display(c.target)} against {display(c.reference)} could not be "
                                  f"checked: {c.now.error}", (f"driftwatch check --comparison {_q(c.name)}",),
                                  "warning"))  # fmt: skip
    return tuple(sorted(items, key=lambda i: i.severity != "critical"))


def _down(env: EnvironmentFacts, facts: ReportFacts) -> OpenItem | None:
    """An environment still unreachable when the period ended (its comparisons are then unchecked)."""
    ongoing = [o for o in env.outages if o.end is None]
    if not ongoing:
        return None
    o = ongoing[-1]
    probe = next((c.name for c in facts.comparisons if env.name in (c.reference, c.target)), None)
    commands = ("driftwatch check-config", *([f"driftwatch check --comparison {_q(probe)}"] if probe else []))
    return OpenItem(env.name, f"{display(env.name)} has been unreachable for {duration(facts.end - o.start)} "
                    f"({o.reason}): {o.message}", commands, "critical")  # fmt: skip


def _gap(c: ComparisonFacts, facts: ReportFacts) -> OpenItem | None:
    """A comparison no check covered for a good part of the period: is the daemon running?"""
    unseen = c.shares.no_data
    if c.shares.total <= timedelta() or unseen < NO_CHECK_SHARE * c.shares.total:
        return None
    what = "never checked" if c.now.checked_at is None else f"not checked for {duration(unseen)}"
    return OpenItem(c.name, f"{display(c.target)} against {display(c.reference)} was {what} in this period "
                    "(the daemon stopped, or its schedule has gaps).",
                    ("driftwatch status", "curl -s localhost:9632/healthz"), "warning")  # fmt: skip


def lag_text(lag: timedelta | None) -> str:
    """A lag for people: "1 day 2 h", "target first", or "—" when there is none."""
    if lag is None:
        return "—"
    if lag < timedelta():
        return f"target first ({duration(-lag)} earlier)"
    return duration(lag)


def summary_lines(facts: ReportFacts) -> list[str]:
    """The headline as a few plain sentences (the Slack summary; the reports' opening)."""
    h = headline(facts)
    state = f"{h.in_sync} of {h.comparisons} comparisons in sync at the end of the period"
    if h.drifting:
        state += f", {h.drifting} drifting"
    if h.unknown:
        state += f", {h.unknown} not checkable"
    lines = [state + ".",
             f"Drift episodes: {h.opened} opened, {h.resolved} resolved.",
             "Migrations that arrived: " + ", ".join(f"{display(e)} {n}" for e, n in h.arrived) + "."]
    lags = [f"{display(c.split(':')[0])} → {display(c.split(':')[1])} {lag_text(v)}"
            for c, v in h.median_lags if v is not None]  # fmt: skip
    j = facts.journey
    if j is not None and j.median is not None:
        lags.append(f"{display(j.first)} → {display(j.last)} {lag_text(j.median)}")
    if lags:
        lines.append("Median promotion lag: " + ", ".join(lags) + ".")
    runs = f"{h.runs} check run{'' if h.runs == 1 else 's'}"
    failed = "no comparison check failed" if not h.failed_checks else (
        f"{h.failed_checks} comparison check{'' if h.failed_checks == 1 else 's'} could not compare")
    health = f"{runs}, {failed}"
    if h.unreachable:
        health += "; unreachable: " + ", ".join(f"{display(e)} {duration(t)}" for e, t in h.unreachable)
    lines.append(health + ".")
    return lines
