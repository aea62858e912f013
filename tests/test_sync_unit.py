"""Sync without a database: the [sync] config, the child's environment, redaction, the pure plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from driftwatch import diff
from driftwatch.config import Comparison, ConfigError, Environment, load, parse
from driftwatch.metrics import registry
from driftwatch.model import AppliedMigration, MigrationHistory, Snapshot
from driftwatch.objects import Table
from driftwatch.secrets import Secret
from driftwatch.state import State
from driftwatch.sync import plan, render
from driftwatch.sync.run import child_environment, connection_environment, redactor
from driftwatch.sync.settings import SyncSettings

T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)


def config_data(sync: dict[str, Any], tool: str = "sequelize") -> dict[str, Any]:
    return {"environments": {"uat": {"dsn": "postgresql://app@db/uat"},
                             "staging": {"dsn": "postgresql://app@db/staging"}},
            "comparisons": [{"reference": "uat", "target": "staging"}],
            "migrations": {"tool": tool}, "sync": sync}  # fmt: skip


class TestConfig:
    """The `[sync."REF:TARGET"]` tables."""

    def test_absent_means_disabled_with_the_tools_command(self, tmp_path: Path) -> None:
        """No table: disabled, the tool's own command, the config's folder."""
        config = parse(config_data({}), tmp_path / "driftwatch.toml", {})
        settings = config.sync_for("uat:staging")
        assert (settings.enabled, settings.auto) == (False, False)
        assert settings.command == ("npx", "sequelize-cli", "db:migrate")
        assert settings.workdir == tmp_path

    def test_the_example_ships_with_sync_disabled(self) -> None:
        config = load(Path(__file__).resolve().parent.parent / "config.example.toml",
                      {"DB_PASSWORD": "a", "PROD_DB_PASSWORD": "b"})  # fmt: skip
        settings = config.sync_for("uat:staging")
        assert (settings.enabled, settings.auto) == (False, False)

    def test_golang_migrate_default_runs_in_a_shell(self) -> None:
        """Its documented command names $DATABASE_URL, which only a shell expands."""
        config = parse(config_data({}, "golang-migrate"), None, {})
        assert config.sync_for("uat:staging").command[:2] == ("sh", "-c")

    def test_every_problem_is_located(self, tmp_path: Path) -> None:
        """Unknown comparison, unknown key, auto alone, bad workdir, timeout, command: all at once."""
        sync = {"production:staging": {"enabled": True},
                "uat:staging": {"auto": True, "workdir": "nowhere", "timeout": 0, "command": [1], "x": 1}}
        with pytest.raises(ConfigError) as e:
            parse(config_data(sync), tmp_path / "driftwatch.toml", {})
        text = "\n".join(e.value.problems)
        assert 'sync."production:staging": names no configured comparison (configured: uat:staging)' in text
        assert 'sync."uat:staging".x: unknown key' in text
        assert 'sync."uat:staging".auto: auto = true needs enabled = true as well' in text
        assert f'sync."uat:staging".workdir: {tmp_path / "nowhere"} is not a directory' in text
        assert 'sync."uat:staging".timeout: must be a positive number of seconds' in text
        assert 'sync."uat:staging".command: expected a non-empty list of strings' in text

    def test_command_string_is_split_like_a_shell(self, tmp_path: Path) -> None:
        """A string command becomes argv; no shell runs it."""
        command = "npx sequelize-cli db:migrate --to '{last}'"
        data = config_data({"uat:staging": {"enabled": True, "command": command}})
        settings = parse(data, tmp_path / "c.toml", {}).sync_for("uat:staging")
        assert settings.command == ("npx", "sequelize-cli", "db:migrate", "--to", "{last}")
        assert plan.expand(settings.command, ("a.js", "b.js"))[-1] == "b.js"


class TestChildEnvironment:
    """What the migration tool is given."""

    def test_target_connection_with_an_encoded_password(self) -> None:
        """DATABASE_URL carries the password percent-encoded; PG* carry it as is."""
        env = Environment("staging", "postgresql://app@db.internal:5433/staging", Secret("p@ss:w/rd"),
                          sslmode="require")  # fmt: skip
        values = connection_environment(env)
        url = "postgresql://app:p%40ss%3Aw%2Frd@db.internal:5433/staging?sslmode=require"
        assert values["DATABASE_URL"] == url
        assert (values["PGHOST"], values["PGPORT"], values["PGUSER"], values["PGDATABASE"],
                values["PGPASSWORD"], values["PGSSLMODE"]) == ("db.internal", "5433", "app", "staging",
                                                               "p@ss:w/rd", "require")  # fmt: skip

    def test_socket_host_goes_in_the_query(self) -> None:
        env = Environment("staging", "host=/run/postgresql dbname=staging user=app")
        assert connection_environment(env)["DATABASE_URL"] == "postgresql://app@:5432/staging?host=/run/postgresql"

    def test_inherited_libpq_and_password_variables_are_dropped(self) -> None:
        """The caller's PGPASSWORD, DATABASE_URL and every environment's password variable never pass."""
        base = {"PATH": "/bin", "PGPASSWORD": "uat-secret", "PGSERVICE": "uat",
                "DATABASE_URL": "postgresql://uat", "UAT_PASSWORD": "uat-secret",
                "HOME": "/root"}  # fmt: skip
        env = child_environment(Environment("staging", "postgresql://app@db/staging", Secret("s")), base,
                                ["UAT_PASSWORD"])  # fmt: skip
        assert "uat-secret" not in str(env)
        assert "PGSERVICE" not in env
        assert (env["PATH"], env["HOME"], env["PGPASSWORD"]) == ("/bin", "/root", "s")

    def test_redactor_masks_plain_and_encoded_passwords(self) -> None:
        redact = redactor(["p@ss:w/rd"])
        line = "connect postgresql://app:p%40ss%3Aw%2Frd@db/x failed; PGPASSWORD=p@ss:w/rd password=abc"
        masked = "connect postgresql://app:********@db/x failed; PGPASSWORD=******** password=********"
        assert redact(line) == masked


def snapshot(env: str, ids: tuple[str, ...], tables: tuple[str, ...], tool: str = "sequelize") -> Snapshot:
    objects = {"table": {f"public.{t}": Table("public", t) for t in tables}}
    history = MigrationHistory(tool, 'public."SequelizeMeta"', True, tuple(AppliedMigration(i) for i in ids),
                               head_only=tool == "alembic")  # fmt: skip
    return Snapshot(env, env, "18.0", T0, objects, history)


def facts(ref: Snapshot, tgt: Snapshot, baseline: Snapshot | None, **kw: Any) -> plan.Facts:
    comparison = kw.pop("comparison", Comparison("uat", "staging"))
    comparisons = kw.pop("comparisons", (comparison, Comparison("staging", "production")))
    settings = SyncSettings(comparison.name, enabled=kw.pop("enabled", True), command=("migrate",))
    base = plan.Baseline(baseline, "fp", "uat's as of then") if baseline else None
    return plan.Facts(comparison, settings, comparisons, diff.compare(ref, tgt), tgt, "app@db/staging", base,
                      kw.pop("history", "history.db"), **kw)  # fmt: skip


def test_sync_runs_counter_is_exposed() -> None:
    """driftwatch_sync_runs_total{reference,target,result} from the state's counts."""
    state = State.initial(["uat", "staging"], [("uat", "staging")])
    state = replace(state, sync_runs={("uat", "staging", "applied"): 2, ("uat", "staging", "failed"): 0})
    text = generate_latest(registry(lambda: state)).decode()
    assert 'driftwatch_sync_runs_total{reference="uat",result="applied",target="staging"} 2.0' in text
    assert 'driftwatch_sync_runs_total{reference="uat",result="failed",target="staging"} 0.0' in text


class TestPlan:
    """Preconditions decided from data alone."""

    def test_dec2_shape_holds_everywhere(self) -> None:
        """Behind by two, same schema as the reference had then, lock free: --apply may run."""
        then = snapshot("uat", ("1", "2"), ("users",))
        p = plan.build(facts(snapshot("uat", ("1", "2", "3", "4"), ("users", "wallets")),
                             snapshot("staging", ("1", "2"), ("users",)), then), plan.Options())  # fmt: skip
        assert p.missing == ("3", "4")
        assert p.may_apply
        assert "--apply would run the command against staging" in render.dry_run(p)

    def test_hand_change_refused_and_forced(self) -> None:
        then = snapshot("uat", ("1",), ("users",))
        now = snapshot("uat", ("1", "2"), ("users",))
        f = facts(now, snapshot("staging", ("1",), ("users", "tmp")), then)
        (refusal,) = plan.build(f, plan.Options()).refusals
        assert refusal.name == "baseline"
        assert refusal.details == ("public.tmp: only in staging",)
        assert plan.build(f, plan.Options(force=True)).may_apply

    def test_cycle_refused_but_the_chain_is_fine(self) -> None:
        """uat → staging → production is the flow; staging → uat as well makes a cycle."""
        ref, tgt = snapshot("uat", ("1", "2"), ()), snapshot("staging", ("1",), ())
        ok = plan.build(facts(ref, tgt, snapshot("uat", ("1",), ())), plan.Options())
        assert ok.may_apply
        cycle = (Comparison("uat", "staging"), Comparison("staging", "production"),
                 Comparison("production", "uat"))  # fmt: skip
        bad = plan.build(facts(ref, tgt, snapshot("uat", ("1",), ()), comparisons=cycle), plan.Options())
        assert [c.name for c in bad.refusals] == ["direction"]
        assert "(staging → production → uat)" in bad.refusals[0].reason

    def test_alembic_head_seen_in_reference_is_not_extra(self) -> None:
        """A head-only tool: staging's head b is behind when uat was once at b."""
        ref, tgt = snapshot("uat", ("d",), (), "alembic"), snapshot("staging", ("b",), (), "alembic")
        base = snapshot("uat", ("b",), (), "alembic")
        seen = frozenset({"b", "d"})
        assert plan.build(facts(ref, tgt, base, reference_seen=seen), plan.Options()).may_apply
        unknown = plan.build(facts(ref, tgt, base), plan.Options())
        assert [c.name for c in unknown.refusals] == ["extra"]

    def test_disabled_is_a_refusal_the_dry_run_explains(self) -> None:
        ref, tgt = snapshot("uat", ("1", "2"), ()), snapshot("staging", ("1",), ())
        p = plan.build(facts(ref, tgt, snapshot("uat", ("1",), ()), enabled=False), plan.Options())
        assert [c.name for c in p.refusals] == ["enabled"]
        assert "Verdict: the preconditions hold, but sync is disabled" in render.dry_run(p)
