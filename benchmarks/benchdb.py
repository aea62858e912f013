"""The benchmark's PostgreSQL server and databases: start, load a generated schema, describe."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import build_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support.pgserver is the suite's server harness

from driftwatch.demo.postgres import reachable_bin_dir, service_user  # noqa: E402
from tests.support.pgserver import (  # noqa: E402 - needs the repo root on sys.path first
    PgServer,
    embedded_bin_dir,
    free_port,
)

__all__ = ["ROOT", "PgServer", "bench_server", "catalog_counts", "driftwatch_source", "embedded_bin_dir",
           "load", "machine"]  # fmt: skip

# pg_dump takes an ACCESS SHARE lock on every table in one transaction: 20,000 tables need
# more than the default 64 x max_connections lock slots. Loading 500 tables per transaction
# needs about 3,500 slots.
SERVER_OPTIONS = "-c fsync=off -c max_connections=200 -c max_locks_per_transaction=512"


class BenchServer(PgServer):
    """PgServer.start with the extra server options above (tests/support stays untouched)."""

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} {SERVER_OPTIONS}"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-o", opts,
                  "-l", str(self.root / "log"), "-w", "-t", "120", "start")  # fmt: skip
        with self.admin() as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
            self.version = int(str(row[0])) // 10000 if row else 0


@contextlib.contextmanager
def bench_server(bin_dir: Path) -> Iterator[BenchServer]:
    """tests.support.pgserver.running_server, with BenchServer."""
    user = service_user()
    root = Path(tempfile.mkdtemp(prefix="dw-bench-pg-"))
    root.chmod(0o755)
    # The binaries copy (when `user` cannot reach them) lives in `root`, deleted with it.
    server = BenchServer(reachable_bin_dir(bin_dir, user, root / "bin"), root, free_port(), user)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def load(server: PgServer, tables: int, drift: bool) -> str:
    """A new database holding the generated schema; 500 tables per transaction."""
    db = server.create_database("bench_tgt" if drift else "bench_ref")
    with server.admin(db) as conn:
        for chunk in build_schema.chunks(tables, drift):
            conn.execute(chunk.encode())  # many statements, one implicit transaction
    return db


COUNT_SQL = """SELECT
 (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY(%(s)s) AND c.relkind = 'r') AS tables,
 (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY(%(s)s) AND c.relkind = 'i') AS indexes,
 (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
  WHERE n.nspname = ANY(%(s)s) AND k.contype <> 'n') AS constraints,
 (SELECT count(*) FROM pg_views WHERE schemaname = ANY(%(s)s)) AS views,
 (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY(%(s)s) AND NOT t.tgisinternal) AS triggers"""


def catalog_counts(server: PgServer, db: str) -> dict[str, int]:
    with server.admin(db) as conn:
        cur = conn.execute(COUNT_SQL, {"s": list(build_schema.SCHEMAS)})
        names = [d.name for d in cur.description or ()]
        return dict(zip(names, (int(str(v)) for v in cur.fetchall()[0]), strict=True))


def machine(server: PgServer) -> dict[str, Any]:
    with server.admin() as conn:
        row = conn.execute("SELECT version()").fetchone()
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {"nproc": os.cpu_count(), "mem_total_gib": round(int(mem) / 1024**2, 1),
            "python": platform.python_version(), "kernel": platform.release(),
            "postgres": str(row[0]) if row else "?", "server_options": SERVER_OPTIONS}  # fmt: skip


def driftwatch_source(executable: str) -> dict[str, Any]:
    """Which driftwatch is measured: its commit, its catalog query files, uncommitted edits if any.

    setup_driftwatch.sh pins a commit, or a copy of the work tree (--worktree), in a venv of
    its own (DRIFTWATCH_COMMIT beside bin/); otherwise it is this work tree, perhaps mid-edit.
    """
    bin_dir = Path(executable).parent
    listing = subprocess.run(  # noqa: S603 - our own venv's python
        [str(bin_dir / "python"), "-P", "-c", "import driftwatch.catalog as c, pathlib; "
         "print(*sorted(p.name for p in pathlib.Path(c.__file__).parent.glob('*.sql')))"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    pinned = bin_dir.parent / "DRIFTWATCH_COMMIT"
    if pinned.exists():
        commit, edits = pinned.read_text().strip(), []
        changes = bin_dir.parent / "DRIFTWATCH_CHANGES"  # setup_driftwatch.sh --worktree
        if changes.exists():
            edits = changes.read_text().splitlines()
    else:
        commit = git("rev-parse", "HEAD")
        edits = git("status", "--porcelain", "--", "driftwatch").splitlines()
    return {"executable": executable, "commit": commit, "uncommitted_changes": edits,
            "catalog_queries": listing.stdout.split()}  # fmt: skip


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603, S607
                          check=False, timeout=60).stdout.rstrip()  # fmt: skip
