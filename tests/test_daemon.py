"""The daemon against real PostgreSQL and real HTTP: metrics, outages, restarts, the cheap path."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import diff, logs
from driftwatch.config import Config, Environment, load
from driftwatch.daemon import Daemon, Reading
from driftwatch.demo import scenario
from driftwatch.metrics import registry
from driftwatch.model import CheckFailure, Drift, Snapshot
from driftwatch.server import Endpoints, HttpServer
from driftwatch.store import Store
from tests.support.configs import write_config
from tests.support.pgserver import PgServer, embedded_bin_dir, free_port, running_server

pytestmark = pytest.mark.pg
T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A controllable clock: time moves only when the test says so."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def config_for(tmp_path: Path, dsns: dict[str, str], extra: str = "") -> Config:
    sections = '[metrics]\nlisten = "127.0.0.1:0"\n\n[state]\nstate_dir = "state"\n' + extra
    return load(write_config(tmp_path, dsns, sections, env_extra="connect_timeout = 2"))


@pytest.fixture
def runbook_pair(pg: PgServer, make_db: Callable[..., str], admin_password: str) -> dict[str, str]:
    return {env: pg.dsn(make_db(scenario.database_sql(env), prefix=env)) for env in ("uat", "staging")}


def scrape(daemon: Daemon) -> dict[str, float]:
    """Serve the daemon's metrics on a real port, GET /metrics, parse it like Prometheus does."""
    server = HttpServer("127.0.0.1", 0, Endpoints(registry(daemon.state), daemon.state, lambda: True))
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    finally:
        server.stop()
    return {
        s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}": s.value
        for family in text_string_to_metric_families(text) for s in family.samples
    }


def test_metrics_show_a_real_drifted_pair(runbook_pair: dict[str, str], tmp_path: Path) -> None:
    """After one run, /metrics shows the Dec 2 drift: 4 missing, index and constraint, not in sync."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        before = scrape(daemon)
        assert before["driftwatch_in_sync{reference=uat,target=staging}"] == 0
        assert before["driftwatch_schema_differences{kind=policy,reference=uat,target=staging}"] == 0
        daemon.run("check")
        m = scrape(daemon)
    assert m["driftwatch_up{env_name=uat}"] == 1
    assert m["driftwatch_missing_migrations{reference=uat,target=staging}"] == 4
    assert m["driftwatch_extra_migrations{reference=uat,target=staging}"] == 0
    assert m["driftwatch_schema_differences{kind=index,reference=uat,target=staging}"] == 1
    assert m["driftwatch_schema_differences{kind=constraint,reference=uat,target=staging}"] == 1
    assert m["driftwatch_critical_table_mismatches{reference=uat,target=staging}"] == 1
    assert m["driftwatch_applied_migrations{env_name=uat}"] == 85
    assert m["driftwatch_applied_migrations{env_name=staging}"] == 81
    assert m["driftwatch_schema_objects{env_name=uat,kind=table}"] == 45
    assert m["driftwatch_drift_started_timestamp_seconds{reference=uat,target=staging}"] == T0.timestamp()
    assert m["driftwatch_last_success_timestamp_seconds{reference=uat,target=staging}"] == T0.timestamp()
    assert m["driftwatch_check_duration_seconds_count{schedule=check}"] == 1
    assert m["driftwatch_check_errors_total{env_name=staging,reason=refused}"] == 0


@pytest.fixture
def staging_server() -> Iterator[PgServer]:
    """A server of its own for Staging, so the test can stop and restart it."""
    bin_dir = embedded_bin_dir()
    assert bin_dir is not None
    with running_server(bin_dir) as server:
        yield server


def test_outage_and_recovery(
    pg: PgServer, make_db: Callable[..., str], staging_server: PgServer, tmp_path: Path,
    admin_password: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Staging stopped mid-life: up turns 0 and the error is counted; back up, it recovers."""
    monkeypatch.setenv("DB_PASSWORD", staging_server.password)
    uat = pg.dsn(make_db(scenario.database_sql("uat"), prefix="uat"))
    staging_db = staging_server.create_database("staging")
    staging_server.execute(staging_db, scenario.database_sql("uat"))
    if pg.password != staging_server.password:
        pytest.fail("both test servers share one superuser password")
    config = config_for(tmp_path, {"uat": uat, "staging": staging_server.dsn(staging_db)})
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")
        assert scrape(daemon)["driftwatch_in_sync{reference=uat,target=staging}"] == 1
        staging_server.stop()
        clock.advance(hours=1)
        daemon.run("check")
        down = scrape(daemon)
        assert down["driftwatch_up{env_name=staging}"] == 0
        assert down["driftwatch_up{env_name=uat}"] == 1
        assert down["driftwatch_check_errors_total{env_name=staging,reason=refused}"] == 1
        assert down["driftwatch_last_check_timestamp_seconds{reference=uat,target=staging}"] == (
            clock.now.timestamp())
        assert down["driftwatch_last_success_timestamp_seconds{reference=uat,target=staging}"] == (
            T0.timestamp())
        assert store.consecutive_failures("staging") == 1
        staging_server.start()
        clock.advance(hours=1)
        daemon.run("check")
        up = scrape(daemon)
    assert up["driftwatch_up{env_name=staging}"] == 1
    assert up["driftwatch_in_sync{reference=uat,target=staging}"] == 1
    assert up["driftwatch_check_errors_total{env_name=staging,reason=refused}"] == 1


def test_restart_keeps_drift_start(runbook_pair: dict[str, str], tmp_path: Path) -> None:
    """A new process on the same state_dir reports the drift as starting when it first began."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        Daemon(config, store, clock).run("check")
    clock.advance(hours=5)
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        key = "driftwatch_drift_started_timestamp_seconds{reference=uat,target=staging}"
        assert scrape(daemon)[key] == T0.timestamp()  # before any check in this process
        daemon.run("check")
        assert scrape(daemon)[key] == T0.timestamp()
        episode = store.open_episode("uat:staging")
        assert episode is not None
        assert episode.opened_at == T0


def test_restart_serves_the_last_verdicts_before_its_first_check(
    runbook_pair: dict[str, str], tmp_path: Path
) -> None:
    """A new process exports what the last one saw, not zeros, until its own first check ends."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        first = Daemon(config, store, clock)
        first.run("check")
        seen = scrape(first)
    clock.advance(hours=5)
    with Store.open(config.state.state_dir) as store:
        restarted = scrape(Daemon(config, store, clock))
    kept = [k for k in seen if not k.startswith(("driftwatch_check_errors", "driftwatch_check_duration"))]
    assert seen["driftwatch_missing_migrations{reference=uat,target=staging}"] == 4
    assert seen["driftwatch_up{env_name=staging}"] == 1
    assert seen["driftwatch_last_success_timestamp_seconds{reference=uat,target=staging}"] > 0
    # Counters and the run histogram start again, as Prometheus expects of a new process.
    assert {k: restarted[k] for k in kept} == {k: seen[k] for k in kept}


def test_restart_after_a_failed_check_keeps_the_verdict_before_it(
    pg: PgServer, runbook_pair: dict[str, str], tmp_path: Path
) -> None:
    """The last attempt failed: its time is the last check, the verdict before it gives the numbers."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        Daemon(config, store, clock).run("check")
        clock.advance(hours=1)
        pg.stop()
        try:
            Daemon(config, store, clock).run("check")
        finally:
            pg.start()
    with Store.open(config.state.state_dir) as store:
        metrics = scrape(Daemon(config, store, clock))
    pair = "{reference=uat,target=staging}"
    assert metrics[f"driftwatch_last_check_timestamp_seconds{pair}"] == clock.now.timestamp()
    assert metrics[f"driftwatch_last_success_timestamp_seconds{pair}"] == T0.timestamp()
    assert metrics[f"driftwatch_missing_migrations{pair}"] == 4
    assert metrics["driftwatch_up{env_name=staging}"] == 0


@pytest.mark.parametrize("side", ["uat", "staging"])
def test_fingerprint_path(
    pg: PgServer, runbook_pair: dict[str, str], tmp_path: Path, side: str
) -> None:
    """Unchanged catalogs skip the full snapshot; a column added on either side forces one."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")
        clock.advance(hours=1)
        daemon.run("check")
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert latest.full is False
        pg.execute(runbook_pair[side].rsplit("/", 1)[1], "ALTER TABLE users ADD COLUMN nickname text")
        clock.advance(hours=1)
        (outcome,) = daemon.run("check")
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert latest.full is True
    change = "missing" if side == "uat" else "extra"
    assert any(d["name"] == "public.users.nickname" and d["change"] == change
               for d in latest.report_document()["schema"]["differences"])
    del outcome


def test_cheap_path_sees_a_migration_with_no_catalog_change(
    pg: PgServer, runbook_pair: dict[str, str], tmp_path: Path
) -> None:
    """A data-only migration (Dec 2's walletid_depii) on the cheap path: counted, and fingerprinted anew."""
    config = config_for(tmp_path, runbook_pair)
    clock = Clock()
    staging = runbook_pair["staging"].rsplit("/", 1)[1]
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")
        before = store.latest_environment("staging")
        clock.advance(hours=1)
        daemon.run("check")
        unchanged = store.latest_environment("staging")
        pg.execute(staging, """INSERT INTO "SequelizeMeta" (name) VALUES ('20251202_04_walletid_depii.js')""")
        clock.advance(hours=1)
        daemon.run("check")
        after = store.latest_environment("staging")
        latest = store.latest_check("uat:staging")
    assert before is not None
    assert unchanged is not None
    assert after is not None
    assert latest is not None
    assert latest.full is False  # the catalog did not change: no full read
    assert unchanged.snapshot_fingerprint == before.snapshot_fingerprint
    assert after.snapshot_fingerprint != before.snapshot_fingerprint
    assert after.applied_migrations == before.applied_migrations + 1  # type: ignore[operator]
    assert "20251202_04_walletid_depii.js" not in latest.report_document()["migrations"]["missing"]
    assert latest.target_fingerprint == after.snapshot_fingerprint


def test_full_snapshot_at_least_every_n_hours(runbook_pair: dict[str, str], tmp_path: Path) -> None:
    """Even with nothing changed, a full snapshot runs once full_snapshot_every_hours has passed."""
    config = config_for(tmp_path, runbook_pair, "\n[schedule]\nfull_snapshot_every_hours = 6\n")
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        fulls = []
        for _ in range(8):
            daemon.run("check")
            row = store.latest_check("uat:staging")
            assert row is not None
            fulls.append(row.full)
            clock.advance(hours=1)
    assert fulls == [True, False, False, False, False, False, True, False]


def test_log_lines_carry_the_run_the_comparison_and_the_environment(
    tmp_path: Path, admin_password: str
) -> None:
    """Every line of a run has its run_id and job; a read's lines its env_name; a check's its comparison."""
    dead = {env: f"postgresql://app@127.0.0.1:{free_port()}/{env}" for env in ("uat", "staging")}
    config = config_for(tmp_path, dead)
    buf = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.configure("json", "info", buf)
        with Store.open(config.state.state_dir) as store:
            Daemon(config, store, Clock()).run("check")
        logs.get().info("after.run")
    finally:
        root.handlers[:], root.level = handlers, level
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    by_event: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        by_event.setdefault(str(line["event"]), []).append(line)
    run_id = by_event["run.started"][0]["run_id"]
    for line in lines[:-1]:
        assert (line.get("run_id"), line.get("job")) == (run_id, "check"), line
    assert sorted(str(e["env_name"]) for e in by_event["environment.unreadable"]) == ["staging", "uat"]
    (checked,) = by_event["comparison.checked"]
    assert checked["comparison"] == "uat:staging"
    assert "env_name" not in checked
    assert not {"run_id", "job", "env_name", "comparison"} & set(by_event["after.run"][0])


def test_pool_is_bounded_and_a_crashing_comparison_spares_the_others(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """max_parallel = 2 reads at most two environments at once; a comparison whose diff raises is
    a recorded failure while the other is checked, and the daemon goes on to its next run."""
    dsns = {env: pg.dsn(make_db(scenario.database_sql(env), prefix=env))
            for env in ("uat", "staging", "production")}  # fmt: skip
    extra = ('\n[schedule]\nmax_parallel = 2\n\n'
             '[[comparisons]]\nreference = "staging"\ntarget = "production"\n')
    config = config_for(tmp_path, dsns, extra)
    running, most, lock = [0], [0], threading.Lock()
    read = Daemon._read_env

    def counting(self: Daemon, env: Environment, force_full: bool) -> Reading:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)  # long enough for a third read to start, were it allowed
            return read(self, env, force_full)
        finally:
            with lock:
                running[0] -= 1

    compare = diff.compare

    def crashing(ref: Snapshot, tgt: Snapshot, *args: Any) -> Any:
        if tgt.environment == "staging":
            raise ZeroDivisionError("a bug in one comparison")
        return compare(ref, tgt, *args)

    monkeypatch.setattr(Daemon, "_read_env", counting)
    monkeypatch.setattr("driftwatch.daemon.diff.compare", crashing)
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, Clock())
        broken, fine = daemon.run("check")
        assert most[0] == 2
        assert isinstance(broken, CheckFailure)
        assert "ZeroDivisionError" in broken.message
        assert isinstance(fine, Drift)
        assert not fine.in_sync  # Production lacks what Staging has
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert latest.error_reason == "error"
        monkeypatch.setattr("driftwatch.daemon.diff.compare", compare)
        assert all(isinstance(o, Drift) for o in daemon.run("check"))  # the next run is whole again


def test_weekly_reads_in_full_and_an_overlapping_check_is_skipped(
    runbook_pair: dict[str, str], tmp_path: Path
) -> None:
    """The weekly job never takes the fingerprint path; an hourly run while another runs is skipped."""
    config = config_for(tmp_path, runbook_pair)
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, Clock())
        daemon.run("check")
        daemon.run("weekly")
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert (latest.job, latest.full) == ("weekly", True)
        daemon.run("check")
        latest = store.latest_check("uat:staging")
        assert latest is not None
        assert (latest.job, latest.full) == ("check", False)
        with daemon._run_lock:  # a run is going
            assert daemon.run("check") == []
