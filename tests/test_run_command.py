"""`driftwatch run` as a real process: HTTP endpoints, status, and a clean stop on SIGTERM."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.cli import run
from driftwatch.config import load as load_config
from driftwatch.demo import scenario
from driftwatch.service import install_signal_handlers, serve
from tests.support.configs import write_config
from tests.support.daemon import DRIFTWATCH, Daemon
from tests.support.pgserver import PgServer, free_port

pytestmark = pytest.mark.pg


def config_file(tmp_path: Path, dsns: dict[str, str], env_extra: str = "") -> Path:
    sections = '[schedule]\nshutdown_timeout_seconds = 30\n\n[metrics]\nlisten = "127.0.0.1:0"\n'
    return write_config(tmp_path, dsns, sections, env_extra=env_extra, critical="[]")


@pytest.fixture
def runbook(pg: PgServer, make_db: Callable[..., str], admin_password: str) -> dict[str, str]:
    return {env: make_db(scenario.database_sql(env), prefix=env) for env in ("uat", "staging")}


@pytest.fixture
def daemon_factory() -> Iterator[Callable[[Path], Daemon]]:
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        started.append(Daemon(config))
        return started[-1]

    yield start
    for d in started:  # a failed test must not leave a daemon running
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


def test_serves_metrics_health_and_status(
    pg: PgServer, runbook: dict[str, str], tmp_path: Path, daemon_factory: Callable[[Path], Daemon]
) -> None:
    """The daemon checks at start, /readyz turns 200, /metrics has the drift, status reads it."""
    config = config_file(tmp_path, {n: pg.dsn(db) for n, db in runbook.items()})
    daemon = daemon_factory(config)
    daemon.wait_for("daemon.started")
    assert daemon.get("/healthz") == (200, "ok\n")
    daemon.wait_for("run.finished")
    assert daemon.get("/readyz") == (200, "ready\n")
    assert daemon.get("/reports/")[0] == 200  # the weekly reports' folder is wired to the port
    status, text = daemon.get("/metrics")
    assert status == 200
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("driftwatch_missing_migrations", (("reference", "uat"), ("target", "staging")))] == 4
    assert samples[("driftwatch_up", (("env_name", "staging"),))] == 1
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=30) == 0

    out, err = io.StringIO(), io.StringIO()
    assert run(["status", "--config", str(config)], out, err) == 1, err.getvalue()
    assert "uat → staging: NOT IN SYNC since" in out.getvalue()
    assert "     - 20251202_04_walletid_depii.js" in out.getvalue()
    out = io.StringIO()
    assert run(["status", "--config", str(config), "--json"], out, err) == 1
    (entry,) = json.loads(out.getvalue())["comparisons"]
    assert entry["missing"] == [m.name for m in scenario.DEC2]
    assert entry["in_sync"] is False


def test_sigterm_during_a_check_lets_it_finish(
    pg: PgServer, runbook: dict[str, str], tmp_path: Path, daemon_factory: Callable[[Path], Daemon]
) -> None:
    """SIGTERM while a check waits on a lock: no new work, the check finishes, exit 0."""
    config = config_file(tmp_path, {n: pg.dsn(db) for n, db in runbook.items()},
                          env_extra="lock_timeout = 20\n")
    blocker = psycopg.connect(pg.dsn(runbook["staging"]), password=pg.password)
    blocker.execute('LOCK TABLE "SequelizeMeta" IN ACCESS EXCLUSIVE MODE')  # held until commit
    daemon = daemon_factory(config)
    daemon.wait_for("run.started")
    time.sleep(1.0)  # the check is now waiting for the lock on SequelizeMeta
    daemon.proc.send_signal(signal.SIGTERM)
    daemon.wait_for("daemon.stopping")
    time.sleep(0.5)
    assert daemon.proc.poll() is None, "it must wait for the running check"
    blocker.commit()
    blocker.close()
    daemon.wait_for("run.finished")
    daemon.wait_for("daemon.stopped")
    assert daemon.proc.wait(timeout=30) == 0
    out, err = io.StringIO(), io.StringIO()
    assert run(["status", "--config", str(config), "--json"], out, err) == 1
    assert json.loads(out.getvalue())["comparisons"][0]["missing"] == [m.name for m in scenario.DEC2]


def test_unreadable_state_file_is_one_sentence(tmp_path: Path, admin_password: str) -> None:
    """A state file that is not a history database: exit 2, the file named, nothing overwritten."""
    config = config_file(tmp_path, {"uat": "host=/nonexistent dbname=a",
                                     "staging": "host=/nonexistent dbname=b"})
    state = tmp_path / "driftwatch-state"
    state.mkdir()
    (state / "history.db").write_bytes(b"this is not sqlite" * 100)
    result = subprocess.run([DRIFTWATCH, "run", "--config", str(config)], capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 2
    assert f"{state / 'history.db'} is not a driftwatch history database" in result.stderr
    assert "Traceback" not in result.stderr
    assert (state / "history.db").read_bytes() == b"this is not sqlite" * 100


def test_sigterm_past_the_timeout_cancels_and_exits(
    pg: PgServer, runbook: dict[str, str], tmp_path: Path, daemon_factory: Callable[[Path], Daemon]
) -> None:
    """A check stuck past shutdown_timeout: its queries are cancelled, nothing recorded, exit 0 in time."""
    sections = '[schedule]\nshutdown_timeout_seconds = 2\n\n[metrics]\nlisten = "127.0.0.1:0"\n'
    timeouts = "lock_timeout = 120\nstatement_timeout = 150\n"
    config = write_config(tmp_path, {n: pg.dsn(db) for n, db in runbook.items()}, sections,
                          env_extra=timeouts, critical="[]")  # fmt: skip
    blocker = psycopg.connect(pg.dsn(runbook["staging"]), password=pg.password)
    blocker.execute('LOCK TABLE "SequelizeMeta" IN ACCESS EXCLUSIVE MODE')  # never released in time
    try:
        daemon = daemon_factory(config)
        daemon.wait_for("run.started")
        time.sleep(1.0)  # the check now waits for the lock, for up to lock_timeout = 120 s
        t0 = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=15) == 0
        assert time.monotonic() - t0 < 2 + 5 + 3  # the timeout, the cancel grace, a margin
        daemon.wait_for("daemon.stopped")
        assert "run.abandoned" in [e["event"] for e in daemon.events]
        assert "run.finished" not in [e["event"] for e in daemon.events]
        assert _driftwatch_sessions(blocker, until_zero=3.0) == 0  # its connections went with it
    finally:
        blocker.close()
    out, err = io.StringIO(), io.StringIO()
    assert run(["status", "--config", str(config)], out, err) == 2  # the interrupted run left nothing
    assert "never checked" in out.getvalue().lower() or "not checked" in out.getvalue().lower()


def _driftwatch_sessions(conn: psycopg.Connection[tuple[object, ...]], until_zero: float) -> int:
    """driftwatch's sessions on the server, polled a little: a backend ends just after its client."""
    deadline = time.monotonic() + until_zero
    while True:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'driftwatch'"
                           ).fetchone()  # fmt: skip
        count = int(str(row[0])) if row else 0
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def test_sigterm_delivered_to_another_thread_still_stops_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel may hand a process's SIGTERM to any of its threads: the daemon stops all the same."""
    nowhere = f"postgresql://app@127.0.0.1:{free_port()}/db"  # no check runs: run_on_start = false
    sections = '[schedule]\nrun_on_start = false\n\n[metrics]\nlisten = "127.0.0.1:0"\n'
    monkeypatch.setenv("DB_PASSWORD", "unused")
    path = write_config(tmp_path, {"uat": nowhere, "staging": nowhere}, sections, critical="[]")
    config = load_config(path)
    stop = threading.Event()
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}  # pytest's, put back
    install_signal_handlers(stop)

    def deliver() -> None:  # a thread of its own receives the signal, as the kernel may arrange
        time.sleep(1.0)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    watchdog = threading.Timer(20, stop.set)  # without the fix only this would end serve()
    try:
        threading.Thread(target=deliver, daemon=True).start()
        watchdog.start()
        t0 = time.monotonic()
        code = serve(config, stop)
        elapsed = time.monotonic() - t0
    finally:
        watchdog.cancel()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert code == 0
    assert elapsed < 6, f"the daemon took {elapsed:.1f} s to notice SIGTERM"
