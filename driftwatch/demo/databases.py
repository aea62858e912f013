"""The demo's world: the runbook's three databases on one server, a migrations folder, a config file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from driftwatch.demo import scenario
from driftwatch.demo.postgres import DemoServer

ENVIRONMENTS = ("uat", "staging", "production")
MONITOR = "driftwatch"  # the least-privilege role the demo's config connects as


@dataclass(frozen=True, slots=True)
class World:
    """What the demo built: where its config, migrations and history live."""

    root: Path
    config: Path
    password_file: Path
    migrations: Path
    state_dir: Path
    metrics_port: int


def create_databases(server: DemoServer, monitor_password: str) -> None:
    """uat, staging and production as they were on the morning of Dec 2, and a read-only role.

    UAT starts where Staging is (81 migrations); `deploy_dec2` then gives it the day's four.
    """
    server.execute("postgres", sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(MONITOR), sql.Literal(monitor_password)).as_string())  # fmt: skip
    for env in ENVIRONMENTS:
        server.execute("postgres", f'CREATE DATABASE "{env}"')
        # One transaction per database: a half-built environment would tell a wrong story.
        morning = "staging" if env == "uat" else env
        server.execute(env, scenario.database_sql(morning), autocommit=False)
        # What driftwatch needs beyond the catalogs, which every role may read.
        server.execute(env, f'GRANT SELECT ON "SequelizeMeta" TO "{MONITOR}"')


def deploy_dec2(server: DemoServer) -> None:
    """The runbook's Dec 2: the four E.164 migrations reach UAT (and nowhere else)."""
    server.execute("uat", scenario.migrate_sql(scenario.DEC2), autocommit=False)


def write_migrations(folder: Path) -> None:
    """The project's migrations folder: one file per migration, five not applied anywhere yet."""
    folder.mkdir(parents=True, exist_ok=True)
    bodies = {m.name: m.up for m in scenario.migrations()}
    for name in scenario.migration_files():
        body = bodies.get(name, "-- not applied anywhere yet")
        (folder / name).write_text(f"// {name}\n/* up:\n{body}\n*/\nmodule.exports = {{}};\n")


def _environment(server: DemoServer, env: str, password_file: Path) -> str:
    return (f"[environments.{env}]\n"
            f'dsn = "{server.dsn(env, MONITOR)}"\n'
            f'password_file = "{password_file}"\n'
            'sslmode = "disable"\n')  # fmt: skip


def _comparison(reference: str, target: str) -> str:
    tables = ", ".join(f'"{t}"' for t in scenario.CRITICAL_TABLES)
    return f'[[comparisons]]\nreference = "{reference}"\ntarget = "{target}"\ncritical_tables = [{tables}]\n'


def write_config(world: World, server: DemoServer) -> None:
    """A config like config.example.toml, pointed at the demo's server (no secret in it)."""
    parts = [
        "# Written by `driftwatch demo`: the runbook's environments on an embedded PostgreSQL 18.\n",
        *(_environment(server, env, world.password_file) for env in ENVIRONMENTS),
        _comparison("uat", "staging"),
        _comparison("staging", "production"),
        f'[migrations]\ntool = "sequelize"\ndirectory = "{world.migrations}"\n',
        # Every minute rather than hourly, so that a change made while --serve runs shows soon.
        '[schedule]\ncheck = "* * * * *"\ntimezone = "UTC"\nrun_on_start = false\n',
        f'[metrics]\nlisten = "127.0.0.1:{world.metrics_port}"\n',
        f'[state]\nstate_dir = "{world.state_dir}"\n',
        # Present but disabled, as a team would start: the dry run works, --apply refuses.
        f'[sync."uat:staging"]\nenabled = false\nworkdir = "{world.root}"\n',
    ]
    world.config.write_text("\n".join(parts))
