"""Migrations as they reached each environment, and their promotion lag, from first sightings (pure).

Sequelize records no timestamps, so driftwatch's first sighting of a migration in an environment
is the record of when it got there. The first read of an environment sees everything already
applied at once: that batch is the baseline ("before monitoring"), not a week's arrivals.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from driftwatch.store_rows import SeenMigration


@dataclass(frozen=True, slots=True)
class Sighting:
    """When driftwatch first saw one migration in one environment."""

    at: datetime
    baseline: bool  # it was already there when driftwatch first read the environment


@dataclass(frozen=True, slots=True)
class Arrival:
    """One migration that reached at least one environment during the period."""

    migration_id: str
    seen: Mapping[str, Sighting]  # env -> first sighting (absent: not there when the period ended)


@dataclass(frozen=True, slots=True)
class Lag:
    """How long a migration took from a comparison's reference to its target."""

    migration_id: str
    lag: timedelta  # negative: the target had it first (a hotfix, or applied out of order)
    at_least: bool  # the reference's sighting is the baseline: the true lag is longer


@dataclass(frozen=True, slots=True)
class Sightings:
    """All first sightings, by environment, with each environment's baseline moment."""

    by_env: Mapping[str, Mapping[str, Sighting]]  # env -> migration id -> sighting
    baselines: Mapping[str, datetime]  # env -> when driftwatch first saw its migrations


def sightings(rows: Iterable[SeenMigration], first_reads: Mapping[str, datetime | None]) -> Sightings:
    """Group the migrations_seen rows; `first_reads` is each env's earliest good read, if still kept.

    The earliest sighting is a baseline unless an older good read of the environment shows that
    driftwatch was watching before it (then the table was empty and this was a real arrival).
    """
    grouped: dict[str, list[SeenMigration]] = {}
    for row in rows:
        grouped.setdefault(row.env, []).append(row)
    by_env, baselines = {}, {}
    for env, seen in grouped.items():
        first = min(r.first_seen_at for r in seen)
        read = first_reads.get(env)
        is_base = read is None or read >= first
        if is_base:
            baselines[env] = first
        by_env[env] = {r.migration_id: Sighting(r.first_seen_at, is_base and r.first_seen_at == first)
                       for r in seen}  # fmt: skip
    return Sightings(by_env, baselines)


def _arrived(s: Sighting, since: datetime, end: datetime) -> bool:
    return not s.baseline and since <= s.at < end


def arrivals(all_seen: Sightings, envs: Sequence[str], since: datetime, end: datetime) -> tuple[Arrival, ...]:
    """Migrations that arrived in any of `envs` in [since, end), ordered by their first arrival."""
    ids = {mid for env in envs for mid, s in all_seen.by_env.get(env, {}).items() if _arrived(s, since, end)}
    out = []
    for mid in ids:
        seen = {env: s for env in envs if (s := all_seen.by_env.get(env, {}).get(mid)) and s.at < end}
        out.append(Arrival(mid, seen))
    return tuple(sorted(out, key=lambda a: (min(s.at for s in a.seen.values()), a.migration_id)))


def arrived_in(all_seen: Sightings, env: str, since: datetime, end: datetime) -> int:
    return sum(_arrived(s, since, end) for s in all_seen.by_env.get(env, {}).values())


def lags(all_seen: Sightings, reference: str, target: str, since: datetime, end: datetime) -> tuple[Lag, ...]:
    """One lag per migration that arrived in `target` during the period and is known in `reference`."""
    ref, out = all_seen.by_env.get(reference, {}), []
    for mid, s in all_seen.by_env.get(target, {}).items():
        if _arrived(s, since, end) and mid in ref and ref[mid].at < end:
            out.append(Lag(mid, s.at - ref[mid].at, ref[mid].baseline))
    arrived = all_seen.by_env.get(target, {})
    return tuple(sorted(out, key=lambda lag: (arrived[lag.migration_id].at, lag.migration_id)))


def median_lag(found: Sequence[Lag]) -> timedelta | None:
    """The median of exact forward lags; lower bounds and target-first ones are left out."""
    exact = [lag.lag.total_seconds() for lag in found if not lag.at_least and lag.lag >= timedelta()]
    return timedelta(seconds=statistics.median(exact)) if exact else None


def waiting_since(all_seen: Sightings, env: str, ids: Sequence[str]) -> Mapping[str, datetime]:
    """When each of `ids` was first seen in `env` (how long a missing migration has waited)."""
    seen = all_seen.by_env.get(env, {})
    return {mid: seen[mid].at for mid in ids if mid in seen}
