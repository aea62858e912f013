"""The history store: episodes, snapshots, first-seen migrations, pruning, damaged files, crashes, threads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from driftwatch import store_file
from driftwatch.model import CheckFailure
from driftwatch.outbox import Outbox
from driftwatch.render import json as render_json
from driftwatch.store import CheckRow, EpisodeChange, Store, StoreError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EVER = (T0 - timedelta(days=3650), T0 + timedelta(days=3650))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def record(store: Store, minute: float, in_sync: bool | None, summary: dict[str, Any] | None = None,
           comparison: str = "uat:staging", **extra: Any) -> EpisodeChange:  # fmt: skip
    """Record a check of `comparison` that started `minute` minutes after T0."""
    reference, target = comparison.split(":")
    return store.record_check(
        run_id=f"run-{minute}", job="check", comparison=comparison, reference=reference, target=target,
        started_at=minutes(minute), finished_at=minutes(minute) + timedelta(seconds=3),
        report={"format": "driftwatch.report/v1", "in_sync": in_sync}, in_sync=in_sync, full=True,
        drift_summary=summary, **extra)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "state") as opened:
        yield opened


Timeline = list[tuple[datetime, datetime, datetime | None, tuple[int, ...]]]


def replay(checks: Sequence[CheckRow]) -> Timeline:
    """The episodes the checks should have produced, with the checks that touched each, worked out afresh."""
    episodes: list[list[Any]] = []
    current: list[Any] | None = None
    for check in (c for c in checks if c.in_sync is not None):
        if not check.in_sync and current is None:
            current = [check.started_at, check.started_at, None, []]
            episodes.append(current)
        if current is not None:
            current[1 if not check.in_sync else 2] = check.started_at
            current[3].append(check.id)
        if check.in_sync:
            current = None
    return [(e[0], e[1], e[2], tuple(e[3])) for e in episodes]


def stored_episodes(store: Store, comparison: str) -> Timeline:
    checks = store.checks(*EVER, comparison=comparison)
    return [(e.opened_at, e.last_seen_at, e.resolved_at, tuple(c.id for c in checks if c.episode_id == e.id))
            for e in store.episodes(*EVER, comparison)]  # fmt: skip


def test_episode_life_cycle(store: Store) -> None:
    """An episode opens, changes, stays, resolves, and the next drift opens a new one."""
    assert record(store, 0, True).kind == "none"
    opened = record(store, 10, False, {"missing": ["m1"]})
    assert opened.kind == "opened"
    assert opened.episode is not None
    assert opened.episode.opened_at == minutes(10)
    assert opened.episode.resolved_at is None
    changed = record(store, 20, False, {"missing": ["m1", "m2"]})
    assert (changed.kind, changed.previous_summary) == ("changed", {"missing": ["m1"]})
    assert changed.episode is not None
    assert changed.episode.id == opened.episode.id
    unchanged = record(store, 30, False, {"missing": ["m1", "m2"]})
    assert unchanged.kind == "unchanged"
    assert unchanged.previous_summary is None
    resolved = record(store, 40, True)
    assert resolved.kind == "resolved"
    assert resolved.episode is not None
    assert (resolved.episode.opened_at, resolved.episode.last_seen_at, resolved.episode.resolved_at) == (
        minutes(10), minutes(30), minutes(40))  # fmt: skip
    assert resolved.episode.first_summary == {"missing": ["m1"]}
    assert resolved.episode.summary == {"missing": ["m1", "m2"]}
    assert store.open_episode("uat:staging") is None
    again = record(store, 50, False, {"extra": ["x"]})
    assert again.kind == "opened"
    assert again.episode is not None
    assert again.episode.id != opened.episode.id
    assert [e.id for e in store.episodes(*EVER)] == [opened.episode.id, again.episode.id]
    assert [c.episode_id for c in store.checks(*EVER)] == [None, *[opened.episode.id] * 4, again.episode.id]


def test_unreachable_check_leaves_episode_alone(store: Store) -> None:
    """A check that could not compare neither resolves nor extends the open episode."""
    record(store, 0, False, {"missing": ["m1"]})
    failure = render_json.outcome(CheckFailure("uat", "staging", "refused", "uat refused the connection."))
    change = store.record_check(
        run_id="r", job="check", comparison="uat:staging", reference="uat", target="staging",
        started_at=minutes(10), finished_at=minutes(10), report=failure, in_sync=None,
        error_reason="refused", error_message="uat refused the connection.", full=False)  # fmt: skip
    assert change == EpisodeChange("none")
    episode = store.open_episode("uat:staging")
    assert episode is not None
    assert episode.last_seen_at == minutes(0)
    latest = store.latest_check("uat:staging")
    assert latest is not None
    assert latest.in_sync is None
    assert latest.report_document() == failure
    assert store.last_success("uat:staging") == minutes(0)


def test_stale_check_changes_no_episode(store: Store) -> None:
    """A check that started before one already recorded (overlapping jobs) cannot reopen or resolve."""
    record(store, 10, True)
    assert record(store, 5, False, {"missing": ["m1"]}).kind == "none"
    assert store.open_episode("uat:staging") is None
    record(store, 20, False, {"missing": ["m1"]})
    assert record(store, 15, True).kind == "none"
    assert store.open_episode("uat:staging") is not None


def test_restart_keeps_the_open_episode(tmp_path: Path) -> None:
    """A new Store on the same directory continues the episode with its original start."""
    with Store.open(tmp_path) as first:
        record(first, 0, False, {"missing": ["m1"]})
    with Store.open(tmp_path) as second:
        episode = second.open_episode("uat:staging")
        assert episode is not None
        assert episode.opened_at == minutes(0)
        assert record(second, 10, False, {"missing": ["m1"]}).kind == "unchanged"
        resolved = record(second, 20, True)
    assert resolved.episode is not None
    assert resolved.episode.opened_at == minutes(0)


def test_snapshots_are_stored_only_when_the_fingerprint_is_new(store: Store) -> None:
    """A known fingerprint is only touched; going back to an old schema makes it the latest again."""
    assert store.save_snapshot("uat", "sha256:a", minutes(0), "srv1", '{"tables": ["ü"]}')
    assert not store.save_snapshot("uat", "sha256:a", minutes(10), "srv2", '{"tables": ["ignored"]}')
    assert store.save_snapshot("uat", "sha256:b", minutes(20), "srv3", b'{"tables": []}')
    latest = store.latest_snapshot("uat")
    assert latest is not None
    assert (latest.fingerprint, latest.document) == ("sha256:b", '{"tables": []}')
    assert not store.save_snapshot("uat", "sha256:a", minutes(30), "srv4", "{}")
    back = store.latest_snapshot("uat")
    assert back is not None
    assert back.fingerprint == "sha256:a"
    assert back.document == '{"tables": ["ü"]}'
    assert (back.taken_at, back.confirmed_at, back.server_fingerprint) == (minutes(0), minutes(30), "srv4")
    assert store.touch_snapshot("uat", "sha256:b", "srv5", minutes(40))
    assert not store.touch_snapshot("uat", "sha256:never", "srv5", minutes(40))
    touched = store.latest_snapshot("uat")
    assert touched is not None
    assert (touched.fingerprint, touched.server_fingerprint) == ("sha256:b", "srv5")
    assert store.latest_snapshot("staging") is None


def test_migrations_seen_keep_their_first_time(store: Store) -> None:
    """The first sighting is kept even when a migration disappears and comes back."""
    assert store.record_migrations_seen("prod", ["m1", "m2", "m1"], minutes(0)) == ("m1", "m2")
    assert store.record_migrations_seen("prod", ["m2", "m3"], minutes(10)) == ("m3",)
    assert store.record_migrations_seen("prod", ["m3"], minutes(20)) == ()
    assert store.record_migrations_seen("prod", ["m1", "m2", "m3"], minutes(30)) == ()
    assert store.record_migrations_seen("uat", ["m1"], minutes(40)) == ("m1",)
    seen = [(s.env, s.migration_id, s.first_seen_at) for s in store.migrations_seen()]
    assert seen == [("prod", "m1", minutes(0)), ("prod", "m2", minutes(0)), ("prod", "m3", minutes(10)),
                    ("uat", "m1", minutes(40))]  # fmt: skip
    # A thread that read earlier but wrote later still moves the time back to its sighting.
    store.record_migrations_seen("uat", ["m1"], minutes(35))
    assert [s.first_seen_at for s in store.migrations_seen("uat")] == [minutes(35)]


def test_consecutive_failures_count_since_the_last_success(store: Store) -> None:
    """Failures are counted from the last successful read of the environment."""
    assert store.consecutive_failures("prod") == 0
    for minute, ok in [(0, False), (1, False), (2, True), (3, False), (4, False), (5, False)]:
        store.record_environment(f"run-{minute}", "prod", minutes(minute), ok, 0.25,
                                 reason=None if ok else "refused", schema_counts={"tables": 3})  # fmt: skip
    store.record_environment("run-9", "uat", minutes(9), False, 0.1, reason="auth")
    assert store.consecutive_failures("prod") == 3
    assert store.consecutive_failures("uat") == 1
    latest = store.latest_environment("prod")
    assert latest is not None
    assert (latest.at, latest.ok, latest.reason) == (minutes(5), False, "refused")
    assert latest.schema_counts == {"tables": 3}
    store.record_environment("run-6", "prod", minutes(6), True, 0.3)
    assert store.consecutive_failures("prod") == 0
    assert [e.env for e in store.environment_checks(minutes(5), minutes(9))] == ["prod", "prod"]
    assert len(store.environment_checks(*EVER, env="uat")) == 1


def test_a_document_in_pieces_is_stored_as_its_whole_text(store: Store) -> None:
    """snapshot_file.chunks feeds the compressor piece by piece; the stored text is the same."""
    pieces = ['{"tables": [', ", ".join(['"ü"'] * 40000), ', "x"]}\n']
    assert store.save_snapshot("uat", "sha256:c", minutes(0), None, iter(pieces))
    stored = store.snapshot("uat", "sha256:c")
    assert stored is not None
    assert stored.document == "".join(pieces)


def test_prune_keeps_open_episodes_and_latest_snapshots(store: Store) -> None:
    """Old rows go; the open episode, first sightings and each environment's latest snapshot stay."""
    store.save_snapshot("uat", "sha256:old", minutes(0), None, "old")
    store.save_snapshot("uat", "sha256:kept", minutes(1), None, "kept by a check")
    store.save_snapshot("uat", "sha256:new", minutes(2), None, "new")
    store.save_snapshot("prod", "sha256:quiet", minutes(0), None, "prod's only snapshot")
    store.record_migrations_seen("uat", ["m1"], minutes(0))
    record(store, 0, False, {"n": 1}, comparison="staging:prod")  # stays open for ages
    record(store, 0, False, {"n": 1})
    record(store, 1, True)  # resolves an old episode
    store.record_environment("r", "uat", minutes(0), True, 1.0)
    record(store, 2000, True, reference_fingerprint="sha256:kept")
    deleted = store.prune(minutes(2000), timedelta(days=1))
    # checks at 0 (two) and 1, the environment check, the resolved episode, the snapshot "old"
    assert deleted == 6
    assert [c.started_at for c in store.checks(*EVER)] == [minutes(2000)]
    assert [e.comparison for e in store.episodes(*EVER)] == ["staging:prod"]
    snapshots = {(s.env, s.fingerprint) for e in ("uat", "prod") for s in [store.latest_snapshot(e)] if s}
    assert snapshots == {("uat", "sha256:new"), ("prod", "sha256:quiet")}
    assert store.snapshot("uat", "sha256:kept") is not None
    assert store.snapshot("uat", "sha256:old") is None
    assert len(store.migrations_seen()) == 1
    assert store.prune(minutes(2000), timedelta(days=1)) == 0


def test_prune_drops_alerts_nothing_reads_and_a_reused_episode_id_alerts_again(store: Store) -> None:
    """Sent alerts go once no decision reads them; unsent ones and the newest per subject stay."""
    outbox = Outbox(store)

    def alert(key: str, subject: str | None, minute: float, sent: bool = True) -> None:
        assert outbox.enqueue(key, comparison=subject, kind=key.split(":")[-2], severity="info",
                              at=minutes(minute), payload={"text": key})  # fmt: skip
        if sent:
            (row,) = [a for a in outbox.all() if a.dedupe_key == key]
            outbox.mark_sent(row.id, minutes(minute))

    opened = record(store, 0, False, {"n": 1}).episode
    assert opened is not None
    record(store, 1, True)  # resolves it: the newest episode, so SQLite may reuse its id
    alert(f"episode:{opened.id}:opened:x", "uat:staging", 0)
    alert(f"episode:{opened.id}:resolved:x", "uat:staging", 1)
    alert("env:prod:unreachable:t0", "env:prod", 0)
    alert("env:prod:reachable:3", "env:prod", 1)  # the newest about prod: "back" reads it
    alert("report:2026-W01:weekly:x", None, 0)
    alert("report:2026-W02:weekly:x", None, 1)
    alert("env:qa:unreachable:t0", "env:qa", 0, sent=False)  # Slack never took it
    store.prune(minutes(3000), timedelta(days=1))
    assert sorted(a.dedupe_key for a in outbox.all()) == [
        "env:prod:reachable:3", "env:qa:unreachable:t0", "report:2026-W02:weekly:x"]
    # The next drift may get the pruned episode's id; its first alert must still be news.
    again = record(store, 3001, False, {"n": 2}).episode
    assert again is not None
    assert outbox.enqueue(f"episode:{again.id}:opened:x", comparison="uat:staging", kind="opened",
                          severity="info", at=minutes(3001), payload={})  # fmt: skip


def test_reads_by_period_and_latest(store: Store) -> None:
    """Checks and episodes are read by period; latest_checks gives one per comparison."""
    record(store, 0, False, {"n": 1})
    record(store, 10, True)
    record(store, 5, False, {"n": 2}, comparison="staging:prod")
    assert [c.started_at for c in store.checks(minutes(0), minutes(10))] == [minutes(0), minutes(5)]
    assert [c.started_at for c in store.checks(*EVER, comparison="uat:staging")] == [minutes(0), minutes(10)]
    latest = store.latest_checks()
    assert {k: v.started_at for k, v in latest.items()} == {"uat:staging": minutes(10),
                                                            "staging:prod": minutes(5)}  # fmt: skip
    assert [e.comparison for e in store.episodes(minutes(10), minutes(20))] == ["staging:prod"]
    assert [e.comparison for e in store.episodes(minutes(9), minutes(20))] == ["uat:staging", "staging:prod"]
    assert store.episodes(minutes(-10), minutes(0)) == []
    assert store.last_success("nowhere") is None
    assert store.latest_check("nowhere") is None


def test_times_round_trip_exactly_in_any_zone(store: Store) -> None:
    """Microseconds and offsets survive; naive datetimes are refused, since their moment is unknown."""
    at = datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    store.record_environment("r", "uat", at, True, 0.1)
    found = store.latest_environment("uat")
    assert found is not None
    assert found.at == at
    assert found.at.tzinfo is UTC
    with pytest.raises(ValueError, match="naive datetime"):
        store.record_environment("r", "uat", datetime(2026, 3, 1), True, 0.1)


def test_garbage_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """A file that is not SQLite is reported by name and left exactly as it was."""
    path = tmp_path / "history.db"
    path.write_bytes(b"not a database at all\n" * 200)
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    assert str(caught.value) == (f"{path} is not a driftwatch history database (file is not a database); "
                                 "move it aside or point state_dir elsewhere")  # fmt: skip
    assert path.read_bytes() == b"not a database at all\n" * 200


def test_truncated_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """A database cut short is reported as damaged, never silently recreated."""
    with Store.open(tmp_path) as store:
        for i in range(20):
            store.save_snapshot("uat", f"sha256:{i}", minutes(i), None, os.urandom(20000).hex())
    path = tmp_path / "history.db"
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    damaged = path.read_bytes()
    with pytest.raises(StoreError, match=f"^{path} is damaged .*; restore it from a backup"):
        Store.open(tmp_path)
    assert path.read_bytes() == damaged


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    """Another program's SQLite file in state_dir is refused, not written to."""
    with sqlite3.connect(tmp_path / "history.db") as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(StoreError, match=r"is not a driftwatch history database \(it holds other data\)"):
        Store.open(tmp_path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database a newer driftwatch migrated is refused with both versions named."""
    Store.open(tmp_path).close()
    with sqlite3.connect(tmp_path / "history.db") as conn:
        conn.execute("UPDATE meta SET value = '70' WHERE key = 'schema_version'")
    conn.close()
    known = len(store_file._migrations())
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    assert str(caught.value) == (f"{tmp_path / 'history.db'} was written by a newer driftwatch "
                                 f"(schema 70, this one knows {known}); upgrade driftwatch or point "
                                 "state_dir elsewhere")  # fmt: skip


def test_state_dir_that_cannot_be_created(tmp_path: Path) -> None:
    """A state_dir that cannot be created is an error naming it."""
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=f"^cannot create state_dir {tmp_path}/file/state: "):
        Store.open(tmp_path / "file" / "state")


WRITER = textwrap.dedent("""
    import itertools, os, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from driftwatch.store import Store

    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with Store.open(Path(sys.argv[1])) as store:
        # Continue where the killed writer stopped: one check per step.
        for i in itertools.count(len(store.checks(t0, t0 + timedelta(days=3650)))):
            at = t0 + timedelta(minutes=i)
            # The next round redoes the step this one is killed in with the opposite result, so an
            # episode change without its check (or the reverse) would show in the replay.
            in_sync = None if i % 11 == 0 else (i // 3 + int(sys.argv[2])) % 2 == 0
            store.save_snapshot("uat", f"sha256:{i // 4}", at, f"srv{i}", os.urandom(2000).hex())
            store.record_environment(f"run{i}", "uat", at, i % 7 != 0, 0.5)
            store.record_migrations_seen("uat", [f"m{j}" for j in range(i)], at)
            store.record_check(
                run_id=f"run{i}", job="check", comparison="uat:staging", reference="uat", target="staging",
                started_at=at, finished_at=at, report={"step": i, "padding": "x" * 5000},
                in_sync=in_sync, full=True, drift_summary={"step": i // 2})
            print(i, flush=True)
""")


def test_sigkill_during_writes_leaves_a_consistent_database(tmp_path: Path) -> None:
    """A writer SIGKILLed twenty times mid-stream leaves a sound file, each check with its episode effect."""
    for round_ in range(20):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(round_)],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert writer.stdout is not None
        assert writer.stdout.readline(), "the writer could not start"
        time.sleep(0.005 + round_ * 0.0007)  # a step takes about a millisecond: land on different parts
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    with Store.open(tmp_path) as store:
        checks = store.checks(*EVER)
        assert [c.report_document()["step"] for c in checks] == list(range(len(checks)))
        assert len(checks) >= 20
        assert stored_episodes(store, "uat:staging") == replay(checks)
        latest = store.latest_snapshot("uat")
        assert latest is not None
        assert len(latest.document) == 4000
    with sqlite3.connect(tmp_path / "history.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


def test_concurrent_writes_from_threads(store: Store) -> None:
    """Eight threads writing at once lose nothing and keep every episode right."""

    def work(thread: int) -> list[bool]:
        comparison = f"env{thread}:prod"
        saved = []
        for step in range(40):
            record(store, step, None if step % 9 == 0 else step % 6 < 3, {"step": step // 2}, comparison)
            store.record_environment(f"run{step}", f"env{thread}", minutes(step), step % 4 != 0, 0.1)
            store.record_migrations_seen("shared", [f"m{step}", f"m{step + 1}"], minutes(step))
            saved.append(store.save_snapshot("shared", f"sha256:{step}", minutes(step), None, "{}"))
        return saved

    with ThreadPoolExecutor(max_workers=8) as pool:
        saved = list(pool.map(work, range(8)))
    assert [sum(column) for column in zip(*saved, strict=True)] == [1] * 40
    assert len(store.checks(*EVER)) == 8 * 40
    assert len(store.environment_checks(*EVER)) == 8 * 40
    seen = store.migrations_seen("shared")
    assert [s.migration_id for s in seen] == [f"m{i}" for i in range(41)]
    assert [s.first_seen_at for s in seen] == [minutes(0), *[minutes(i) for i in range(40)]]
    for thread in range(8):
        comparison = f"env{thread}:prod"
        assert stored_episodes(store, comparison) == replay(store.checks(*EVER, comparison=comparison))
        assert store.consecutive_failures(f"env{thread}") == 0
