"""The runbook's Dec 2 day end to end through the CLI, against real PostgreSQL 18 and 15."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from driftwatch.cli import run
from driftwatch.config import Environment
from driftwatch.connect import connect
from driftwatch.demo import scenario
from driftwatch.secrets import Secret
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg


@pytest.fixture
def runbook(pg: PgServer, make_db: Callable[..., str]) -> dict[str, str]:
    """uat, staging and production databases as the runbook's Dec 2 day left them."""
    return {env: make_db(scenario.database_sql(env), prefix=env) for env in scenario.APPLIED}


def write_config(tmp_path: Path, pg: PgServer, dbs: dict[str, str], extra: str = "") -> Path:
    files = tmp_path / "migrations"
    files.mkdir(exist_ok=True)
    for name in scenario.migration_files():
        (files / name).write_text("module.exports = {};\n")
    envs = "".join(
        f'[environments.{env}]\ndsn = "{pg.dsn(db)}"\npassword_env = "DB_PASSWORD"\n\n'
        for env, db in dbs.items()
    )
    critical = ", ".join(f'"{t}"' for t in scenario.CRITICAL_TABLES)
    path = tmp_path / "driftwatch.toml"
    path.write_text(envs + f"""
[[comparisons]]
reference = "uat"
target = "staging"
critical_tables = [{critical}]

[[comparisons]]
reference = "staging"
target = "production"
critical_tables = [{critical}]

[migrations]
tool = "sequelize"
directory = "migrations"
{extra}""")
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_check_reports_the_runbook_day(
    pg: PgServer, runbook: dict[str, str], tmp_path: Path, admin_password: str
) -> None:
    """The terminal report shows 85 vs 81, the four Dec 2 migrations in order, and exit 1."""
    path = write_config(tmp_path, pg, runbook)
    code, out, err = cli("check", "--config", str(path), "--comparison", "uat:staging")
    assert code == 1, err
    assert "uat migrations: 85" in out
    assert "staging migrations: 81" in out
    assert "Total migration files: 90" in out
    missing = [line.strip()[2:] for line in out.splitlines() if line.startswith("   - 20251202")]
    assert missing == [m.name for m in scenario.DEC2]
    assert "Found 4 migrations in uat that are missing in staging:" in out
    assert "uat: 45 tables, 523 columns" in out
    assert "staging: 45 tables, 523 columns" in out
    assert "✅ Table and column counts match" in out
    # What the runbook's count check cannot see: the Dec 2 index and CHECK constraint.
    assert "public.beneficiaries.beneficiaries_msisdn_e164_check: in uat, missing in staging" in out
    assert "public.beneficiaries_msisdn_idx: in uat, missing in staging" in out
    assert "❌ public.beneficiaries: differs" in out
    assert "❌ STAGING IS NOT IN SYNC WITH UAT" in out
    assert "npx sequelize-cli db:migrate" in out
    assert "5 migration files applied in neither uat nor staging:" in out
    # The next step checks again with the same config file, not a ./driftwatch.toml that may not exist.
    assert f"Check again:\n      driftwatch check --config {path} --comparison uat:staging\n" in out
    assert admin_password not in out + err


def test_check_json_matches_the_contract(
    pg: PgServer, runbook: dict[str, str], tmp_path: Path, admin_password: str
) -> None:
    """`check --json` gives one report per comparison with the documented fields."""
    path = write_config(tmp_path, pg, runbook)
    code, out, _ = cli("check", "--config", str(path), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["format"] == "driftwatch.check/v1"
    assert doc["in_sync"] is False
    first, second = doc["comparisons"]
    assert first["format"] == "driftwatch.report/v1"
    assert first["reference"]["name"] == "uat"
    assert first["target"]["name"] == "staging"
    assert first["reference"]["server_version"].startswith(str(pg.version))
    assert first["migrations"]["missing"] == [m.name for m in scenario.DEC2]
    assert first["migrations"]["reference_count"] == 85
    assert first["migrations"]["files_count"] == 90
    assert first["schema"]["reference_counts"]["tables"] == 45
    assert first["schema"]["reference_counts"]["columns"] == 523
    assert [(d["kind"], d["name"], d["change"]) for d in first["schema"]["differences"]] == [
        ("constraint", "public.beneficiaries.beneficiaries_msisdn_e164_check", "missing"),
        ("index", "public.beneficiaries_msisdn_idx", "missing"),
    ]
    assert [t["status"] for t in first["critical_tables"]] == ["ok", "ok", "ok", "different", "ok"]
    # Production lags further: six more migrations, a table and three columns.
    assert len(second["migrations"]["missing"]) == 6
    diffs = {(d["kind"], d["name"], d["change"]) for d in second["schema"]["differences"]}
    assert diffs == {
        ("table", "public.referrals", "missing"),
        ("column", "public.wallets.dailyLimit", "missing"),
        ("column", "public.users.marketingOptIn", "missing"),
        ("column", "public.transactions.channel", "missing"),
        ("column", "public.vouchers.expiresAt", "missing"),
    }
    statuses = {t["name"]: t["status"] for t in second["critical_tables"]}
    assert statuses["public.wallets"] == "different"
    assert statuses["public.beneficiaries"] == "ok"


def test_diff_runbook_day_and_identical(
    pg: PgServer, runbook: dict[str, str], admin_password: str
) -> None:
    """`diff` lists the four missing migrations and exits 1; identical databases exit 0."""
    code, out, _ = cli("diff", pg.dsn(runbook["uat"]), pg.dsn(runbook["staging"]), "--json")
    assert code == 1
    assert json.loads(out)["migrations"]["missing"] == [m.name for m in scenario.DEC2]
    code, out, err = cli("diff", pg.dsn(runbook["uat"]), pg.dsn(runbook["uat"]))
    assert code == 0, out + err
    assert "IS 100% IN SYNC" in out


def test_diff_next_steps_name_the_diff_again(
    pg: PgServer, make_db: Callable[..., str], admin_password: str
) -> None:
    """`diff` has no config: its next steps repeat the diff (password masked), not `check`."""
    ref = make_db(scenario.SEQUELIZE_META + " CREATE TABLE t (id int);")
    tgt = make_db(scenario.SEQUELIZE_META + " CREATE TABLE t (id bigint);")
    with_password = pg.dsn(ref).replace("@", f":{admin_password}@", 1)
    code, out, _ = cli("diff", with_password, pg.dsn(tgt), "--critical-table", "t")
    assert code == 1
    again = f"driftwatch diff '{with_password.replace(admin_password, '********')}' {pg.dsn(tgt)} " \
        "--critical-table t"
    assert f"See every detail with:\n      {again} --json\n" in out
    assert f"Check again:\n      {again}\n" in out
    assert "driftwatch check" not in out
    assert admin_password not in out


def test_column_changes_are_reported_per_attribute(
    pg: PgServer, make_db: Callable[..., str], admin_password: str
) -> None:
    """Type, nullability and default changes show as `changed` with only what differs."""
    base = scenario.SEQUELIZE_META + (
        " CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL,"
        " balance numeric(18,2) DEFAULT 0, note text);")
    ref = make_db(base)
    tgt = make_db(base + " ALTER TABLE users ALTER email TYPE varchar(255), ALTER email DROP NOT NULL,"
                  " ALTER balance SET DEFAULT 1; ALTER TABLE users DROP COLUMN note;"
                  " ALTER TABLE users ADD COLUMN hotfix int;")
    code, out, _ = cli("diff", pg.dsn(ref), pg.dsn(tgt), "--json", "--critical-table", "users")
    assert code == 1
    doc = json.loads(out)
    diffs = {d["name"]: d for d in doc["schema"]["differences"]}
    assert diffs["public.users.email"] == {
        "kind": "column", "name": "public.users.email", "change": "changed",
        "reference": {"type": "character varying(100)", "nullable": False},
        "target": {"type": "character varying(255)", "nullable": True}}
    assert diffs["public.users.balance"]["reference"] == {"default": "0"}
    assert diffs["public.users.balance"]["target"] == {"default": "1"}
    assert diffs["public.users.note"]["change"] == "missing"
    assert diffs["public.users.hotfix"]["change"] == "extra"
    assert doc["critical_tables"] == [{"name": "public.users", "status": "different"}]
    code, text, _ = cli("diff", pg.dsn(ref), pg.dsn(tgt), "--critical-table", "users")
    assert "public.users.email: type character varying(100) → character varying(255); " \
        "nullable NOT NULL → NULL" in text


def test_missing_history_table_is_a_finding(
    pg: PgServer, make_db: Callable[..., str], admin_password: str
) -> None:
    """A database without SequelizeMeta is reported as drift with a sentence, not a crash."""
    ref = make_db(scenario.SEQUELIZE_META)
    tgt = make_db("CREATE TABLE x (id int)")
    code, out, err = cli("diff", pg.dsn(ref), pg.dsn(tgt))
    assert code == 1, err
    assert "target has no migration table public.SequelizeMeta" in out
    assert "Traceback" not in out + err


def test_connection_is_read_only_and_named(
    pg: PgServer, runbook: dict[str, str], admin_password: str
) -> None:
    """driftwatch's sessions carry application_name=driftwatch and refuse writes (25006)."""
    env = Environment("uat", pg.dsn(runbook["uat"]), Secret(admin_password), "$DB_PASSWORD")
    with connect(env) as conn:
        row = conn.execute("SELECT current_setting('application_name'), "
                           "current_setting('default_transaction_read_only'), "
                           "current_setting('statement_timeout'), "
                           "current_setting('lock_timeout')").fetchone()
        assert row == ("driftwatch", "on", "30s", "5s")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE should_fail (id int)")
