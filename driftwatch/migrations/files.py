"""Migration ids that the files in a migrations directory stand for, in the tool's own order."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from driftwatch.migrations.adapters import text_key, version_key
from driftwatch.migrations.settings import MigrationSettings

Lister = Callable[[Path], tuple[str, ...]]

# What sequelize-cli, knex and node-pg-migrate load by default; `.d.ts` files are types only.
SCRIPT_SUFFIXES = (".js", ".cjs", ".mjs", ".ts", ".cts")

FLYWAY_VERSIONED = re.compile(r"V(?P<version>.+?)__.*\.sql")
FLYWAY_REPEATABLE = re.compile(r"R__(?P<description>.*)\.sql")


def _files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.is_file()]


def _scripts(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted((p for p in _files(directory)
                   if p.suffix in suffixes and not p.name.endswith(".d.ts")),
                  key=lambda p: text_key(p.name))  # fmt: skip


def _file_names(directory: Path) -> tuple[str, ...]:
    """Sequelize and knex record the full file name, extension included."""
    return tuple(p.name for p in _scripts(directory, SCRIPT_SUFFIXES))


def _stems(directory: Path) -> tuple[str, ...]:
    """node-pg-migrate records the file name without its extension."""
    return tuple(p.stem for p in _scripts(directory, (*SCRIPT_SUFFIXES, ".sql")))


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _versions(pattern: str, as_integer: bool) -> Lister:
    """Leading digits of matching file names; tools that parse them as integers drop zeros."""
    regex = re.compile(pattern)

    def lister(directory: Path) -> tuple[str, ...]:
        found = []
        for path in _files(directory):
            match = regex.fullmatch(path.name)
            if match:
                digits = match.group(1)
                found.append(str(int(digits)) if as_integer else digits)
        return _unique(sorted(found, key=version_key))

    return lister


def _flyway_version_key(version: str) -> tuple[tuple[int, ...], str]:
    # Flyway compares versions part by part as numbers, and 1.0 equals 1.
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts), version


def _flyway(directory: Path) -> tuple[str, ...]:
    """Versioned migrations by version, then repeatables (by description), as Flyway runs them.

    Flyway records a versioned file by its version (`V1_2__x.sql` is "1.2") and a repeatable
    one by its script path relative to the location, which Flyway scans recursively.
    """
    versions: list[str] = []
    repeatables: list[tuple[str, str]] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if match := FLYWAY_VERSIONED.fullmatch(path.name):
            versions.append(match["version"].replace("_", "."))
        elif match := FLYWAY_REPEATABLE.fullmatch(path.name):
            repeatables.append((match["description"], path.relative_to(directory).as_posix()))
    ordered = sorted(versions, key=_flyway_version_key)
    return _unique([*ordered, *(script for _, script in sorted(repeatables))])


def _prisma(directory: Path) -> tuple[str, ...]:
    """Each migration is a sub-directory holding migration.sql; its name is the id."""
    return tuple(sorted((p.name for p in directory.iterdir()
                         if (p / "migration.sql").is_file()), key=text_key))  # fmt: skip


LISTERS: dict[str, Lister] = {
    "sequelize": _file_names,
    "knex": _file_names,
    "node-pg-migrate": _stems,
    "flyway": _flyway,
    "rails": _versions(r"(\d+)_.+\.rb", as_integer=True),
    "dbmate": _versions(r"(\d+)_.*\.sql", as_integer=False),
    "golang-migrate": _versions(r"(\d+)_.*\.up\.[^.]+", as_integer=True),
    "goose": _versions(r"(\d+)_(?:.*\.sql|.*(?<!_test)\.go)", as_integer=True),
    "prisma": _prisma,
}


def list_files(settings: MigrationSettings) -> tuple[str, ...] | None:
    """The migration ids the files in settings.directory stand for, in the tool's order.

    None when no directory is configured, and for tools whose ids cannot be read off file
    names: alembic (revision ids live inside the files), django (ids are `app.name` across
    many apps), liquibase (changesets inside changelogs), typeorm (class names) and custom.
    A directory that does not exist raises FileNotFoundError.
    """
    if settings.directory is None:
        return None
    directory = settings.directory
    if not directory.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(directory))
    if not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    lister = LISTERS.get(settings.tool)
    return None if lister is None else lister(directory)
