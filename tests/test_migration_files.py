"""list_files: the migration ids a directory of migration files stands for, per tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.migrations import MigrationSettings, list_files


def populate(directory: Path, *names: str) -> Path:
    """Create empty files (and their sub-directories) under `directory`."""
    for name in names:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("-- migration\n")
    return directory


def files_for(tool: str, directory: Path) -> tuple[str, ...] | None:
    """list_files for `tool` pointed at `directory`."""
    return list_files(MigrationSettings(tool, directory=directory))


def test_no_directory_configured() -> None:
    """Without a directory there is nothing to list."""
    assert list_files(MigrationSettings("sequelize")) is None


def test_missing_directory_raises(tmp_path: Path) -> None:
    """A directory that does not exist is FileNotFoundError, whatever the tool."""
    for tool in ("sequelize", "alembic"):
        with pytest.raises(FileNotFoundError):
            files_for(tool, tmp_path / "nope")


def test_sequelize_full_file_names(tmp_path: Path) -> None:
    """Sequelize ids are the full script file names, sorted; other files and .d.ts are skipped."""
    populate(tmp_path, "20240102-add-orders.js", "20240101-create-users.cjs",
             "20240103-index.ts", "types.d.ts", "README.md", "20240104-x.mjs")  # fmt: skip
    (tmp_path / "helpers").mkdir()
    assert files_for("sequelize", tmp_path) == (
        "20240101-create-users.cjs", "20240102-add-orders.js", "20240103-index.ts",
        "20240104-x.mjs",
    )  # fmt: skip


def test_knex_full_file_names(tmp_path: Path) -> None:
    """knex records file names with their extension, like Sequelize."""
    populate(tmp_path, "20240102_b.ts", "20240101_a.js")
    assert files_for("knex", tmp_path) == ("20240101_a.js", "20240102_b.ts")


def test_node_pg_migrate_names_without_extension(tmp_path: Path) -> None:
    """node-pg-migrate records the file name without its extension; .sql files count too."""
    populate(tmp_path, "1704200000000_add-orders.sql", "1704100000000_create-users.js")
    assert files_for("node-pg-migrate", tmp_path) == (
        "1704100000000_create-users", "1704200000000_add-orders")  # fmt: skip


def test_flyway_versions_then_repeatables(tmp_path: Path) -> None:
    """V1_2__x.sql is version 1.2, versions sort numerically, repeatables follow by script name."""
    populate(tmp_path, "V1_2__add_orders.sql", "V1_10__later.sql", "V1_1__create_users.sql",
             "R__views.sql", "nested/V2__backfill.sql", "nested/R__functions.sql",
             "U1_2__undo_orders.sql", "notes.txt")  # fmt: skip
    assert files_for("flyway", tmp_path) == (
        "1.1", "1.2", "1.10", "2", "nested/R__functions.sql", "R__views.sql")  # fmt: skip


def test_rails_versions(tmp_path: Path) -> None:
    """Rails ids are the leading digits, as integers (no leading zeros), in numeric order."""
    populate(tmp_path, "20240301120000_add_orders.rb", "20231115093000_create_users.rb",
             "002_legacy.rb", "schema.rb")  # fmt: skip
    assert files_for("rails", tmp_path) == ("2", "20231115093000", "20240301120000")


def test_dbmate_versions(tmp_path: Path) -> None:
    """dbmate ids are the leading digits of .sql files, kept as written."""
    populate(tmp_path, "20240201000000_b.sql", "20240101000000_a.sql", "schema.sql")
    assert files_for("dbmate", tmp_path) == ("20240101000000", "20240201000000")


def test_golang_migrate_counts_up_files_once(tmp_path: Path) -> None:
    """Each golang-migrate version has an up and a down file; it is one migration."""
    populate(tmp_path, "000001_create_users.up.sql", "000001_create_users.down.sql",
             "000002_add_orders.up.sql", "000002_add_orders.down.sql")  # fmt: skip
    assert files_for("golang-migrate", tmp_path) == ("1", "2")


def test_goose_sql_and_go_files(tmp_path: Path) -> None:
    """goose ids are the leading numbers of .sql and .go migrations; Go tests are not migrations."""
    populate(tmp_path, "00002_rename_root.go", "00001_create_users.sql",
             "00003_backfill.go", "migrations_test.go", "00004_x_test.go")  # fmt: skip
    assert files_for("goose", tmp_path) == ("1", "2", "3")


def test_prisma_migration_directories(tmp_path: Path) -> None:
    """Prisma ids are the sub-directories holding a migration.sql."""
    populate(tmp_path, "20240102120000_add_posts/migration.sql",
             "20240101120000_init/migration.sql", "migration_lock.toml",
             "draft/notes.md")  # fmt: skip
    assert files_for("prisma", tmp_path) == ("20240101120000_init", "20240102120000_add_posts")


@pytest.mark.parametrize("tool", ["alembic", "django", "liquibase", "typeorm", "custom"])
def test_tools_without_file_ids(tool: str, tmp_path: Path) -> None:
    """Tools whose ids live inside the files (or across apps) list nothing."""
    populate(tmp_path, "1975ea83b712_create_users.py", "0001_initial.py")
    assert files_for(tool, tmp_path) is None
