"""Migration projects for the sync tests: Sequelize (sequelize-cli from npm), Alembic, a stand-in tool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

from driftwatch.demo.scenario import Migration

NPM_PACKAGES = ("sequelize-cli@6", "sequelize@6", "pg@8")


def node_tools() -> tuple[str, str] | None:
    """(node, npm) on PATH, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    return (node, npm) if node and npm else None


def install_sequelize(folder: Path) -> Path:
    """npm install sequelize-cli, sequelize and pg into `folder`; returns its node_modules."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text('{"name": "dw-sync-test", "private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NPM_PACKAGES],
                   cwd=folder, check=True, capture_output=True, timeout=300)  # fmt: skip
    return folder / "node_modules"


def _migration_js(sql: str) -> str:
    # Each migration runs its SQL as written in the scenario: the same objects UAT got.
    return textwrap.dedent(f"""\
        'use strict';
        module.exports = {{
          async up(queryInterface) {{
            await queryInterface.sequelize.query({json.dumps(sql)});
          }},
          async down() {{
            throw new Error('irreversible');
          }},
        }};
        """)


def sequelize_project(root: Path, node_modules: Path, migrations: Iterable[Migration]) -> Path:
    """A Sequelize project whose config reads DATABASE_URL, with one file per migration."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "node_modules").symlink_to(node_modules)
    (root / "config").mkdir()
    config = {"development": {"use_env_variable": "DATABASE_URL", "dialect": "postgres", "logging": False}}
    (root / "config" / "config.json").write_text(json.dumps(config, indent=2))
    (root / "migrations").mkdir()
    for m in migrations:
        (root / "migrations" / m.name).write_text(_migration_js(m.up))
    return root


ALEMBIC_ENV = '''\
"""Alembic's env.py for the sync test: the database comes from DATABASE_URL, as driftwatch gives it."""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

fileConfig(context.config.config_file_name)  # alembic's "Running upgrade ..." lines, as usual
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

ALEMBIC_INI = """[alembic]
script_location = .

[loggers]
keys = root,alembic
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[logger_alembic]
level = INFO
handlers =
qualname = alembic
[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = generic
[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

REVISION = '''\
"""{rev}"""
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.execute({sql!r})


def downgrade():
    raise NotImplementedError
'''


def alembic_project(root: Path, revisions: Sequence[tuple[str, str]]) -> Path:
    """An Alembic project: (revision id, SQL) in order, each revising the one before."""
    (root / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "env.py").write_text(ALEMBIC_ENV)
    (root / "script.py.mako").write_text("")
    down = None
    for rev, sql in revisions:
        (root / "versions" / f"{rev}.py").write_text(REVISION.format(rev=rev, down=down, sql=sql))
        down = rev
    return root


def alembic_bin() -> str:
    """The alembic console script of the running interpreter's environment."""
    return str(Path(sys.executable).parent / "alembic")


def run_alembic(project: Path, database_url: str, revision: str) -> None:
    """`alembic upgrade REVISION` against `database_url` (test setup of the reference side)."""
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([alembic_bin(), "upgrade", revision], cwd=project, env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


# A stand-in migration tool: records what it was given, sleeps if told, then applies the
# scenario's Dec 2 migrations through the PG* variables it received, as sequelize-cli would.
FAKE_TOOL = '''\
import json, os, sys, time
import psycopg

record_file, migrations_file, sleep = sys.argv[1:4]
record = {"argv": sys.argv, "env": dict(os.environ), "pid": os.getpid()}
with open(record_file, "a") as f:
    f.write(json.dumps(record) + "\\n")
time.sleep(float(sleep))
migrations = json.loads(open(migrations_file).read())
with psycopg.connect(autocommit=True) as conn:  # libpq reads PGHOST, PGPASSWORD, ...
    for name, sql in migrations:
        print(f"== {name}: migrating", flush=True)
        conn.execute(sql.encode())
        conn.execute('INSERT INTO "SequelizeMeta" (name) VALUES (%s)', [name])
        print(f"== {name}: migrated", flush=True)
'''


def fake_tool(root: Path, migrations: Iterable[Migration], sleep: float = 0) -> tuple[list[str], Path]:
    """(argv, record file) of the stand-in tool in `root`."""
    root.mkdir(parents=True, exist_ok=True)
    script, data, record = root / "fake_migrate.py", root / "migrations.json", root / "record.jsonl"
    script.write_text(FAKE_TOOL)
    data.write_text(json.dumps([[m.name, m.up] for m in migrations]))
    return [sys.executable, str(script), str(record), str(data), str(sleep)], record
