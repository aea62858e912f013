"""The runbook's Dec 2 sync end to end: real sequelize-cli (and alembic) against real PostgreSQL 18."""

from __future__ import annotations

import getpass
import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch import snapshot_file
from driftwatch.cli import run
from driftwatch.config import Config, load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.pipeline import take_snapshot
from driftwatch.render.slack import SYNC_COMMAND
from driftwatch.store import CheckRow, Store
from driftwatch.sync import audit
from tests.support.configs import write_config
from tests.support.migration_projects import alembic_bin, alembic_project, run_alembic, sequelize_project
from tests.support.pgserver import PgServer
from tests.support.slack_server import TOKEN, SlackServer

pytestmark = pytest.mark.pg
BIN = Path(sys.executable).parent
DEC2 = [m.name for m in scenario.DEC2]


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with SlackServer() as server:
        yield server


@pytest.fixture
def password(pg18: PgServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return pg18.password


def write(tmp_path: Path, dsns: dict[str, str], slack: SlackServer, sync: str, migrations: str = "") -> Path:
    sections = f"""{migrations}
[state]
state_dir = "state"

[slack]
token_env = "SLACK_BOT_TOKEN"
channel = "#platform"
api_url = "{slack.url}"

[sync."uat:staging"]
{sync}
"""
    return write_config(tmp_path, dsns, sections, critical='["users", "wallets"]')


def posted(slack: SlackServer) -> list[dict[str, object]]:
    return [r.body for r in slack.requests if r.path == "/api/chat.postMessage"]


def headers(slack: SlackServer) -> list[str]:
    return [str(b["blocks"][0]["text"]["text"]) for b in posted(slack)]  # type: ignore[index]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def check_now(config: Config) -> Daemon:
    """One daemon run, recorded in the history (it closes its store)."""
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store)
        daemon.run("check")
        return daemon


def dec2_staging(pg: PgServer, tmp_path: Path, slack: SlackServer, sync: str) -> tuple[Path, str, str]:
    """UAT and Staging at 81 migrations, checked once; then UAT gets the four Dec 2 migrations."""
    uat = pg.create_database("uat")
    staging = pg.create_database("staging")
    for db in (uat, staging):
        pg.execute(db, scenario.database_sql("staging"))
    path = write(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack, sync)
    check_now(load(path))  # the history now holds UAT as it was with Staging's 81 migrations
    for m in scenario.DEC2:  # UAT's own deploy, as the runbook's Dec 2 found it
        pg.execute(uat, m.up)
    pg.execute(uat, 'INSERT INTO "SequelizeMeta" VALUES ' + ", ".join(f"('{n}')" for n in DEC2))
    return path, uat, staging


def test_dec2_sync_with_sequelize_cli(
    pg18: PgServer, password: str, sequelize_modules: Path, slack: SlackServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dry run lists the four, --apply runs sequelize-cli, the re-check resolves the drift once."""
    sequelize_project(tmp_path / "app", sequelize_modules, scenario.migrations())
    path, _, _ = dec2_staging(pg18, tmp_path, slack, 'enabled = true\nworkdir = "app"\ntimeout = 120')
    config = load(path)
    uat_before = snapshot_file.fingerprint(take_snapshot(config.environments["uat"], config))
    check_now(config)
    assert [h.split(" ", 1)[1] for h in headers(slack)] == ["Staging is behind UAT"]
    printed = SYNC_COMMAND.format(comparison="uat:staging")
    assert printed in json.dumps(posted(slack)[0]["blocks"])

    # The alert's next step, exactly as printed, from the config's folder.
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    dry = subprocess.run(shlex.split(printed), cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    listed = [line.split(". ", 1)[1] for line in dry.stdout.splitlines()
              if line.startswith("  ") and ". " in line]  # fmt: skip
    assert listed == DEC2
    assert "Command: npx sequelize-cli db:migrate" in dry.stdout
    assert f"in {tmp_path / 'app'}" in dry.stdout
    assert f"dw_admin@127.0.0.1:{pg18.port}/" in dry.stdout
    assert "REFUSED" not in dry.stdout
    assert "Verdict: --apply would run the command against staging." in dry.stdout

    monkeypatch.chdir(tmp_path)
    code, out, err = cli("sync", "--comparison", "uat:staging", "--apply")
    assert code == 0, out + err
    assert "  | == 20251202_04_walletid_depii: migrated" in out  # sequelize-cli's own words
    assert "Re-check: 4 of 4 migrations applied; still missing: none; schema now equal to uat: yes." in out
    assert "Result: applied" in out

    daemon = check_now(config)  # the next scheduled check: in sync, nothing more to say
    assert daemon.state().comparisons["uat:staging"].in_sync is True
    assert daemon.state().sync_runs[("uat", "staging", "applied")] == 1
    resolved = [h for h in headers(slack) if "back in sync" in h]
    assert resolved == [":white_check_mark: Staging is back in sync with UAT"]
    assert "Drift lasted" in json.dumps(posted(slack)[1]["blocks"])
    assert headers(slack)[2] == ":white_check_mark: Staging synced with UAT"
    assert snapshot_file.fingerprint(take_snapshot(config.environments["uat"], config)) == uat_before

    with Store.open(config.state.state_dir) as store:
        (row,) = audit.runs(store)
        checks = [c.job for c in store.rows(CheckRow, "SELECT * FROM checks")]
    assert (row.actor, row.result, row.listed("planned"), row.listed("applied")) == (
        getpass.getuser(), "applied", DEC2, DEC2)
    assert "migrated" in row.output
    assert checks.count("sync") == 1
    history = (config.state.state_dir / "history.db").read_bytes()
    for text in (out, err, dry.stdout, dry.stderr, json.dumps(posted(slack)), row.output):
        assert password not in text
    assert password.encode() not in history


def test_sequelize_migration_failing_halfway_pauses_auto_sync(
    pg18: PgServer, password: str, sequelize_modules: Path, slack: SlackServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Staging's data breaks the fourth migration: three applied, failure reported, auto-sync paused."""
    sequelize_project(tmp_path / "app", sequelize_modules, scenario.migrations())
    path, _, staging = dec2_staging(pg18, tmp_path, slack, 'enabled = true\nauto = true\nworkdir = "app"')
    # Data UAT never had: a second wallet for user 1, so "WAL-" || userId collides.
    pg18.execute(staging, """INSERT INTO wallets ("walletId", "userId") VALUES ('WAL-second', 1)""")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("sync", "--comparison", "uat:staging", "--apply")
    assert code == 1
    assert 'ERROR DETAIL: Key ("walletId")=(WAL-1) already exists.' in out  # sequelize-cli's words
    assert "Re-check: 3 of 4 migrations applied; still missing: 20251202_04_walletid_depii.js" in out
    assert "Result: failed" in out
    failure = json.dumps(posted(slack)[-1])
    assert "Sync of Staging failed" in failure
    assert "already exists" in failure
    assert "paused until a person runs" in failure

    config = load(path)
    with Store.open(config.state.state_dir) as store:
        Daemon(config, store).run("check")  # drift, auto on: but paused by the failure
        assert [r.result for r in audit.runs(store)] == ["failed"]
    pg18.execute(staging, """DELETE FROM wallets WHERE "walletId" = 'WAL-second'""")
    code, out, _ = cli("sync", "--comparison", "uat:staging", "--apply")  # a person, again
    assert code == 0, out
    assert "Re-check: 1 of 1 migrations applied" in out
    with Store.open(config.state.state_dir) as store:
        assert audit.paused_by(store, "staging") is None


REVISIONS = (
    ("a1_accounts", "CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL)"),
    ("b2_accounts_name", "ALTER TABLE accounts ADD COLUMN name text"),
    ("c3_accounts_email_idx", "CREATE UNIQUE INDEX accounts_email_idx ON accounts (email)"),
    ("d4_orders", "CREATE TABLE orders (id serial PRIMARY KEY, account_id int REFERENCES accounts (id))"),
)


def test_alembic_sync(pg18: PgServer, password: str, slack: SlackServer, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Alembic records only its head: the history tells behind from diverged; upgrade to UAT's head."""
    project = alembic_project(tmp_path / "alembic", REVISIONS)
    uat, staging = pg18.create_database("uat"), pg18.create_database("staging")
    url = f"postgresql://{pg18.superuser}:{password}@127.0.0.1:{pg18.port}/"
    for db in (uat, staging):
        run_alembic(project, url + db, "b2_accounts_name")
    command = json.dumps([alembic_bin(), "upgrade", "{last}"])
    sync = f'enabled = true\nworkdir = "alembic"\ncommand = {command}'
    path = write(tmp_path, {"uat": pg18.dsn(uat), "staging": pg18.dsn(staging)}, slack, sync,
                 '[migrations]\ntool = "alembic"')  # fmt: skip
    config = load(path)
    check_now(config)
    run_alembic(project, url + uat, "head")
    check_now(config)
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("sync", "--comparison", "uat:staging")
    assert code == 0, out
    assert "staging is at b2_accounts_name, uat at d4_orders" in out
    assert f"Command: {alembic_bin()} upgrade d4_orders" in out
    code, out, err = cli("sync", "--comparison", "uat:staging", "--apply")
    assert code == 0, out + err
    assert "Running upgrade b2_accounts_name -> c3_accounts_email_idx" in out  # alembic's own log
    assert "still missing: none; schema now equal to uat: yes" in out
    assert password not in out + err
