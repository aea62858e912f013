"""`driftwatch run`: check every comparison on a schedule, remember it, publish the latest state."""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from psycopg import Connection

from driftwatch import catalog, diff, faults, logs, snapshot_file
from driftwatch.config import Comparison, Config, Environment
from driftwatch.connect import CheckError, connect
from driftwatch.cron import parse as parse_cron
from driftwatch.migrations import list_files, read_history
from driftwatch.model import CheckFailure, Drift, MigrationHistory, Outcome, Snapshot
from driftwatch.notify import Notifier
from driftwatch.pipeline import Clock, read_snapshot, utc_now
from driftwatch.render import json as json_report
from driftwatch.report import weekly as weekly_report
from driftwatch.restore import Cached, cached_snapshots, last_verdicts
from driftwatch.state import EnvState, State, comparison_state, env_state
from driftwatch.store import Store, StoreError
from driftwatch.store_file import write_failure
from driftwatch.store_rows import EpisodeChange
from driftwatch.summary import drift_summary

# After the shutdown timeout, the queries still running are cancelled; this long is then left for
# the run to notice and unwind before the process exits regardless.
CANCEL_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One environment as one run read it: a snapshot, or the error that stopped it."""

    env: str
    snapshot: Snapshot | None
    error: CheckError | None
    duration: float
    full: bool = False
    server_fingerprint: str | None = None
    fingerprint: str | None = None  # snapshot_file.fingerprint(snapshot), computed once per reading


@dataclass(frozen=True, slots=True)
class Run:
    """One run's identity, shared by everything it records."""

    run_id: str
    job: str
    started: datetime
    files: tuple[str, ...] | None  # migration files, read once per run


class Daemon:
    """Runs checks (scheduled or by hand) and owns the state the HTTP port serves."""

    def __init__(self, config: Config, store: Store, clock: Clock = utc_now) -> None:
        self.config, self.store, self.clock = config, store, clock
        self._state = State.initial(config.environments, ((c.reference, c.target)
                                                         for c in config.comparisons))  # fmt: skip
        self._state_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one run at a time, whichever job started it
        self._cache: dict[str, Cached] = {}
        self._stopping = threading.Event()  # set when a stop gave up waiting: record nothing more
        self._live: set[Connection[Any]] = set()  # connections of the running run, to cancel
        self._live_lock = threading.Lock()
        self.scheduler: BackgroundScheduler | None = None
        self.log = logs.get()
        self.notifier = Notifier(config, store, clock)
        self._restore()

    # --- state ----------------------------------------------------------------------------

    def state(self) -> State:
        with self._state_lock:
            return self._state

    def alive(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def _publish(self, update: Callable[[State], State]) -> None:
        with self._state_lock:
            self._state = update(self._state)

    def _restore(self) -> None:
        """Pick up where the last process stopped: cached snapshots, sync counts, last verdicts."""
        self._cache.update(cached_snapshots(self.store, self.config.environments))
        self._publish_sync_counts()
        self._publish(lambda s: last_verdicts(self.store, s))

    # --- one run --------------------------------------------------------------------------

    def run(self, job: str = "check") -> list[Outcome]:
        """Check every comparison once; returns [] when another run is still going.

        An hourly check that finds a run going is skipped (that run is as recent), but the
        weekly one waits: on Monday 06:00 both fire, and the weekly full check must not be lost.
        """
        if not self._run_lock.acquire(blocking=job == "weekly"):
            self.log.warning("run.skipped", job=job, reason="the previous run is still going")
            return []
        run_id = uuid.uuid4().hex[:12]
        try:
            with logs.bound(run_id=run_id, job=job):  # on every line of the run, stdlib's too
                try:
                    return self._run(run_id, job)
                except StoreError as e:  # state_dir full or unwritable: the run stops unrecorded
                    self._unrecorded(e)
                    return []
        finally:
            self._run_lock.release()

    def _unrecorded(self, error: StoreError) -> None:
        """Count and log a run the history could not take; its verdicts are not published."""
        # The snapshots read may not be stored: forget them, so the next run reads (and stores) in full.
        self._cache.clear()
        self._publish(lambda s: replace(s, history_write_errors=s.history_write_errors + 1))
        self.log.error("history.write_failed", message=write_failure(self.config.state.state_dir, error))

    def wait_idle(self, timeout: float) -> bool:
        """Wait for a running check to finish; False if it did not within `timeout`."""
        if self._run_lock.acquire(timeout=timeout):
            self._run_lock.release()
            return True
        return False

    def _run(self, run_id: str, job: str) -> list[Outcome]:
        started, t0 = self.clock(), time.perf_counter()
        log = self.log
        log.info("run.started", comparisons=[c.name for c in self.config.comparisons])
        readings = self._read_all(force_full=job == "weekly")
        if self._stopping.is_set():  # its reads were cancelled: an interrupted run is not a result
            log.warning("run.abandoned", reason="the daemon is stopping")
            return []
        for reading in readings.values():
            self._record_environment(run_id, reading)
        run = Run(run_id, job, started, self._files(log))
        outcomes = [self._check(c, readings, run) for c in self.config.comparisons]
        self._auto_sync(outcomes)
        if job == "weekly":  # last week's maintenance report; its Slack summary goes out just below
            weekly_report.publish(self.config, self.store, self.clock, self.notifier)
        self.notifier.deliver()
        duration = time.perf_counter() - t0
        self._publish(lambda s: replace(s, ready=True, durations={
            **s.durations, job: s.durations[job].observe(duration)},
            slack_errors=dict(self.notifier.errors), alerts_pending=self.notifier.pending()))  # fmt: skip
        self.store.prune(started, timedelta(days=self.config.state.retention_days))
        log.info("run.finished", seconds=round(duration, 3),
                 in_sync=[o.in_sync if isinstance(o, Drift) else None for o in outcomes])  # fmt: skip
        return outcomes

    def _files(self, log: Any) -> tuple[str, ...] | None:
        try:
            return list_files(self.config.migrations)
        except OSError as e:
            log.warning("migrations.directory_unreadable", error=str(e))
            return None

    def _read_all(self, force_full: bool) -> dict[str, Reading]:
        names = list(dict.fromkeys(n for c in self.config.comparisons
                                   for n in (c.reference, c.target)))  # fmt: skip
        workers = min(self.config.schedule.max_parallel, len(names))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="env") as pool:
            envs = [self.config.environments[n] for n in names]
            # Each read runs in a copy of this thread's context: the run's id and job, plus its own
            # env_name, which then ends with the read instead of staying on the pool's thread.
            futures = [pool.submit(contextvars.copy_context().run, self._read, e, force_full)
                       for e in envs]  # fmt: skip
            readings = [f.result() for f in futures]
        return {r.env: r for r in readings}

    @contextlib.contextmanager
    def _tracked(self, conn: Connection[Any]) -> Iterator[None]:
        with self._live_lock:
            self._live.add(conn)
        try:
            yield
        finally:
            with self._live_lock:
                self._live.discard(conn)

    def _read(self, env: Environment, force_full: bool) -> Reading:
        with logs.bound(env_name=env.name):
            return self._read_env(env, force_full)

    def _read_env(self, env: Environment, force_full: bool) -> Reading:
        t0 = time.perf_counter()
        try:
            with connect(env) as conn, self._tracked(conn):
                server_fp = catalog.read_fingerprint(conn)
                cached = self._cache.get(env.name)
                if cached and not force_full and self._still_valid(cached, server_fp):
                    # Nothing in the catalog changed: reuse the objects, re-read only the
                    # migration history (a few rows) so new migrations are never missed.
                    history = read_history(conn, self.config.migrations)
                    return self._reuse(env.name, cached, history, time.perf_counter() - t0, server_fp)
                snap = read_snapshot(conn, env, self.config, self.clock)
        except CheckError as e:
            self.log.warning("environment.unreadable", env_name=env.name, reason=e.reason,
                             message=e.message)  # fmt: skip
            return Reading(env.name, None, e, time.perf_counter() - t0)
        fingerprint = snapshot_file.fingerprint(snap)
        self._cache[env.name] = Cached(snap, server_fp, snap.taken_at, fingerprint)
        return Reading(env.name, snap, None, time.perf_counter() - t0, True, server_fp, fingerprint)

    def _reuse(self, env: str, cached: Cached, history: MigrationHistory | None, duration: float,
               server_fp: str) -> Reading:  # fmt: skip
        """The cheap path's reading: the cached objects with the history just read."""
        snap = replace(cached.snapshot, taken_at=self.clock(), migrations=history)
        if history != cached.snapshot.migrations:  # a migration with no catalog change (a backfill)
            cached = replace(cached, snapshot=snap, fingerprint=snapshot_file.fingerprint(snap))
            self._cache[env] = cached
        return Reading(env, snap, None, duration, False, server_fp, cached.fingerprint)

    def _still_valid(self, cached: Cached, server_fp: str) -> bool:
        age = self.clock() - cached.full_at
        every = timedelta(hours=self.config.schedule.full_snapshot_every_hours)
        return cached.server_fingerprint == server_fp and age < every

    def _record_environment(self, run_id: str, r: Reading) -> None:
        at, snap = self.clock(), r.snapshot
        fingerprint = r.fingerprint
        # A full read of an unchanged schema (the daily and weekly ones) finds its document
        # stored already; a new one is written in pieces, never held whole.
        if (snap is not None and fingerprint is not None and r.full
                and not self.store.touch_snapshot(r.env, fingerprint, r.server_fingerprint, snap.taken_at)):
            self.store.save_snapshot(r.env, fingerprint, snap.taken_at, r.server_fingerprint,
                                     snapshot_file.chunks(snap, fingerprint))  # fmt: skip
        if snap is not None and snap.migrations is not None:
            self.store.record_migrations_seen(r.env, snap.migrations.ids, at)
        state = env_state(r.env, snap, r.duration)
        with self.store.transaction():  # the read and the unreachable/reachable alert it decides
            self._record_read(run_id, r, at, state)
            self.notifier.after_environment(r.env, snap is not None, r.error.message if r.error else None)
        self._publish(lambda s: replace(s, environments={**s.environments, r.env: state},
                                        errors=_count_error(s.errors, r)))  # fmt: skip

    def _record_read(self, run_id: str, r: Reading, at: datetime, state: EnvState) -> None:
        snap = r.snapshot
        self.store.record_environment(
            run_id, r.env, at, snap is not None, r.duration,
            reason=r.error.reason if r.error else None, message=r.error.message if r.error else None,
            server_fingerprint=r.server_fingerprint, snapshot_fingerprint=r.fingerprint,
            applied_migrations=state.applied_migrations if snap else None,
            failed_migrations=state.failed_migrations if snap else None,
            schema_counts=dict(state.schema_objects) if snap else None,
        )  # fmt: skip

    def _check(self, comparison: Comparison, readings: Mapping[str, Reading], run: Run) -> Outcome:
        with logs.bound(comparison=comparison.name):
            return self._check_one(comparison, readings, run)

    def _check_one(self, comparison: Comparison, readings: Mapping[str, Reading], run: Run) -> Outcome:
        ref, tgt = readings[comparison.reference], readings[comparison.target]
        try:
            outcome = _outcome(comparison, ref, tgt, self.config, run.files)
        except Exception as e:  # a bug in one comparison must not cost the others their check
            self.log.exception("comparison.crashed", comparison=comparison.name)
            outcome = CheckFailure(comparison.reference, comparison.target, "error",
                                   f"driftwatch failed comparing them ({type(e).__name__}); "
                                   "see the daemon's log")  # fmt: skip
        in_sync = outcome.in_sync if isinstance(outcome, Drift) else None
        with self.store.transaction():  # the episode change and the alerts it decides: both or neither
            change = self._record_check(comparison, outcome, (ref, tgt), run)
            faults.point("episode-recorded")  # the crash tests' SIGKILL: recorded, alert not yet queued
            if in_sync is not None:
                self.notifier.after_check(comparison, change, json_report.outcome(outcome))
        opened = change.episode.opened_at if change.episode and in_sync is False else None
        at = self.clock()
        self._publish(lambda s: replace(s, comparisons={**s.comparisons, comparison.name:
                      comparison_state(s.comparisons[comparison.name], outcome, at, opened)}))  # fmt: skip
        self.log.info("comparison.checked", comparison=comparison.name, in_sync=in_sync,
                      episode=change.kind)  # fmt: skip
        return outcome

    def _record_check(self, comparison: Comparison, outcome: Outcome, sides: tuple[Reading, Reading],
                      run: Run) -> EpisodeChange:  # fmt: skip
        ref, tgt = sides
        in_sync = outcome.in_sync if isinstance(outcome, Drift) else None
        return self.store.record_check(
            run_id=run.run_id, job=run.job, comparison=comparison.name,
            reference=comparison.reference, target=comparison.target, started_at=run.started,
            finished_at=self.clock(),
            report=json_report.outcome(outcome), in_sync=in_sync, full=ref.full or tgt.full,
            error_reason=outcome.reason if isinstance(outcome, CheckFailure) else None,
            error_message=outcome.message if isinstance(outcome, CheckFailure) else None,
            reference_fingerprint=ref.fingerprint, target_fingerprint=tgt.fingerprint,
            drift_summary=drift_summary(outcome) if isinstance(outcome, Drift) else None,
        )  # fmt: skip

    def recheck(self, comparison: Comparison) -> Outcome:
        """Read both sides in full now and record the check as job "sync"; its alerts go out at once."""
        run_id = uuid.uuid4().hex[:12]
        readings = {name: self._read(self.config.environments[name], force_full=True)
                    for name in (comparison.reference, comparison.target)}  # fmt: skip
        for reading in readings.values():
            self._record_environment(run_id, reading)
        outcome = self._check(comparison, readings, Run(run_id, "sync", self.clock(), self._files(self.log)))
        self.notifier.deliver()
        return outcome

    def _auto_sync(self, outcomes: list[Outcome]) -> None:
        """Sync what [sync] enables with auto = true (driftwatch.sync decides); publish the sync counts."""
        from driftwatch.sync import auto, service  # noqa: PLC0415 - only a syncing daemon needs them

        hooks = service.Hooks(self.recheck, self.notifier.deliver, clock=self.clock)
        auto.after_run(self.config, self.store, zip(self.config.comparisons, outcomes, strict=True), hooks)
        self._publish_sync_counts()

    def _publish_sync_counts(self) -> None:
        from driftwatch.sync import audit  # noqa: PLC0415

        self._publish(lambda s: replace(s, sync_runs=audit.series(self.config, self.store)))

    # --- the schedule ---------------------------------------------------------------------

    def start_scheduler(self) -> BackgroundScheduler:
        """Register the hourly and weekly jobs (and the first check) and start the scheduler."""
        s = self.config.schedule
        sched = BackgroundScheduler(timezone=s.timezone, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": s.misfire_grace_seconds})  # fmt: skip
        sched.add_job(self.run, parse_cron(s.check).trigger(s.timezone), args=["check"],
                      id="check", name="scheduled check")  # fmt: skip
        sched.add_job(self.run, parse_cron(s.weekly).trigger(s.timezone), args=["weekly"],
                      id="weekly", name="weekly full check")  # fmt: skip
        if s.run_on_start:
            sched.add_job(self.run, args=["check"], id="startup", name="check at start")
        sched.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        sched.start()
        self.scheduler = sched
        return sched

    def _on_event(self, event: JobEvent) -> None:
        kind = {EVENT_JOB_ERROR: "job.failed", EVENT_JOB_MISSED: "job.missed",
                EVENT_JOB_MAX_INSTANCES: "job.still_running"}.get(event.code, "job.event")  # fmt: skip
        exception = getattr(event, "exception", None)
        self.log.error(kind, job=event.job_id, error=repr(exception) if exception else None)

    def stop(self, timeout: float) -> bool:
        """Stop taking work, let a running check finish within `timeout`; True if it did.

        A check still running then has its queries cancelled (a lock wait, a slow catalog) and
        is dropped unrecorded: the next process checks again. False if even that did not end it.
        """
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.wait_idle(timeout):
            return True
        self._stopping.set()
        with self._live_lock:
            live = list(self._live)
        self.log.warning("daemon.cancelling", connections=len(live), waited_seconds=timeout)
        for conn in live:
            with contextlib.suppress(Exception):  # it may have closed meanwhile
                conn.cancel_safe(timeout=2)
        return self.wait_idle(CANCEL_GRACE_SECONDS)




def _count_error(errors: Mapping[tuple[str, str], int], r: Reading) -> dict[tuple[str, str], int]:
    counts = dict(errors)
    if r.error is not None:
        counts[(r.env, r.error.reason)] = counts.get((r.env, r.error.reason), 0) + 1
    return counts


def _outcome(comparison: Comparison, ref: Reading, tgt: Reading, config: Config,
             files: tuple[str, ...] | None) -> Outcome:  # fmt: skip
    errors = [r.error for r in (ref, tgt) if r.error is not None]
    if errors or ref.snapshot is None or tgt.snapshot is None:
        return CheckFailure(comparison.reference, comparison.target, errors[0].reason,
                            " ".join(e.message for e in errors))  # fmt: skip
    return diff.compare(ref.snapshot, tgt.snapshot, comparison.critical_tables,
                        config.schema.ignore, files)  # fmt: skip
