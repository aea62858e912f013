"""The report's I/O edge: read the rows a period needs from the history, write the files."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from driftwatch.config import Config
from driftwatch.pipeline import Clock, utc_now
from driftwatch.report import facts as report_facts
from driftwatch.report import html, markdown
from driftwatch.report.facts import History, ReportFacts
from driftwatch.report.period import Period
from driftwatch.store import Store
from driftwatch.store_rows import CheckRow, EnvironmentCheck, Episode

# Each comparison's checks of the period, and the last one before it (its verdict covers the start).
_CHECKS = """SELECT * FROM checks WHERE comparison = :c AND started_at < :until AND started_at >=
    coalesce((SELECT max(started_at) FROM checks WHERE comparison = :c AND started_at < :since), :since)
    ORDER BY started_at, id"""
# Each environment's reads of the period, from its last good read before it: an outage already
# going on when the period starts is then dated from its first failure.
_READS = """SELECT * FROM environment_checks WHERE env = :env AND at < :until AND at >= coalesce(
    (SELECT max(at) FROM environment_checks WHERE env = :env AND ok = 1 AND at < :since),
    (SELECT min(at) FROM environment_checks WHERE env = :env), :since) ORDER BY at, id"""
# The episodes the period overlaps, and the last one resolved before it ("in sync since").
_EPISODES = """SELECT * FROM episodes WHERE comparison = :c AND opened_at < :until
    AND (resolved_at IS NULL OR resolved_at > :since OR id = (SELECT id FROM episodes
         WHERE comparison = :c AND resolved_at <= :since ORDER BY resolved_at DESC LIMIT 1))
    ORDER BY opened_at, id"""

_FIRST_READ = "SELECT min(at) AS at FROM environment_checks WHERE env = :k AND ok = 1"
_FIRST_CHECK = "SELECT min(started_at) AS at FROM checks WHERE comparison = :k"


@dataclass(frozen=True, slots=True)
class _Time:
    """A single timestamp column (first good read, first check)."""

    at: datetime | None


def environments(config: Config) -> tuple[str, ...]:
    """The compared environments in promotion order: each reference before its targets."""
    order: list[str] = []
    for c in config.comparisons:
        for name in (c.reference, c.target):
            if name not in order:
                order.append(name)
    return tuple(order)


def read(store: Store, config: Config, period: Period, now: datetime) -> History:
    """Everything the facts of `period` need, read in a handful of indexed queries."""
    window = {"since": period.since.timestamp(), "until": period.end(now).timestamp()}
    pairs = tuple((c.reference, c.target) for c in config.comparisons)
    envs = environments(config)
    checks = [row for c in config.comparisons for row in store.rows(CheckRow, _CHECKS, c=c.name, **window)]
    episodes = [e for c in config.comparisons for e in store.rows(Episode, _EPISODES, c=c.name, **window)]
    reads = [r for env in envs for r in store.rows(EnvironmentCheck, _READS, env=env, **window)]
    first_reads = {env: _first(store, _FIRST_READ, env) for env in envs}
    first_checks = {c.name: _first(store, _FIRST_CHECK, c.name) for c in config.comparisons}
    seen = [s for env in envs for s in store.migrations_seen(env)]
    return History(pairs, envs, tuple(checks), tuple(episodes), tuple(reads), tuple(seen),
                   first_reads, first_checks)  # fmt: skip


def _first(store: Store, sql: str, key: str) -> datetime | None:
    row = store.first(_Time, sql, k=key)
    return row.at if row else None


def build(store: Store, config: Config, period: Period, now: datetime) -> ReportFacts:
    return report_facts.build(read(store, config, period, now), period, now)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename: a reader (the HTTP port) never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """The two files one report was written to, and the facts they show."""

    markdown: Path
    html: Path
    facts: ReportFacts


def write(facts: ReportFacts, directory: Path) -> ReportFiles:
    """Both formats into `directory`, named after the period: driftwatch-2025-W49.md / .html."""
    stem = f"driftwatch-{facts.period.slug}"
    md, page = directory / f"{stem}.md", directory / f"{stem}.html"
    write_atomic(md, markdown.render(facts))
    write_atomic(page, html.render(facts))
    return ReportFiles(md, page, facts)


def make_weekly_report(history: Store | Path, config: Config, period: Period, directory: Path,
                       clock: Clock = utc_now) -> ReportFiles:  # fmt: skip
    """The public entry point: the report of `period` as the history tells it at `clock()`, in
    both formats, written to `directory` as driftwatch-<period>.md and .html.

    `history` is an open Store, or a state_dir whose history.db is opened (and closed) here.
    Reads the history and writes the two files; nothing else (no Slack, no network).
    """
    if isinstance(history, Store):
        return write(build(history, config, period, clock()), directory)
    with Store.open(history) as store:
        return write(build(store, config, period, clock()), directory)
