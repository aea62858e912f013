"""The real APScheduler, driven by a controllable clock: hourly and weekly jobs at the right times."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from driftwatch.config import load
from driftwatch.daemon import Daemon
from driftwatch.store import Store
from tests.support.pgserver import free_port

JHB = ZoneInfo("Africa/Johannesburg")


class Clock:
    """The one clock of the test: the daemon's and APScheduler's."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """APScheduler 3 reads datetime.now() in two modules; both read this clock instead."""
    c = Clock(datetime(2025, 11, 30, 23, 0, 30, tzinfo=JHB))  # a Sunday, just after a fire time

    class ControlledDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> ControlledDatetime:
            return c.now.astimezone(tz)  # type: ignore[return-value]

    monkeypatch.setattr("apscheduler.schedulers.base.datetime", ControlledDatetime)
    monkeypatch.setattr("apscheduler.executors.base.datetime", ControlledDatetime)
    return c


@pytest.fixture
def daemon(tmp_path: Path, clock: Clock) -> Iterator[tuple[Daemon, queue.Queue[str]]]:
    # Nothing listens on these ports: each run fails fast and is still recorded with its job.
    path = tmp_path / "driftwatch.toml"
    path.write_text(f"""
[environments.uat]
dsn = "postgresql://app@127.0.0.1:{free_port()}/db"
[environments.staging]
dsn = "postgresql://app@127.0.0.1:{free_port()}/db"
[[comparisons]]
reference = "uat"
target = "staging"
[schedule]
check = "0 * * * *"
weekly = "0 6 * * 1"
timezone = "Africa/Johannesburg"
run_on_start = false
""")
    config = load(path, {})
    with Store.open(tmp_path / "state") as store:
        d = Daemon(config, store, clock)
        done: queue.Queue[str] = queue.Queue()
        sched = d.start_scheduler()

        def on_done(event: JobExecutionEvent) -> None:
            done.put(f"{event.job_id}{' failed' if event.exception else ''}")

        sched.add_listener(on_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        yield d, done
        d.stop(10)


def advance_to(d: Daemon, done: queue.Queue[str], clock: Clock, at: datetime, expect: int) -> list[str]:
    """Move the clock, wake the scheduler, and collect the `expect` jobs that then run."""
    clock.now = at
    assert d.scheduler is not None
    d.scheduler.wakeup()
    ran = [done.get(timeout=20) for _ in range(expect)]
    with pytest.raises(queue.Empty):
        done.get(timeout=0.5)  # and nothing more
    return sorted(ran)


def test_hourly_and_weekly_at_the_right_times(
    daemon: tuple[Daemon, queue.Queue[str]], clock: Clock
) -> None:
    """Hourly on the hour; weekly Monday 06:00 Johannesburg time, never Tuesday."""
    d, done = daemon
    monday = datetime(2025, 12, 1, 0, 0, 5, tzinfo=JHB)  # five seconds after midnight
    assert advance_to(d, done, clock, monday, 1) == ["check"]
    # 01:00 to 05:00 were due while nothing woke the scheduler: coalesced into one run.
    assert advance_to(d, done, clock, monday + timedelta(hours=5), 1) == ["check"]
    assert advance_to(d, done, clock, monday + timedelta(hours=6), 2) == ["check", "weekly"]
    assert advance_to(d, done, clock, monday + timedelta(hours=7), 1) == ["check"]
    assert advance_to(d, done, clock, monday + timedelta(days=1, hours=5), 1) == ["check"]
    assert advance_to(d, done, clock, monday + timedelta(days=1, hours=6), 1) == ["check"]
    jobs = [(c.job, c.started_at.astimezone(JHB).strftime("%a %H:%M"))
            for c in d.store.checks(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))]
    assert ("weekly", "Mon 06:00") in jobs
    assert [j for j in jobs if j[0] == "weekly"] == [("weekly", "Mon 06:00")]


def test_late_runs_beyond_grace_are_missed_not_stacked(
    daemon: tuple[Daemon, queue.Queue[str]], clock: Clock
) -> None:
    """After a 12-hour sleep, the hour that is due now runs once; older ones are not replayed."""
    d, done = daemon
    start = datetime(2025, 12, 2, 0, 0, 5, tzinfo=JHB)
    assert advance_to(d, done, clock, start, 1) == ["check"]
    assert advance_to(d, done, clock, start + timedelta(hours=12), 1) == ["check"]
    # 30 minutes past the hour is beyond the 15-minute grace: that run is missed, not run late.
    clock.now = start + timedelta(hours=13, minutes=30)
    assert d.scheduler is not None
    d.scheduler.wakeup()
    with pytest.raises(queue.Empty):
        done.get(timeout=1.5)
