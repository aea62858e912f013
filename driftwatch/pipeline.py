"""The flow, top to bottom: config -> connect -> snapshot -> diff -> outcome for each comparison."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg

from driftwatch import catalog, diff
from driftwatch.config import Comparison, Config, Environment
from driftwatch.connect import CheckError, connect
from driftwatch.migrations import list_files, read_history
from driftwatch.model import CheckFailure, Outcome, Snapshot
from driftwatch.secrets import address

Clock = Callable[[], datetime]
Snapshotter = Callable[[Environment], Snapshot]
Connection = psycopg.Connection[Any]


def utc_now() -> datetime:
    """The real clock; everything below takes a clock parameter instead of calling this."""
    return datetime.now(UTC)


def take_snapshot(env: Environment, config: Config, clock: Clock = utc_now) -> Snapshot:
    """Connect read-only to `env` and read its schema and migration history."""
    with connect(env) as conn:
        return read_snapshot(conn, env, config, clock)


def read_snapshot(conn: Connection, env: Environment, config: Config, clock: Clock) -> Snapshot:
    """Read `env`'s schema and migration history on an open read-only connection."""
    options = config.schema.catalog_options()
    version, database = catalog.server_facts(conn)
    objects = catalog.read_schema(conn, options)
    annotations = catalog.read_annotations(conn, options)
    history = read_history(conn, config.migrations)
    return Snapshot(env.name, database, version, clock(), objects, history, address(env.dsn),
                    annotations)  # fmt: skip


def check(config: Config, comparison: Comparison, snapshotter: Snapshotter) -> Outcome:
    """Snapshot both sides concurrently and compare them; a failure becomes a CheckFailure."""
    envs = config.environments
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="snapshot") as pool:
        futures = [pool.submit(snapshotter, envs[name])
                   for name in (comparison.reference, comparison.target)]  # fmt: skip
        errors = [e for e in (f.exception() for f in futures) if e is not None]
    if errors:
        failures = [e for e in errors if isinstance(e, CheckError)]
        if len(failures) < len(errors):
            raise next(e for e in errors if not isinstance(e, CheckError))
        # Both sides can fail at once (both proxies down): say both, not just the first.
        return CheckFailure(comparison.reference, comparison.target, failures[0].reason,
                            " ".join(e.message for e in failures))  # fmt: skip
    reference, target = (f.result() for f in futures)
    try:
        files = list_files(config.migrations)
    except OSError as e:
        return CheckFailure(comparison.reference, comparison.target, "migrations_directory",
                            f"migration directory cannot be read: {e}")  # fmt: skip
    return diff.compare(reference, target, comparison.critical_tables, config.schema.ignore, files)


def check_all(
    config: Config,
    comparisons: tuple[Comparison, ...],
    clock: Clock = utc_now,
    overrides: Mapping[str, Snapshot] | None = None,
) -> list[Outcome]:
    """Check each comparison; an environment shared by two comparisons is read once.

    `overrides` maps an environment name to a snapshot (read from a file) used instead of
    connecting to it; the report names that side as the config does.
    """
    cache: dict[str, Snapshot | CheckError] = {
        name: dataclasses.replace(s, environment=name) for name, s in (overrides or {}).items()
    }

    def snapshot(env: Environment) -> Snapshot:
        # Reading Staging once for both UAT→Staging and Staging→Production means both
        # comparisons see the same moment of it, and a dead proxy costs one timeout, not two.
        if env.name not in cache:
            try:
                cache[env.name] = take_snapshot(env, config, clock)
            except CheckError as e:
                cache[env.name] = e
        result = cache[env.name]
        if isinstance(result, CheckError):
            raise result
        return result

    return [check(config, c, snapshot) for c in comparisons]
