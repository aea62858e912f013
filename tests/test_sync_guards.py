"""Every refusal provoked for real, the lock, the timeout and the child's environment (a stand-in tool)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from driftwatch import logs, snapshot_file
from driftwatch.cli import run
from driftwatch.config import Config, load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.pipeline import take_snapshot
from driftwatch.store import Store
from driftwatch.sync import audit, lock, preview
from tests.support.configs import write_config
from tests.support.migration_projects import fake_tool
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
DRIFTWATCH = str(Path(sys.executable).parent / "driftwatch")
DEC2 = [m.name for m in scenario.DEC2]


@pytest.fixture
def password(pg18: PgServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return pg18.password


class Setup:
    """UAT and Staging at 81 migrations, recorded once; UAT then has the four Dec 2 ones."""

    def __init__(self, pg: PgServer, tmp_path: Path, sync: str | None = "enabled = true", sleep: float = 0,
                 extra: str = "", history: bool = True) -> None:  # fmt: skip
        self.pg, self.tmp = pg, tmp_path
        self.uat, self.staging = pg.create_database("uat"), pg.create_database("staging")
        for db in (self.uat, self.staging):
            pg.execute(db, scenario.database_sql("staging"))
        self.argv, self.record = fake_tool(tmp_path / "tool", scenario.DEC2, sleep)
        sections = '[state]\nstate_dir = "state"\n'
        if sync is not None:
            sections += f'\n[sync."uat:staging"]\n{sync}\ncommand = {json.dumps(self.argv)}\n'
        self.path = write_config(tmp_path, {"uat": pg.dsn(self.uat), "staging": pg.dsn(self.staging)},
                                 sections + extra, critical="[]")  # fmt: skip
        if history:
            self.daemon_run()
        for m in scenario.DEC2:
            pg.execute(self.uat, m.up)
        pg.execute(self.uat, 'INSERT INTO "SequelizeMeta" VALUES ' + ", ".join(f"('{n}')" for n in DEC2))

    @property
    def config(self) -> Config:
        return load(self.path)

    def daemon_run(self) -> Daemon:
        with Store.open(self.config.state.state_dir) as store:
            daemon = Daemon(self.config, store)
            daemon.run("check")
            return daemon

    def sync(self, *flags: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(["sync", "--config", str(self.path), "--comparison", "uat:staging", *flags], out, err)
        return code, out.getvalue(), err.getvalue()

    def fingerprint(self, env: str) -> str:
        config = self.config
        return snapshot_file.fingerprint(take_snapshot(config.environments[env], config))

    def tool_runs(self) -> list[dict[str, object]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def audit(self) -> list[audit.SyncRun]:
        with Store.open(self.config.state.state_dir) as store:
            return audit.runs(store)


def test_disabled_apply_refuses_in_one_sentence_and_touches_nothing(
    pg18: PgServer, password: str, tmp_path: Path
) -> None:
    """No [sync] table: --apply says how to enable it; nothing connects, runs or is created."""
    s = Setup(pg18, tmp_path, sync=None, history=False)
    before = s.fingerprint("staging")
    code, out, err = s.sync("--apply")
    assert (code, out) == (1, "")
    assert err == ('driftwatch: sync is disabled for uat:staging, so nothing was changed; to allow it, '
                   'set enabled = true in a [sync."uat:staging"] table of the config\n')  # fmt: skip
    assert not (tmp_path / "state").exists()
    assert s.tool_runs() == []
    assert s.fingerprint("staging") == before
    code, out, _ = s.sync()  # the dry run works all the same
    shown = io.StringIO()
    assert preview(s.config, "uat:staging", None, shown) == code  # the demo's entry point
    assert shown.getvalue() == out
    assert "[REFUSED] enabled: sync is disabled for uat:staging" in out
    assert "  4. 20251202_04_walletid_depii.js" in out
    assert "[REFUSED] baseline: there is no history to compare staging with" in out
    assert code == 1
    assert not (tmp_path / "state").exists()


def test_hand_made_change_is_refused_with_the_difference_then_forced(
    pg18: PgServer, password: str, tmp_path: Path
) -> None:
    """A column added by hand in Staging: refused and shown; --force runs and the audit says so."""
    s = Setup(pg18, tmp_path)
    pg18.execute(s.staging, "ALTER TABLE users ADD COLUMN nickname text")
    code, out, _ = s.sync("--apply")
    assert code == 1
    assert "driftwatch: refused: staging's schema differs from uat's as of" in out
    assert "when uat had the same 81 migrations, in 1 place(s): someone changed staging by hand" in out
    assert "    public.users.nickname: only in staging" in out
    assert s.tool_runs() == []
    code, out, _ = s.sync("--apply", "--force")
    assert "overridden by --force: baseline" in out
    assert [len(s.tool_runs()), code] == [1, 1]  # ran; the hand-made column still differs: incomplete
    assert "Result: incomplete" in out
    refused, forced = s.audit()
    assert (refused.result, forced.result) == ("refused", "incomplete")
    assert forced.listed("reasons")[0].startswith("overridden by --force: staging's schema differs")


def test_extra_migration_in_target_refused_and_allow_extra_shown(
    pg18: PgServer, password: str, tmp_path: Path
) -> None:
    """A hotfix recorded only in Staging: a person decides; --allow-extra marks it overridden."""
    s = Setup(pg18, tmp_path)
    pg18.execute(s.staging, """INSERT INTO "SequelizeMeta" VALUES ('20251201_99_hotfix.js')""")
    code, out, _ = s.sync("--apply")
    assert code == 1
    assert "refused: staging has 1 migration(s) uat never had (20251201_99_hotfix.js): a hotfix" in out
    _, out, _ = s.sync("--dry-run", "--allow-extra")
    assert "[overridden] extra:" in out
    assert s.tool_runs() == []


def test_failed_migration_in_target_refused(pg18: PgServer, password: str, tmp_path: Path) -> None:
    """golang-migrate's dirty flag in Staging: repaired by a person first."""
    table = "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);"
    s = Setup(pg18, tmp_path, extra='\n[migrations]\ntool = "golang-migrate"\n', history=False)
    pg18.execute(s.uat, table + "INSERT INTO schema_migrations VALUES (5, false)")
    pg18.execute(s.staging, table + "INSERT INTO schema_migrations VALUES (3, true)")
    code, out, _ = s.sync("--apply")
    assert code == 1
    assert "refused: staging has a failed or dirty migration (3); a person repairs it first" in out
    assert s.tool_runs() == []


def test_nothing_to_do_and_wrong_direction(pg18: PgServer, password: str, tmp_path: Path) -> None:
    """In sync: nothing to do (exit 0). A cycle back to UAT, or an unconfigured direction: refused."""
    s = Setup(pg18, tmp_path)
    for m in scenario.DEC2:
        pg18.execute(s.staging, m.up)
    pg18.execute(s.staging, 'INSERT INTO "SequelizeMeta" VALUES ' + ", ".join(f"('{n}')" for n in DEC2))
    assert s.sync("--apply")[:2] == (0, "Nothing to do: staging already has every migration uat has.\n")
    assert [r.result for r in s.audit()] == ["nothing_to_do"]
    code, out, _ = s.sync("--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["comparison"], doc["missing"], doc["nothing_to_do"]) == ("uat:staging", [], True)

    code, _, err = run_cli(s.path, "production:staging")
    assert code == 2
    assert "no comparison production:staging in the config (configured: uat:staging)" in err
    s.path.write_text(s.path.read_text() + '\n[[comparisons]]\nreference = "staging"\ntarget = "uat"\n')
    newer = "20251203_01_add_users_preferred_language.js"
    pg18.execute(s.uat, f"""INSERT INTO "SequelizeMeta" VALUES ('{newer}')""")
    code, out, _ = s.sync("--apply")
    assert code == 1
    assert "refused: staging is itself upstream of uat (staging → uat)" in out
    assert s.tool_runs() == []


def run_cli(path: Path, comparison: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["sync", "--config", str(path), "--comparison", comparison, "--apply"], out, err)
    return code, out.getvalue(), err.getvalue()


def test_lock_session_is_read_only_and_refuses_a_second_sync(
    pg18: PgServer, password: str, tmp_path: Path
) -> None:
    """pg_try_advisory_lock works in the read-only driftwatch-sync session; a held lock refuses."""
    s = Setup(pg18, tmp_path, history=False)
    target = s.config.environments["staging"]
    with lock.session(target) as first, lock.session(target) as second:
        assert first.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert lock.try_lock(first)
        pid = first.info.backend_pid
        assert not lock.try_lock(second)
        holder = lock.holder(second)
        assert holder is not None
        assert holder.startswith(f"pid {pid}, driftwatch-sync, dw_admin, since ")
        code, out, _ = s.sync("--apply", "--force")
    assert code == 1
    assert f"refused: another sync of staging is running (pid {pid}, driftwatch-sync" in out
    assert s.tool_runs() == []


def test_two_syncs_at_once_one_runs_one_refuses(pg18: PgServer, password: str, tmp_path: Path) -> None:
    """Two `driftwatch sync --apply` processes started together: the tool runs once."""
    s = Setup(pg18, tmp_path, sleep=2)
    argv = [DRIFTWATCH, "sync", "--config", str(s.path), "--comparison", "uat:staging", "--apply"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    results = sorted((p.wait(60), p.communicate()[0]) for p in procs)
    assert [code for code, _ in results] == [0, 1]
    assert "Result: applied" in results[0][1]
    assert "refused: another sync of staging is running" in results[1][1]
    assert len(s.tool_runs()) == 1


def test_timeout_kills_the_tool_and_is_reported(pg18: PgServer, password: str, tmp_path: Path) -> None:
    """A tool still running at `timeout` is stopped with its process group; nothing applied."""
    s = Setup(pg18, tmp_path, sync="enabled = true\ntimeout = 1", sleep=60)
    code, out, _ = s.sync("--apply")
    assert code == 1
    assert "timed out and was stopped" in out
    assert "Re-check: 0 of 4 migrations applied" in out
    assert "Result: timeout" in out
    (started,) = s.tool_runs()
    with pytest.raises(ProcessLookupError):
        os.kill(int(str(started["pid"])), 0)
    assert [r.result for r in s.audit()] == ["timeout"]


def test_auto_sync_gives_the_tool_the_target_only(pg18: PgServer, password: str, tmp_path: Path) -> None:
    """The daemon syncs by itself (enabled and auto): env holds Staging alone, logs hold no password."""
    s = Setup(pg18, tmp_path, sync="enabled = true\nauto = true")
    uat_before = s.fingerprint("uat")
    stream = io.StringIO()
    logs.configure("json", "info", stream)
    try:
        daemon = s.daemon_run()
    finally:
        logs.configure("console", "warning", io.StringIO())
    (call,) = s.tool_runs()
    env, argv = call["env"], call["argv"]
    assert isinstance(env, dict)
    assert isinstance(argv, list)
    assert env["PGDATABASE"] == s.staging
    assert env["DATABASE_URL"] == f"postgresql://dw_admin:{password}@127.0.0.1:{pg18.port}/{s.staging}"
    assert env["PGPASSWORD"] == password
    assert "DB_PASSWORD" not in env
    assert not any(s.uat in str(v) for v in env.values())
    assert password not in json.dumps(argv)
    (row,) = s.audit()
    assert (row.actor, row.result) == ("daemon (auto)", "applied")
    assert daemon.state().comparisons["uat:staging"].in_sync is True
    assert daemon.state().sync_runs[("uat", "staging", "applied")] == 1
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert "== 20251202_04_walletid_depii.js: migrated" in [e.get("line") for e in events]
    assert password not in stream.getvalue() + row.output
    assert s.fingerprint("uat") == uat_before
    with psycopg.connect(s.pg.dsn(s.uat), password=password) as conn:  # the reference's own record
        assert conn.execute('SELECT count(*) FROM "SequelizeMeta"').fetchone() == (85,)
