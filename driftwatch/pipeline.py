"""The flow, top to bottom: config -> connect -> snapshot -> diff -> outcome for each comparison."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from driftwatch import catalog, diff
from driftwatch.config import Comparison, Config, Environment
from driftwatch.connect import CheckError, connect
from driftwatch.migrations import list_files, read_history
from driftwatch.model import CheckFailure, Outcome, Snapshot
from driftwatch.secrets import address

Clock = Callable[[], datetime]
Snapshotter = Callable[[Environment], Snapshot]


def utc_now() -> datetime:
    """The real clock; everything below takes a clock parameter instead of calling this."""
    return datetime.now(UTC)


def take_snapshot(env: Environment, config: Config, clock: Clock = utc_now) -> Snapshot:
    """Connect read-only to `env` and read its schema and migration history."""
    with connect(env) as conn:
        version, database = catalog.server_facts(conn)
        objects = catalog.read_schema(conn, config.schema.include_schemas,
                                      config.schema.exclude_schemas)  # fmt: skip
        history = read_history(conn, config.migrations)
    return Snapshot(env.name, database, version, clock(), objects, history, address(env.dsn))


def check(config: Config, comparison: Comparison, snapshotter: Snapshotter) -> Outcome:
    """Snapshot both sides concurrently and compare them; a failure becomes a CheckFailure."""
    envs = config.environments
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="snapshot") as pool:
        ref_future = pool.submit(snapshotter, envs[comparison.reference])
        tgt_future = pool.submit(snapshotter, envs[comparison.target])
        try:
            reference, target = ref_future.result(), tgt_future.result()
        except CheckError as e:
            return CheckFailure(comparison.reference, comparison.target, e.reason, e.message)
    try:
        files = list_files(config.migrations)
    except OSError as e:
        return CheckFailure(comparison.reference, comparison.target, "migrations_directory",
                            f"migration directory cannot be read: {e}")  # fmt: skip
    return diff.compare(reference, target, comparison.critical_tables, config.schema.ignore, files)


def check_all(
    config: Config, comparisons: tuple[Comparison, ...], clock: Clock = utc_now
) -> list[Outcome]:
    """Check each comparison; an environment shared by two comparisons is snapshotted once."""
    cache: dict[str, Snapshot] = {}

    def snapshot(env: Environment) -> Snapshot:
        # Reading UAT once for both UAT→Staging and Staging→Production also means both
        # comparisons see the same moment of it.
        if env.name not in cache:
            cache[env.name] = take_snapshot(env, config, clock)
        return cache[env.name]

    return [check(config, c, snapshot) for c in comparisons]
