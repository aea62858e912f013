"""Snapshot files: round trips, determinism, the fingerprint, and the CLI commands that use them."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftwatch import pipeline, snapshot_file
from driftwatch.cli import run
from driftwatch.config import Config, Environment, SchemaSettings
from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import AppliedMigration, Column, MigrationHistory, Snapshot, Table
from driftwatch.secrets import Secret
from driftwatch.snapshot_file import SnapshotFileError
from tests.support.pgserver import PgServer, free_port
from tests.test_migrations_adapters import FLYWAY_DDL, FLYWAY_ROWS

MakeDb = Callable[..., str]

SCHEMA = """
CREATE TABLE "SequelizeMeta" (name varchar(255) NOT NULL PRIMARY KEY);
INSERT INTO "SequelizeMeta" VALUES ('20251201-create-users.js'), ('20251202-wallets.js');
CREATE TABLE users (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE,
    balance numeric(18,2) DEFAULT 0, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE wallets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id int NOT NULL REFERENCES users, label text COLLATE "C", note text);
CREATE INDEX wallets_user_idx ON wallets (user_id);
"""


def take(server: PgServer, db: str, name: str = "uat", tool: str = "sequelize") -> Snapshot:
    """A live snapshot of `db`, as `driftwatch snapshot` takes it."""
    env = Environment(name, server.dsn(db), Secret(server.password))
    config = Config(None, {name: env}, (), MigrationSettings(tool), SchemaSettings())
    return pipeline.take_snapshot(env, config)


def everything(snapshot: Snapshot) -> dict[str, dict[str, dict[str, Any]]]:
    """Every field of every object, compare=False ones included (== on objects skips them)."""
    return {kind: {key: dataclasses.asdict(obj) for key, obj in objs.items()}
            for kind, objs in snapshot.objects.items()}  # fmt: skip


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def synthetic() -> Snapshot:
    """A small snapshot built in memory, for the tests that need no server."""
    table = Table("public", "users")
    column = Column("public.users", "email", "character varying(100)", False, None, position=2)
    history = MigrationHistory("sequelize", "public.SequelizeMeta", True,
                               (AppliedMigration("20251201-create-users.js"),))  # fmt: skip
    return Snapshot("production", "app", "18.1", datetime(2025, 12, 2, 9, tzinfo=UTC),
                    {"table": {table.key: table}, "column": {column.key: column}}, history,
                    "app@127.0.0.1:5432/app")  # fmt: skip


@pytest.mark.pg
def test_round_trip_through_a_file_is_equal(pg: PgServer, make_db: MakeDb, tmp_path: Path) -> None:
    """Writing a live snapshot and reading it back gives an equal Snapshot, every field kept."""
    original = take(pg, make_db(SCHEMA))
    path = tmp_path / "uat.json"
    snapshot_file.write(original, path)
    loaded = snapshot_file.read(path)
    assert loaded == original
    assert everything(loaded) == everything(original)
    note = loaded.of_kind("column")["public.wallets.note"]
    assert isinstance(note, Column)
    assert note.position == 4
    assert loaded.counts() == original.counts()


@pytest.mark.pg
def test_writing_is_deterministic(pg: PgServer, make_db: MakeDb, tmp_path: Path) -> None:
    """The same snapshot gives identical bytes, written twice or written again after reading."""
    snapshot = take(pg, make_db(SCHEMA))
    first, second, again = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "3.json"
    snapshot_file.write(snapshot, first)
    snapshot_file.write(snapshot, second)
    snapshot_file.write(snapshot_file.read(first), again)
    assert first.read_bytes() == second.read_bytes() == again.read_bytes()
    assert first.read_bytes().endswith(b"}\n")
    doc = json.loads(first.read_text())
    assert doc["format"] == "driftwatch.snapshot/v1"
    assert list(doc) == sorted(doc)
    keys = [f"{c['table']}.{c['name']}" for c in doc["objects"]["column"]]
    assert keys == sorted(keys)


@pytest.mark.pg
def test_fingerprint_ignores_where_and_when(pg: PgServer, make_db: MakeDb) -> None:
    """The same schema in two databases, read as two environments, has one fingerprint."""
    a = take(pg, make_db(SCHEMA, prefix="uat"), "uat")
    b = take(pg, make_db(SCHEMA, prefix="staging"), "staging")
    assert (a.database, a.environment) != (b.database, b.environment)
    assert a.taken_at != b.taken_at
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", snapshot_file.fingerprint(a))
    assert snapshot_file.fingerprint(a) == snapshot_file.fingerprint(b)


def test_fingerprint_is_the_same_on_pg18_and_pg15(pg18: PgServer, pg15: PgServer) -> None:
    """A schema built on PostgreSQL 18 and on 15 fingerprints the same: versions are not drift."""
    snapshots = []
    for server in (pg18, pg15):
        db = server.create_database("versions")
        server.execute(db, SCHEMA)
        snapshots.append(take(server, db))
    new, old = snapshots
    assert new.server_version.split(".")[0] == "18"
    assert old.server_version.split(".")[0] == "15"
    assert new.counts() == old.counts()
    assert snapshot_file.fingerprint(new) == snapshot_file.fingerprint(old)


@pytest.mark.pg
def test_fingerprint_changes_with_a_column_type(pg: PgServer, make_db: MakeDb) -> None:
    """Widening one column gives another fingerprint."""
    before = take(pg, make_db(SCHEMA))
    after = take(pg, make_db(SCHEMA + "ALTER TABLE users ALTER email TYPE varchar(255);"))
    assert snapshot_file.fingerprint(before) != snapshot_file.fingerprint(after)


def test_fingerprint_leaves_out_display_fields_and_times() -> None:
    """Column order, applied_at and the header are not schema content; checksums are."""
    base = synthetic()
    column = base.of_kind("column")["public.users.email"]
    assert isinstance(column, Column)
    assert base.migrations is not None
    moved = dataclasses.replace(column, position=9)
    stamped = dataclasses.replace(base.migrations.applied[0], applied_at=datetime.now(UTC))
    same = dataclasses.replace(
        base, environment="uat", database="other", server_version="15.18", address="",
        taken_at=datetime.now(UTC), objects={**base.objects, "column": {moved.key: moved}},
        migrations=dataclasses.replace(base.migrations, applied=(stamped,)),
    )  # fmt: skip
    assert snapshot_file.fingerprint(same) == snapshot_file.fingerprint(base)
    summed = dataclasses.replace(stamped, checksum="abc")
    other = dataclasses.replace(base, migrations=dataclasses.replace(base.migrations, applied=(summed,)))
    assert snapshot_file.fingerprint(other) != snapshot_file.fingerprint(base)


def test_opted_in_annotations_are_kept_and_fingerprinted(tmp_path: Path) -> None:
    """Owners, grants and comments (when read) survive the file and count in the fingerprint."""
    base = synthetic()
    noted = dataclasses.replace(base, annotations={
        "table": {"public.users": {"owner": "app", "grants": ("app=arwdDxt/app",), "comment": None}}})
    path = tmp_path / "noted.json"
    snapshot_file.write(noted, path)
    assert snapshot_file.read(path).annotations == noted.annotations
    assert snapshot_file.fingerprint(noted) != snapshot_file.fingerprint(base)
    # Notes on an object the snapshot does not hold are not compared, so not fingerprinted.
    stray = dataclasses.replace(base, annotations={"table": {"public.gone": {"owner": "app"}}})
    assert snapshot_file.fingerprint(stray) == snapshot_file.fingerprint(base)


def test_a_tampered_file_is_refused(tmp_path: Path) -> None:
    """Editing a compared attribute without a new fingerprint is caught and the file named."""
    path = tmp_path / "prod.json"
    snapshot_file.write(synthetic(), path)
    text = path.read_text()
    path.write_text(text.replace("character varying(100)", "character varying(255)"))
    with pytest.raises(SnapshotFileError) as caught:
        snapshot_file.read(path)
    assert str(caught.value) == (f"{path}: the content does not match the stored fingerprint; "
                                 "the file was edited or corrupted after driftwatch wrote it")  # fmt: skip


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": "driftwatch.report/v1"}',
     'not a driftwatch snapshot (its format is "driftwatch.report/v1", expected driftwatch.snapshot/v1)'),
    ('{"format": "driftwatch.snapshot/v2"}',
     "a driftwatch.snapshot/v2 file, but this driftwatch reads only driftwatch.snapshot/v1"),
    ("[1, 2]", "not a driftwatch snapshot (it has no format, expected driftwatch.snapshot/v1)"),
    ('{"format": ', "not valid JSON (Expecting value at line 1, column 12)"),
])  # fmt: skip
def test_a_file_that_is_no_snapshot_gets_one_sentence(tmp_path: Path, content: str, message: str) -> None:
    """A report, a future version or broken JSON is refused with a sentence naming the file."""
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(SnapshotFileError) as caught:
        snapshot_file.read(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["objects"].update(gadget=[]), "objects has unknown kind 'gadget'"),
    (lambda d: d["objects"]["column"][0].update(colour="red"),
     "objects.column[0] has unknown field 'colour'"),
    (lambda d: d["objects"]["column"][0].pop("type"), "objects.column[0] lacks the field 'type'"),
    (lambda d: d["objects"]["column"][0].update(nullable="yes"),
     'objects.column[0].nullable has an invalid value "yes"'),
    (lambda d: d.update(taken_at="yesterday"), 'taken_at has an invalid value "yesterday"'),
])  # fmt: skip
def test_unknown_kinds_and_fields_are_refused(edit: Callable[[dict[str, Any]], object], message: str) -> None:
    """from_document names the kind or field it does not know, or the value it cannot use."""
    doc = snapshot_file.to_document(synthetic())
    edit(doc)
    with pytest.raises(SnapshotFileError, match=re.escape(f"the snapshot document: {message}")):
        snapshot_file.from_document(doc)


@pytest.mark.pg
def test_migration_history_survives_the_round_trip(
    pg: PgServer, make_db: MakeDb, tmp_path: Path, admin_password: str
) -> None:
    """Flyway's ids, times, checksums and failed entries come back exactly as read."""
    db = make_db(FLYWAY_DDL + FLYWAY_ROWS)
    original = take(pg, db, tool="flyway")
    assert original.migrations is not None
    assert [m.success for m in original.migrations.applied] == [True, True, True, True, False]
    path = tmp_path / "flyway.json"
    snapshot_file.write(original, path)
    loaded = snapshot_file.read(path)
    assert loaded.migrations == original.migrations
    assert loaded.migrations.applied[1] == AppliedMigration(
        "1.1", datetime(2024, 1, 2, 12), "1205893244", True)  # fmt: skip
    # `diff` reads the live side with the file's tool unless told otherwise.
    _, out, _ = cli("diff", str(path), pg.dsn(db), "--json")
    migrations = json.loads(out)["migrations"]
    assert (migrations["tool"], migrations["missing"], migrations["extra"]) == ("flyway", [], [])


@pytest.mark.pg
def test_cli_snapshot_then_diff_against_a_dsn(
    pg: PgServer, make_db: MakeDb, tmp_path: Path, admin_password: str
) -> None:
    """`diff ref.json DSN` reports exactly what the live `diff DSN DSN` reports."""
    ref = make_db(SCHEMA)
    tgt = make_db(SCHEMA + """ALTER TABLE users ALTER email TYPE varchar(255), ADD hotfix int;
        DROP TABLE wallets; DELETE FROM "SequelizeMeta" WHERE name LIKE '20251202%';""")
    path = tmp_path / "ref.json"
    code, out, err = cli("snapshot", pg.dsn(ref), "-o", str(path))
    assert code == 0, err
    stored = snapshot_file.read(path)
    head = snapshot_file.fingerprint(stored).removeprefix("sha256:")[:12]
    # A DSN has no environment name: the snapshot is named after its file.
    assert out.startswith(f"wrote {path}: ref {ref} PostgreSQL {stored.server_version}, "
                          "3 tables, 9 columns, ")  # fmt: skip
    assert out.endswith(f"2 sequelize migrations, fingerprint {head}\n")
    assert admin_password not in path.read_text()
    live_code, live, _ = cli("diff", pg.dsn(ref), pg.dsn(tgt), "--json")
    file_code, offline, _ = cli("diff", str(path), pg.dsn(tgt), "--json")
    assert live_code == file_code == 1
    live_doc, file_doc = json.loads(live), json.loads(offline)
    assert file_doc["schema"] == live_doc["schema"]
    assert file_doc["migrations"] == live_doc["migrations"]
    assert file_doc["migrations"]["missing"] == ["20251202-wallets.js"]
    assert file_doc["reference"]["database"] == ref
    # The file can stand on either side, and on both.
    _, reverse, _ = cli("diff", pg.dsn(tgt), str(path), "--json")
    assert json.loads(reverse)["migrations"]["extra"] == ["20251202-wallets.js"]
    code, out, _ = cli("diff", str(path), str(path))
    assert code == 0, out
    assert "IS 100% IN SYNC" in out


def write_config(tmp_path: Path, pg: PgServer, uat: str, staging: str) -> Path:
    path = tmp_path / "driftwatch.toml"
    path.write_text("".join(
        f'[environments.{env}]\ndsn = "{pg.dsn(db)}"\npassword_env = "DB_PASSWORD"\n\n'
        for env, db in (("uat", uat), ("staging", staging))
    ) + '[[comparisons]]\nreference = "uat"\ntarget = "staging"\n\n[migrations]\ntool = "sequelize"\n')
    return path


@pytest.mark.pg
def test_check_with_a_snapshot_instead_of_a_connection(
    pg: PgServer, make_db: MakeDb, tmp_path: Path, admin_password: str
) -> None:
    """`check --snapshot staging=FILE` compares against the file, not the live database."""
    uat, staging = make_db(SCHEMA, prefix="uat"), make_db(SCHEMA, prefix="staging")
    config, path = write_config(tmp_path, pg, uat, staging), tmp_path / "staging.json"
    code, out, err = cli("snapshot", "staging", "--config", str(config), "-o", str(path))
    assert code == 0, err
    assert out.startswith(f"wrote {path}: staging {staging} PostgreSQL ")
    pg.execute(staging, "ALTER TABLE users ADD COLUMN hotfix int")
    code, out, _ = cli("check", "--config", str(config), "--json")
    assert code == 1
    [report] = json.loads(out)["comparisons"]
    assert [d["name"] for d in report["schema"]["differences"]] == ["public.users.hotfix"]
    code, out, err = cli("check", "--config", str(config), "--json", "--snapshot", f"staging={path}")
    assert code == 0, out + err
    [report] = json.loads(out)["comparisons"]
    assert report["in_sync"] is True
    assert report["target"]["name"] == "staging"


@pytest.mark.pg
def test_snapshot_and_check_errors_are_one_sentence(
    pg: PgServer, make_db: MakeDb, tmp_path: Path, admin_password: str
) -> None:
    """Unknown environments, bad --snapshot values, bad files and dead servers exit 2 cleanly."""
    config = write_config(tmp_path, pg, make_db(SCHEMA), make_db(SCHEMA))
    snapshot_file.write(synthetic(), tmp_path / "prod.json")
    cases = {
        ("check", "--snapshot", f"production={tmp_path / 'prod.json'}"):
            "driftwatch: --snapshot names unknown environment 'production' (configured: uat, staging)\n",
        ("check", "--snapshot", "staging"):
            "driftwatch: --snapshot staging: expected ENV=FILE, e.g. --snapshot production=prod.json\n",
        ("check", "--snapshot", f"staging={tmp_path / 'nope.json'}"):
            f"driftwatch: {tmp_path / 'nope.json'}: cannot be read (No such file or directory)\n",
        ("snapshot", "production", "-o", str(tmp_path / "x.json")):
            f"driftwatch: no environment 'production' in {config} (configured: uat, staging); "
            "or give a DSN\n",
    }  # fmt: skip
    for argv, message in cases.items():
        assert cli(*argv, "--config", str(config)) == (2, "", message)
    dead = f"postgresql://{pg.superuser}@127.0.0.1:{free_port()}/nothing"
    code, out, err = cli("snapshot", dead, "-o", str(tmp_path / "dead.json"))
    assert (code, out) == (2, "")
    assert err.startswith("driftwatch: dead: connection refused at 127.0.0.1:")
    assert err.count("\n") == 1
    assert not (tmp_path / "dead.json").exists()


def test_offline_environment_needs_no_password(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check --snapshot production=FILE` works without production's password variable set."""
    monkeypatch.setenv("PGPASSWORD", pg.password)
    db = make_db("CREATE TABLE t (id int)")
    snap = tmp_path / "prod.json"
    out, err = io.StringIO(), io.StringIO()
    assert run(["snapshot", pg.dsn(db), "-o", str(snap)], out, err) == 0, err.getvalue()
    monkeypatch.setenv("UAT_PASSWORD", pg.password)
    monkeypatch.delenv("PROD_DB_PASSWORD", raising=False)
    config = tmp_path / "driftwatch.toml"
    config.write_text(f"""
[environments.uat]
dsn = "{pg.dsn(db)}"
password_env = "UAT_PASSWORD"
[environments.production]
dsn = "postgresql://app@127.0.0.1:1/prod"
password_env = "PROD_DB_PASSWORD"
[[comparisons]]
reference = "uat"
target = "production"
""")
    out, err = io.StringIO(), io.StringIO()
    code = run(["check", "--config", str(config), "--snapshot", f"production={snap}", "--json"], out, err)
    assert "PROD_DB_PASSWORD" not in err.getvalue()
    report = json.loads(out.getvalue())["comparisons"][0]
    assert report["schema"]["differences"] == []
    assert code == 1  # no SequelizeMeta on either side: drift to report, but checked
