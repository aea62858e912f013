"""Opening the history file: refuse foreign or damaged files, bring the schema to the newest version."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from driftwatch.errors import UserError

# "DWH1" in the file header: a SQLite file some other program wrote is refused, never altered.
APPLICATION_ID = 0x44574831
BUSY_TIMEOUT_SECONDS = 5.0
# A big snapshot can swell the WAL; after each checkpoint it is cut back to this size.
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class StoreError(UserError):
    """The history database cannot be used; the message names the file and the fix."""


def _migrations() -> list[str]:
    """The schema scripts; version N is item N - 1."""
    text = (resources.files("driftwatch") / "store_schema.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- version (\d+)$", text, flags=re.MULTILINE)[1:]
    numbers, scripts = [int(n) for n in parts[0::2]], parts[1::2]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"store_schema.sql: versions {numbers} are not 1, 2, 3, ...")
    return scripts


def _statements(script: str) -> Iterator[str]:
    # Statement by statement, because executescript() would commit the migration's transaction.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""


def damaged(path: Path, detail: str) -> StoreError:
    return StoreError(f"{path} is damaged ({detail}); restore it from a backup, "
                      "or move it aside to start a new history")  # fmt: skip


def _not_ours(path: Path, detail: str) -> StoreError:
    return StoreError(f"{path} is not a driftwatch history database ({detail}); "
                      "move it aside or point state_dir elsewhere")  # fmt: skip


def write_failure(state_dir: Path, error: StoreError) -> str:
    """One sentence for a run whose results the history could not take, with the fix."""
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorname", "") == "SQLITE_FULL":
        return (f"this run's results could not be written to the history: {state_dir} is full "
                f"({cause}); free space in {state_dir}. The next run reads the databases again and "
                "records normally once there is room")  # fmt: skip
    return (f"this run's results could not be written to the history ({error}); make {state_dir} "
            "writable again. The next run reads the databases again and records normally")  # fmt: skip


def open_error(path: Path, e: sqlite3.Error) -> StoreError:
    name = getattr(e, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return _not_ours(path, str(e))
    if name.startswith("SQLITE_CORRUPT"):
        return damaged(path, str(e))
    return StoreError(f"cannot open {path} ({e}); check that state_dir is a writable directory "
                      "and that no other process holds the database locked")  # fmt: skip


def _schema_version(conn: sqlite3.Connection, path: Path, known: int) -> int:
    """The file's schema version; 0 for a new empty file, which this call marks as ours."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if not tables and app_id == 0:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return 0
    if app_id != APPLICATION_ID or "meta" not in tables:
        raise _not_ours(path, "it holds other data")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise damaged(path, "it records no schema version")
    if int(row[0]) > known:
        raise StoreError(f"{path} was written by a newer driftwatch (schema {row[0]}, this one knows "
                         f"{known}); upgrade driftwatch or point state_dir elsewhere")  # fmt: skip
    return int(row[0])


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    # One IMMEDIATE transaction: two processes opening a new file at once cannot both build it,
    # and a crash halfway leaves the previous version whole.
    scripts = _migrations()
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _schema_version(conn, path, len(scripts))
        for script in scripts[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        if version < len(scripts):
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(len(scripts)),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
        # NORMAL in WAL mode: a killed process loses nothing committed; a power cut may drop the
        # last transactions, but the file stays consistent either way.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise damaged(path, "; ".join(problems[:3]))
        _migrate(conn, path)
    except sqlite3.Error as e:
        raise open_error(path, e) from e
