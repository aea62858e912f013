"""The report's facts: history rows + a period + the time → frozen data the renderers read (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from driftwatch.report import promotion, timeline
from driftwatch.report.period import Period
from driftwatch.report.promotion import Arrival, Lag, Sightings
from driftwatch.report.timeline import Outage, Segment, Shares
from driftwatch.secrets import redact_text
from driftwatch.store_rows import CheckRow, EnvironmentCheck, Episode, SeenMigration


@dataclass(frozen=True, slots=True)
class History:
    """What the store holds for a report, as rows (read by driftwatch.report.history)."""

    comparisons: tuple[tuple[str, str], ...]  # (reference, target), config order
    environments: tuple[str, ...]  # promotion order: uat, staging, production
    checks: tuple[CheckRow, ...]  # [since, end), plus each comparison's last check before since
    episodes: tuple[Episode, ...]  # overlapping [since, end), plus each one's last resolved before
    reads: tuple[EnvironmentCheck, ...]  # [since, end), plus each env's reads since its last good one
    seen: tuple[SeenMigration, ...]  # every first sighting
    first_reads: Mapping[str, datetime | None] = field(default_factory=dict)  # env -> earliest good read
    first_checks: Mapping[str, datetime | None] = field(default_factory=dict)  # comparison -> earliest


@dataclass(frozen=True, slots=True)
class Now:
    """A comparison at the end of the period, from its last check."""

    in_sync: bool | None  # None: never checked, or the last check could not compare
    since: datetime | None  # drifting since (the open episode) / in sync since (the last resolution)
    checked_at: datetime | None
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    differences: Mapping[str, int] = field(default_factory=dict)  # kind -> count
    critical: tuple[tuple[str, str], ...] = ()  # (table, status) for tables not matching
    error: str | None = None
    waiting: Mapping[str, datetime] = field(default_factory=dict)  # missing id -> seen in reference


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    """One drift episode overlapping the period."""

    id: int
    opened_at: datetime
    resolved_at: datetime | None  # None: still open when the period ended
    duration: timedelta  # opened to resolved (or to the period's end)
    in_period: timedelta  # the part inside the period
    what: tuple[str, ...]  # what drifted when it opened, in words
    latest: tuple[str, ...] = ()  # what drifted at its last check, when that was different


@dataclass(frozen=True, slots=True)
class ComparisonFacts:
    """Everything the report says about one comparison."""

    reference: str
    target: str
    now: Now
    episodes: tuple[EpisodeFacts, ...]
    segments: tuple[Segment, ...]
    shares: Shares
    missing_series: tuple[tuple[datetime, int | None], ...]  # None: that check could not compare
    lags: tuple[Lag, ...]
    median_lag: timedelta | None
    checks: int
    failed_checks: int

    @property
    def name(self) -> str:
        return f"{self.reference}:{self.target}"


@dataclass(frozen=True, slots=True)
class EnvironmentFacts:
    """One environment: its size, its arrivals and how reachable it was."""

    name: str
    size_start: Mapping[str, int] | None
    size_end: Mapping[str, int] | None
    size_series: tuple[tuple[datetime, Mapping[str, int]], ...]
    arrived: int
    reads: int
    failed_reads: int
    outages: tuple[Outage, ...]
    unreachable: timedelta  # inside the period
    baseline_at: datetime | None  # when driftwatch first saw its migrations (if it did)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """The whole report; renderers are pure functions of this."""

    period: Period
    end: datetime  # where facts stop: the period's end, or the time of writing if sooner
    generated_at: datetime
    comparisons: tuple[ComparisonFacts, ...]
    environments: tuple[EnvironmentFacts, ...]
    arrivals: tuple[Arrival, ...]
    runs: int
    stale_after: timedelta
    journey: Journey | None = None  # first environment to last, when there are more than two


@dataclass(frozen=True, slots=True)
class Journey:
    """Promotion from the first environment to the last (UAT to Production), across the chain."""

    first: str
    last: str
    lags: tuple[Lag, ...]
    median: timedelta | None


def build(history: History, period: Period, now: datetime) -> ReportFacts:
    """The facts of `period` as the history tells them at `now`."""
    end = period.end(now)
    seen = promotion.sightings(history.seen, history.first_reads)
    in_period = [c for c in history.checks if period.since <= c.started_at < end]
    stale = timeline.stale_after([c.started_at for c in history.checks if c.started_at < end])
    scope = _Scope(period.since, end, stale, seen)
    comparisons = tuple(_comparison(history, ref, tgt, scope) for ref, tgt in history.comparisons)
    envs = tuple(_environment(history, env, period.since, end, seen) for env in history.environments)
    arrivals = promotion.arrivals(seen, history.environments, period.since, end)
    return ReportFacts(period, end, now, comparisons, envs, arrivals, len({c.run_id for c in in_period}),
                       stale, _journey(history.environments, scope))  # fmt: skip


def _journey(envs: Sequence[str], scope: _Scope) -> Journey | None:
    if len(envs) < 3:
        return None  # with two environments the one comparison already is the journey
    lags = promotion.lags(scope.seen, envs[0], envs[-1], scope.since, scope.end)
    return Journey(envs[0], envs[-1], lags, promotion.median_lag(lags))


@dataclass(frozen=True, slots=True)
class _Scope:
    """What every part of the build shares: the window, the verdict lifetime, the sightings."""

    since: datetime
    end: datetime
    stale: timedelta
    seen: Sightings


def _comparison(h: History, ref: str, tgt: str, scope: _Scope) -> ComparisonFacts:
    since, end, seen = scope.since, scope.end, scope.seen
    name = f"{ref}:{tgt}"
    rows = sorted((c for c in h.checks if c.comparison == name and c.started_at < end),
                  key=lambda c: (c.started_at, c.id))  # fmt: skip
    inside = [c for c in rows if c.started_at >= since]
    segments = timeline.timeline(rows, since, end, scope.stale)
    lags = promotion.lags(seen, ref, tgt, since, end)
    episodes = sorted((e for e in h.episodes if e.comparison == name), key=lambda e: (e.opened_at, e.id))
    return ComparisonFacts(
        ref, tgt, _now(rows, episodes, h.first_checks.get(name), scope, ref),
        tuple(_episode(e, since, end) for e in episodes
              if e.opened_at < end and (e.resolved_at is None or e.resolved_at > since)),
        segments, timeline.shares(segments), _missing_series(rows, scope), lags,
        promotion.median_lag(lags), len(inside), sum(c.in_sync is None for c in inside),
    )  # fmt: skip


def _missing_series(rows: Sequence[CheckRow], scope: _Scope) -> tuple[tuple[datetime, int | None], ...]:
    """(time, missing count) per check, None where no count is known: a check that could not
    compare, or a gap no check covered (as in the timeline). The check before the period is
    placed at its start."""
    out: list[tuple[datetime, int | None]] = []
    for i, row in enumerate(rows):
        count = None if row.in_sync is None else len(_migrations(row.report_document()).get("missing", ()))
        out.append((max(row.started_at, scope.since), count))
        nxt = rows[i + 1].started_at if i + 1 < len(rows) else scope.end
        if row.started_at + scope.stale < nxt:
            out.append((max(row.started_at + scope.stale, scope.since), None))
    return tuple(out)


def _migrations(report: Mapping[str, Any]) -> Mapping[str, Any]:
    return report.get("migrations") or {}


def _now(rows: Sequence[CheckRow], episodes: Sequence[Episode], first_check: datetime | None,
         scope: _Scope, ref: str) -> Now:  # fmt: skip
    end, seen = scope.end, scope.seen
    if not rows:
        return Now(None, None, None)
    last = rows[-1]
    report = last.report_document()
    decisive = [r for r in rows if r.in_sync is not None]
    verdict = decisive[-1].in_sync if decisive else None
    since = _since(verdict, episodes, first_check, end)
    if last.in_sync is None:
        error = redact_text(last.error_message or "the last check could not compare them")
        return Now(None, since, last.started_at, error=error)
    m = _migrations(report)
    missing = tuple(str(x) for x in m.get("missing", ()))
    differences: dict[str, int] = {}
    for d in (report.get("schema") or {}).get("differences", ()):
        differences[str(d.get("kind"))] = differences.get(str(d.get("kind")), 0) + 1
    critical = tuple((str(t.get("name")), str(t.get("status"))) for t in report.get("critical_tables", ())
                     if t.get("status") != "ok")  # fmt: skip
    return Now(last.in_sync, since, last.started_at, missing, tuple(str(x) for x in m.get("extra", ())),
               tuple(str(x) for x in m.get("failed", ())), differences, critical, None,
               promotion.waiting_since(seen, ref, missing))  # fmt: skip


def _since(verdict: bool | None, episodes: Sequence[Episode], first_check: datetime | None,
           end: datetime) -> datetime | None:  # fmt: skip
    """Drifting since the episode open at `end`; in sync since the last resolution, or monitoring began."""
    if verdict is False:
        open_ = [e for e in episodes if e.opened_at < end and (e.resolved_at is None or e.resolved_at > end)]
        return open_[-1].opened_at if open_ else None
    if verdict is True:
        resolved = [e.resolved_at for e in episodes if e.resolved_at is not None and e.resolved_at <= end]
        return max(resolved, default=first_check)
    return None


def _episode(e: Episode, since: datetime, end: datetime) -> EpisodeFacts:
    resolved = e.resolved_at if e.resolved_at is not None and e.resolved_at <= end else None
    stop = resolved or end
    first, last = describe(e.first_summary), describe(e.summary)
    return EpisodeFacts(e.id, e.opened_at, resolved, stop - e.opened_at, stop - max(e.opened_at, since),
                        first, last if last != first else ())  # fmt: skip


def describe(summary: Mapping[str, Any]) -> tuple[str, ...]:
    """A drift summary (driftwatch.summary) in short phrases: "4 migrations missing", ..."""
    words = {"missing": "missing in the target", "extra": "only in the target",
             "failed": "failed in the target"}  # fmt: skip
    out = [f"{_count(len(summary.get(k) or ()), 'migration')} {w}" for k, w in words.items()
           if summary.get(k)]  # fmt: skip
    absent = summary.get("history_table_missing") or ()
    out += [f"no migration history table in the {side}" for side in absent]
    kinds: dict[str, int] = {}
    for d in summary.get("differences") or ():
        kinds[str(d).split(" ", 1)[0]] = kinds.get(str(d).split(" ", 1)[0], 0) + 1
    if kinds:
        detail = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(kinds.items()))
        out.append(f"{_count(sum(kinds.values()), 'schema difference')} ({detail})")
    if summary.get("critical"):
        names = ", ".join(str(c).rsplit(" ", 1)[0] for c in summary["critical"][:3])
        out.append(f"critical tables not matching: {names}")
    return tuple(out)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _environment(h: History, env: str, since: datetime, end: datetime, seen: Sightings) -> EnvironmentFacts:
    reads = sorted((r for r in h.reads if r.env == env and r.at < end), key=lambda r: (r.at, r.id))
    inside = [r for r in reads if r.at >= since]
    sized = [(r.at, r.schema_counts) for r in reads if r.ok and r.schema_counts is not None]
    before = [counts for at, counts in sized if at <= since]
    start = before[-1] if before else next((c for at, c in sized if at >= since), None)
    found = timeline.outages(reads, since, end)
    return EnvironmentFacts(
        env, start, sized[-1][1] if sized else None,
        tuple((max(at, since), counts) for at, counts in sized), promotion.arrived_in(seen, env, since, end),
        len(inside), sum(not r.ok for r in inside), found,
        sum((o.within(since, end) for o in found), timedelta()), seen.baselines.get(env),
    )  # fmt: skip
