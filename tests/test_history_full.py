"""The state_dir fills up: the run that cannot record says so (log, counter), and nothing is lost.

The disk is really full: a small tmpfs is mounted for the state_dir and filled with a file, so
SQLite gets ENOSPC from the kernel and answers SQLITE_FULL. Mounting needs root, which CI (and
the machine this was written on) has; elsewhere SQLite's max_page_count stops the file from
growing, which fails the same way (SQLITE_FULL) at the same writes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import logs
from driftwatch.config import load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.metrics import registry
from driftwatch.model import Drift
from driftwatch.store import Store
from tests.support.configs import write_config
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
TMPFS_SIZE = "8m"


class StateDisk:
    """The state_dir's disk: `fill()` leaves no byte free, `free()` gives the space back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mounted = os.geteuid() == 0
        self.store: Store | None = None  # the fallback limits this store's file instead
        path.mkdir()
        if self.mounted:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs",
                            str(path)], check=True)  # fmt: skip

    def fill(self) -> None:
        if not self.mounted:
            assert self.store is not None
            with self.store.transaction() as conn:  # the file may grow no further than it is
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                conn.execute(f"PRAGMA max_page_count = {pages}")
            return
        with (self.path / "filler").open("wb", buffering=0) as f:
            for size in (1 << 20, 4096, 1):  # down to the last byte
                with contextlib.suppress(OSError):
                    while f.write(b"\0" * size):
                        pass
        with pytest.raises(OSError, match="No space left on device") as e:
            (self.path / "probe").write_bytes(b"x" * 4096)
        assert e.value.errno == errno.ENOSPC

    def free(self) -> None:
        if not self.mounted:
            assert self.store is not None
            with self.store.transaction() as conn:
                conn.execute("PRAGMA max_page_count = 1073741823")
            return
        (self.path / "filler").unlink()
        (self.path / "probe").unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=True)


@pytest.fixture
def state_disk(tmp_path: Path) -> Iterator[StateDisk]:
    disk = StateDisk(tmp_path / "state")
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    buf = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure("json", "info", buf)
    try:
        yield lambda: [json.loads(line) for line in buf.getvalue().splitlines()]
    finally:
        root.handlers[:], root.level = handlers, level


def scrape(daemon: Daemon) -> dict[str, float]:
    text = generate_latest(registry(daemon.state)).decode()
    return {s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}": s.value
            for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip


IN_SYNC = "driftwatch_in_sync{reference=uat,target=staging}"
LAST_SUCCESS = "driftwatch_last_success_timestamp_seconds{reference=uat,target=staging}"
ERRORS = "driftwatch_history_write_errors_total{}"


def test_a_full_state_dir_is_counted_logged_and_the_next_run_records_everything(
    pg18: PgServer, state_disk: StateDisk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    json_log: Callable[[], list[dict[str, Any]]],
) -> None:
    """In sync, then Staging drifts while the state_dir is full: that run is unrecorded, counted and
    logged with the fix, last_success stays; with space back the next run records the drift."""
    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    dbs = {env: pg18.create_database(env) for env in ("uat", "staging")}
    for db in dbs.values():
        pg18.execute(db, scenario.database_sql("uat"))
    sections = f'[state]\nstate_dir = "{state_disk.path}"\n'
    config = load(write_config(tmp_path, {n: pg18.dsn(db) for n, db in dbs.items()}, sections,
                               env_extra="connect_timeout = 2", critical="[]"))  # fmt: skip
    clock = [T0]
    with Store.open(config.state.state_dir) as store:
        state_disk.store = store
        daemon = Daemon(config, store, lambda: clock[0])
        daemon.run("check")
        m = scrape(daemon)
        assert (m[IN_SYNC], m[LAST_SUCCESS], m[ERRORS]) == (1, T0.timestamp(), 0)

        pg18.execute(dbs["staging"], "ALTER TABLE users ADD COLUMN nickname text")
        state_disk.fill()
        clock[0] += timedelta(hours=1)
        assert daemon.run("check") == []  # it ended, unrecorded, instead of raising out of the job
        m = scrape(daemon)
        assert m[ERRORS] == 1
        assert m[LAST_SUCCESS] == T0.timestamp()  # not advancing: DriftwatchChecksStale will see it
        assert m[IN_SYNC] == 1  # still the last recorded verdict; nothing newer was published
        (failed,) = [e for e in json_log() if e["event"] == "history.write_failed"]
        assert failed["level"] == "error"
        assert f"{state_disk.path} is full (database or disk is full); free space in " \
            f"{state_disk.path}." in str(failed["message"])
        events = [e["event"] for e in json_log()]
        second = len(events) - 1 - events[::-1].index("run.started")
        assert events[second:] == ["run.started", "history.write_failed"]  # one line, no traceback
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert latest.started_at == T0  # nothing of the failed run reached the file

        state_disk.free()
        clock[0] += timedelta(hours=1)
        (outcome,) = daemon.run("check")
        assert isinstance(outcome, Drift)
        assert not outcome.in_sync
        m = scrape(daemon)
        assert (m[IN_SYNC], m[LAST_SUCCESS], m[ERRORS]) == (0, clock[0].timestamp(), 1)
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert (latest.started_at, latest.in_sync) == (clock[0], False)
        assert store.open_episode("uat:staging") is not None
        # The new schema's document is stored: the read the full disk lost was done again in full,
        # not taken from memory by the fingerprint path.
        assert latest.full
        assert latest.target_fingerprint is not None
        assert store.snapshot("staging", latest.target_fingerprint) is not None
