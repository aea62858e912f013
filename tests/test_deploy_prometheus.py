"""A real Prometheus scrapes a real driftwatch: every dashboard query and alert rule returns data."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from driftwatch.config import load
from driftwatch.daemon import Daemon as InProcessDaemon
from driftwatch.store import Store
from tests.support.daemon import Daemon
from tests.support.deploy import RULES, dashboard, interpolate, rules, targets, tool
from tests.support.pgserver import PgServer, free_port

pytestmark = pytest.mark.pg

# Flyway's history table as Flyway creates it: unlike Sequelize it records failures, which the
# failed-migration alert needs.
FLYWAY = """
CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50),
    description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL,
    checksum INTEGER, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
"""
APP = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, phone text);
CREATE INDEX users_phone_idx ON users (phone);
CREATE TABLE wallets (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users);
"""
ALL = (("1", True), ("1.1", True), ("1.2", True), ("2", True), ("3", True))


def history(versions: tuple[tuple[str, bool], ...]) -> str:
    rows = ", ".join(f"({i}, '{v}', 'm{v}', 'SQL', 'V{v}__m.sql', {i}, 'app', now(), 5, {ok})"
                     for i, (v, ok) in enumerate(versions, start=1))  # fmt: skip
    return FLYWAY + f"INSERT INTO flyway_schema_history VALUES {rows};"


def databases(pg: PgServer) -> dict[str, str]:
    """UAT; Staging behind it, with a hotfix, a failed migration and a critical table short of a
    column; QA with UAT's migrations but an index dropped by hand."""
    uat = APP + history(ALL)
    staging = (APP.replace(", phone text", "").replace("CREATE INDEX users_phone_idx ON users (phone);", "")
               + history((*ALL[:3], ("1.2.1", True), ("2", False))))  # fmt: skip
    qa = APP + history(ALL) + "DROP INDEX users_phone_idx;"
    names = {}
    for env, sql in (("uat", uat), ("staging", staging), ("qa", qa)):
        names[env] = pg.create_database(env)
        pg.execute(names[env], sql)
    return names


def config_text(pg: PgServer, dbs: dict[str, str], port: int, closed: int) -> str:
    envs = "".join(f'[environments.{env}]\ndsn = "{pg.dsn(db)}"\npassword_env = "DB_PASSWORD"\n'
                   f"lock_timeout = 60\nstatement_timeout = 90\n\n" for env, db in dbs.items())  # fmt: skip
    return envs + f"""
[environments.production]
dsn = "postgresql://{pg.superuser}@127.0.0.1:{closed}/app"
password_env = "DB_PASSWORD"
connect_timeout = 2

[[comparisons]]
reference = "uat"
target = "staging"
critical_tables = ["users"]

[[comparisons]]
reference = "staging"
target = "production"

[[comparisons]]
reference = "uat"
target = "qa"

[migrations]
tool = "flyway"

[schedule]
timezone = "UTC"
shutdown_timeout_seconds = 20

[metrics]
listen = "127.0.0.1:{port}"

[state]
state_dir = "state"

[slack]
token_env = "SLACK_BOT_TOKEN"
channel = "#platform"
api_url = "http://127.0.0.1:{closed}/api/"
"""


class Prometheus:
    """Debian's prometheus, scraping driftwatch every second and evaluating the deploy rules."""

    def __init__(self, root: Path, targets: list[str]) -> None:
        self.port = free_port()
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [str(RULES)],
                  "scrape_configs": [{"job_name": "driftwatch",
                                      "static_configs": [{"targets": targets}]}]}  # fmt: skip
        (root / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.proc = subprocess.Popen(
            [tool("prometheus"), f"--config.file={root / 'prometheus.yml'}",
             f"--storage.tsdb.path={root / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=(root / "prometheus.log").open("w"))  # fmt: skip
        self.wait(lambda: self._get("/-/ready") is not None, "Prometheus to start")

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                body = r.read()
                return json.loads(body) if body.startswith(b"{") else body
        except OSError:
            return None

    def query(self, expr: str) -> list[dict[str, Any]]:
        doc = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        assert doc is not None, f"Prometheus did not answer {expr}"
        assert doc["status"] == "success", doc
        result: list[dict[str, Any]] = doc["data"]["result"]
        return result

    def values(self, expr: str) -> list[float]:
        """The finite values an instant query returns (NaN, as an empty rate gives, is no data)."""
        return [v for v in (float(s["value"][1]) for s in self.query(expr)) if math.isfinite(v)]

    def alerts(self) -> list[dict[str, Any]]:
        doc = self._get("/api/v1/alerts")
        result: list[dict[str, Any]] = doc["data"]["alerts"]
        return result

    def label_values(self, label: str, match: str) -> list[str]:
        doc = self._get(f"/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": match}))
        result: list[str] = doc["data"]
        return result

    @staticmethod
    def wait(ready: Callable[[], object], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.25)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def prometheus_root(tmp_path: Path) -> Iterator[list[Prometheus]]:
    started: list[Prometheus] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.stop()


def test_every_panel_and_alert_expression_returns_data(
    pg18: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prometheus_root: list[Prometheus]
) -> None:
    """Seeded drift two days old, a gated first check, then every query answered and the alerts pending."""
    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    dbs = databases(pg18)
    port, closed, dead = free_port(), free_port(), free_port()
    path = tmp_path / "driftwatch.toml"
    path.write_text(config_text(pg18, dbs, port, closed))
    config = load(path)

    # Drift that began two days ago, as a daemon that ran then left it in the history; the
    # restarted daemon below must carry its start time (and so drift age) forward.
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    with Store.open(config.state.state_dir) as store:
        InProcessDaemon(config, store, clock=lambda: two_days_ago).run("check")

    # The first check waits on Staging's history table until Prometheus has scraped the
    # before-values, so rates and increases see the check happen.
    gate = psycopg.connect(pg18.dsn(dbs["staging"]), password=pg18.password)
    gate.execute("LOCK TABLE flyway_schema_history IN ACCESS EXCLUSIVE MODE")
    # A second driftwatch target that is down, for the DriftwatchDown rule.
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{port}", f"127.0.0.1:{dead}"])
    prometheus_root.append(prometheus)
    daemon = Daemon(path)
    try:
        daemon.wait_for("run.started")
        prometheus.wait(lambda: prometheus.values("driftwatch_build_info"), "the first scrape")
        assert prometheus.values('driftwatch_check_duration_seconds_count{schedule="check"}') == [0.0]
        gate.commit()
        daemon.wait_for("run.finished", timeout=60)
        prometheus.wait(lambda: prometheus.values('driftwatch_check_duration_seconds_count{schedule="check"}'
                                                  " > 0"), "the check to be scraped")  # fmt: skip
        check_dashboard(prometheus)
        check_rules(prometheus)
    finally:
        gate.close()
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=30) == 0


def check_dashboard(prometheus: Prometheus) -> None:
    """Each panel query, as Grafana sends it with All selected and with one comparison, has data."""
    comparisons = prometheus.label_values("comparison", "driftwatch_comparison_info")
    assert sorted(comparisons) == ["staging:production", "uat:qa", "uat:staging"]
    envs = prometheus.label_values("env_name", "driftwatch_up")
    assert sorted(envs) == ["production", "qa", "staging", "uat"]
    everything = {"comparison": f"({'|'.join(comparisons)})", "env_name": f"({'|'.join(envs)})"}
    # One of each picked, as a user narrowing the view would: Production is the environment
    # every panel has something to say about (it also has check errors).
    one = {"comparison": "uat:staging", "env_name": "production"}
    for variables in (everything, one):
        for title, target in targets(dashboard()):
            expr = interpolate(target["expr"], variables)
            assert "$" not in expr, f"{title}: a variable is left in {expr}"
            values = poll_values(prometheus, expr)
            assert values, f"panel {title!r} ({target['refId']}) has no data: {expr}"
    (drift_age,) = prometheus.values(
        'time() - driftwatch_drift_started_timestamp_seconds{reference="uat",target="staging"}')
    two_days = timedelta(days=2).total_seconds()
    assert two_days - 60 < drift_age < two_days + 300  # the seeded start, kept across the restart


def check_rules(prometheus: Prometheus) -> None:
    """Each rule's expression has data; the drift alerts are pending or firing where they should be."""
    for rule in rules():
        assert poll_values(prometheus, rule.expr), f"{rule.alert} has no data: {rule.expr}"
    expected = {
        ("DriftwatchMissingMigrations", "uat:staging"), ("DriftwatchDriftOpenTooLong", "uat:staging"),
        ("DriftwatchDriftOpenTooLong", "uat:qa"), ("DriftwatchTargetAhead", "uat:staging"),
        ("DriftwatchCriticalTableMismatch", "uat:staging"), ("DriftwatchSchemaChangedByHand", "uat:qa"),
        ("DriftwatchFailedMigration", "staging"), ("DriftwatchEnvironmentUnreachable", "production"),
        ("DriftwatchChecksStale", "staging:production"), ("DriftwatchSlackUndelivered", ""),
        ("DriftwatchDown", ""),
    }  # fmt: skip

    def active() -> set[tuple[str, str]]:
        return {(a["labels"]["alertname"], subject(a["labels"])) for a in prometheus.alerts()
                if a["state"] in {"pending", "firing"}}  # fmt: skip

    Prometheus.wait(lambda: expected <= active(), f"alerts {sorted(expected - active())}")
    # And not where they should not be: UAT → QA ran the same migrations; UAT → Staging did not.
    assert not {("DriftwatchSchemaChangedByHand", "uat:staging"), ("DriftwatchMissingMigrations", "uat:qa"),
                ("DriftwatchEnvironmentUnreachable", "uat"), ("DriftwatchFailedMigration", "uat"),
                ("DriftwatchChecksStale", "uat:staging")} & active()  # fmt: skip


def subject(labels: dict[str, str]) -> str:
    if "reference" in labels:
        return f"{labels['reference']}:{labels['target']}"
    return labels.get("env_name", "")


def poll_values(prometheus: Prometheus, expr: str, timeout: float = 15) -> list[float]:
    """An expression's finite values, waiting a little for the scrape and rule evaluation to catch up."""
    deadline = time.monotonic() + timeout
    while not (values := prometheus.values(expr)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return values
