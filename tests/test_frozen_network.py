"""A network path that freezes (a half-open proxy connection): bounded, reported, the rest checked.

The proxy in tests/support/freezing_proxy.py forwards, then stops moving bytes while keeping every
socket open, so the server's own timeouts never get a chance: only client-side bounds help.
One server (PostgreSQL 18) is enough: the fault is in the path, not in the server's catalogs.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch import logs
from driftwatch.config import ConfigError, Environment, load, parse
from driftwatch.connect import CANCEL_SECONDS, TCP_BOUNDS, connect, connection_kwargs
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.metrics import registry
from driftwatch.model import CheckFailure, Drift, Outcome
from driftwatch.secrets import Secret
from driftwatch.server import Endpoints, HttpServer
from driftwatch.store import Store
from tests.support.configs import write_config
from tests.support.daemon import DRIFTWATCH
from tests.support.freezing_proxy import FreezingProxy
from tests.support.pgserver import PgServer
from tests.support.slack_server import TOKEN, SlackServer

pytestmark = pytest.mark.pg
T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
# Past the login (626 bytes on PostgreSQL 18) and inside the catalog reads (66 kB for the runbook).
MID_SNAPSHOT = 20_000
CONNECT, STATEMENT, READ = 2, 2, 3  # connect_timeout, statement_timeout, read_timeout in seconds
TIMEOUTS = f"connect_timeout = {CONNECT}\nstatement_timeout = {STATEMENT}\nread_timeout = {READ}\n"
# What a stuck read may cost at most: the deadline, the cancel request that hangs too, then the
# shutdown of the socket, which returns the blocked read at once. SLACK covers the rest of a run.
READ_BOUND = READ + CANCEL_SECONDS
SLACK = 3.0


@pytest.fixture
def databases(pg18: PgServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    names = {"uat": "staging", "staging": "staging", "production": "staging"}  # all in sync
    dbs = {}
    for env, sql in names.items():
        dbs[env] = pg18.create_database(env)
        pg18.execute(dbs[env], scenario.database_sql(sql))
    return dbs


@pytest.fixture
def proxy(pg18: PgServer) -> Iterator[FreezingProxy]:
    with FreezingProxy(pg18.port, freeze_after_bytes=MID_SNAPSHOT, lifetime=60) as p:
        yield p


def proxied(pg: PgServer, proxy: FreezingProxy, db: str) -> str:
    return f"postgresql://{pg.superuser}@127.0.0.1:{proxy.port}/{db}"


def test_every_connection_carries_tcp_bounds_unless_its_dsn_sets_them(pg18: PgServer) -> None:
    """keepalives and tcp_user_timeout reach libpq; a DSN's own value wins over the default."""
    env = Environment("uat", f"{pg18.dsn()}?keepalives_idle=7", Secret(pg18.password))
    kwargs = connection_kwargs(env)
    assert {k: kwargs.get(k) for k in TCP_BOUNDS if k != "keepalives_idle"} == \
        {k: v for k, v in TCP_BOUNDS.items() if k != "keepalives_idle"}
    assert "keepalives_idle" not in kwargs
    with connect(env) as conn:
        params = conn.info.get_parameters()
        assert params["keepalives_idle"] == "7"
        assert params["tcp_user_timeout"] == str(TCP_BOUNDS["tcp_user_timeout"])
        assert params["keepalives"] == "1"


def test_read_timeout_defaults_from_statement_timeout_and_is_validated() -> None:
    """read_timeout defaults to four statement_timeouts; below one, or not finite, is refused."""
    def environment(**keys: object) -> dict[str, object]:
        return {"environments": {"uat": {"dsn": "host=h", **keys}, "staging": {"dsn": "host=h"}},
                "comparisons": [{"reference": "uat", "target": "staging"}]}  # fmt: skip

    assert parse(environment(statement_timeout=45), None, {}).environments["uat"].read_deadline == 180
    assert Environment("uat", "host=h", statement_timeout=45).read_deadline == 180
    assert Environment("uat", "host=h", read_timeout=7.5).read_deadline == 7.5
    for value, says in ((10, "must be at least statement_timeout (30 s), since one catalog query "
                              "may take that long; got 10"),
                        (float("nan"), "must be a positive number of seconds, got nan"),
                        (0, "must be a positive number of seconds, got 0")):  # fmt: skip
        with pytest.raises(ConfigError) as e:
            parse(environment(read_timeout=value), None, {})
        assert f"environments.uat.read_timeout: {says}" in e.value.problems


def test_check_returns_in_bounded_time_when_the_path_freezes_mid_snapshot(
    pg18: PgServer, databases: dict[str, str], proxy: FreezingProxy, tmp_path: Path
) -> None:
    """`driftwatch check` with Staging behind a proxy that freezes mid-read: exit 2, one sentence."""
    config = write_config(tmp_path, {"uat": pg18.dsn(databases["uat"]),
                                     "staging": proxied(pg18, proxy, databases["staging"])},
                          env_extra=TIMEOUTS, critical="[]")  # fmt: skip
    t0 = time.monotonic()
    result = subprocess.run([DRIFTWATCH, "check", "--config", str(config)], capture_output=True,
                            text=True, timeout=READ_BOUND + 20, check=False)  # fmt: skip
    elapsed = time.monotonic() - t0
    assert proxy.frozen
    assert proxy.forwarded == MID_SNAPSHOT  # it froze inside the catalog reads, after the login
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"staging: 127.0.0.1:{proxy.port} did not answer within {READ} s; the network path or " \
        "proxy is stuck, so driftwatch closed the connection and will try again next run " \
        "(raise read_timeout if the read is only slow)." in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert READ <= elapsed < READ_BOUND + SLACK, elapsed


class Run:
    """One daemon run in a thread of its own, so that a hung run fails the test instead of hanging it."""

    def __init__(self, daemon: Daemon) -> None:
        self.outcomes: list[Outcome] | None = None
        self.thread = threading.Thread(target=self._run, args=(daemon,), daemon=True)
        self.t0 = time.monotonic()
        self.thread.start()

    def _run(self, daemon: Daemon) -> None:
        self.outcomes = daemon.run("check")

    def wait(self, bound: float) -> tuple[list[Outcome], float]:
        self.thread.join(timeout=bound + 15)
        elapsed = time.monotonic() - self.t0
        assert not self.thread.is_alive(), f"the run still hangs after {elapsed:.0f} s"
        assert self.outcomes is not None
        return self.outcomes, elapsed


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text: str) -> dict[str, float]:
    return {s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}": s.value
            for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip


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


def test_daemon_reports_the_frozen_environment_and_checks_the_others(
    pg18: PgServer, databases: dict[str, str], proxy: FreezingProxy, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, json_log: Callable[[], list[dict[str, Any]]],
) -> None:
    """Production behind a proxy that freezes mid-read, then accepts and never answers, then thaws:
    every run ends within its bound, UAT → Staging is checked each time, Production is reported
    unreadable (log, metrics, Slack), /readyz turns ready, and it recovers once the path does."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    dsns = {"uat": pg18.dsn(databases["uat"]), "staging": pg18.dsn(databases["staging"]),
            "production": proxied(pg18, proxy, databases["production"])}  # fmt: skip
    with SlackServer() as slack:
        sections = f"""[metrics]\nlisten = "127.0.0.1:0"\n\n[state]\nstate_dir = "state"\n
[slack]\ntoken_env = "SLACK_BOT_TOKEN"\nchannel = "#platform"\napi_url = "{slack.url}"
unreachable_after = 2\n\n[[comparisons]]\nreference = "staging"\ntarget = "production"\n"""
        config = load(write_config(tmp_path, dsns, sections, env_extra=TIMEOUTS, critical="[]"))
        clock = [T0]
        with Store.open(config.state.state_dir) as store:
            daemon = Daemon(config, store, lambda: clock[0])
            endpoints = Endpoints(registry(daemon.state), daemon.state, lambda: True)
            http = HttpServer("127.0.0.1", 0, endpoints).start()
            try:
                assert get(http.port, "/readyz")[0] == 503
                # 1. Frozen in the middle of Production's catalog reads.
                (checked, stuck), elapsed = Run(daemon).wait(READ_BOUND)
                assert elapsed < READ_BOUND + SLACK, elapsed
                assert proxy.forwarded == MID_SNAPSHOT
                assert isinstance(checked, Drift)
                assert checked.in_sync  # UAT and Staging are the same schema
                assert isinstance(stuck, CheckFailure)
                assert stuck.reason == "timeout"
                sentence = (f"production: 127.0.0.1:{proxy.port} did not answer within {READ} s; "
                            "the network path or proxy is stuck")  # fmt: skip
                assert sentence in stuck.message
                assert get(http.port, "/readyz") == (200, "ready\n")
                m = samples(get(http.port, "/metrics")[1])
                assert m["driftwatch_up{env_name=production}"] == 0
                assert m["driftwatch_up{env_name=staging}"] == 1
                assert m["driftwatch_check_errors_total{env_name=production,reason=timeout}"] == 1
                assert m["driftwatch_in_sync{reference=uat,target=staging}"] == 1
                last_success = "driftwatch_last_success_timestamp_seconds{reference=%s,target=%s}"
                assert m[last_success % ("uat", "staging")] == T0.timestamp()
                assert m[last_success % ("staging", "production")] == 0
                unreadable = [e for e in json_log() if e["event"] == "environment.unreadable"]
                assert [(e["env_name"], e["reason"]) for e in unreadable] == [("production", "timeout")]
                assert sentence in unreadable[0]["message"]
                assert not slack.requests  # one failed read is not yet "unreachable"

                # 2. Still frozen: the next run is not skipped; the connection attempt itself is bounded.
                clock[0] += timedelta(hours=1)
                (checked, stuck), elapsed = Run(daemon).wait(CONNECT)
                assert elapsed < CONNECT + SLACK, elapsed
                assert isinstance(checked, Drift)
                assert isinstance(stuck, CheckFailure)
                no_answer = f"production: no answer from 127.0.0.1:{proxy.port} within {CONNECT} s"
                assert no_answer in stuck.message
                (alert,) = [r.body for r in slack.requests if r.path == "/api/chat.postMessage"]
                assert "production" in json.dumps(alert)
                assert "no answer from" in json.dumps(alert)

                # 3. The path works again: Production is read and compared.
                proxy.thaw()
                clock[0] += timedelta(hours=1)
                (checked, fine), _ = Run(daemon).wait(READ_BOUND)
                assert isinstance(fine, Drift), fine
                assert fine.in_sync
                m = samples(get(http.port, "/metrics")[1])
                assert m["driftwatch_up{env_name=production}"] == 1
                assert m["driftwatch_check_errors_total{env_name=production,reason=timeout}"] == 2
            finally:
                http.stop()
    assert len([r for r in slack.requests if r.path == "/api/chat.postMessage"]) == 2  # and "reachable"
