"""Every connection failure provoked for real: one sentence naming the thing and the fix, exit 2."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftwatch.cli import run
from driftwatch.demo import scenario
from tests.support.pgserver import PgServer, embedded_bin_dir, free_port, running_server

pytestmark = pytest.mark.pg


def check(tmp_path: Path, ref_dsn: str, tgt_dsn: str, **env_extra: str) -> tuple[int, str]:
    """Run `driftwatch check` on a two-environment config; return (exit code, stderr+stdout)."""
    extra = "".join(f"{k} = {v}\n" for k, v in env_extra.items())
    path = tmp_path / "driftwatch.toml"
    path.write_text(f"""
[environments.uat]
dsn = "{ref_dsn}"
password_env = "DB_PASSWORD"
{extra}
[environments.staging]
dsn = "{tgt_dsn}"
password_env = "DB_PASSWORD"
{extra}
[[comparisons]]
reference = "uat"
target = "staging"
""")
    out, err = io.StringIO(), io.StringIO()
    code = run(["check", "--config", str(path)], out, err)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    return code, text


@pytest.fixture
def uat(pg: PgServer, make_db: Callable[..., str]) -> str:
    return pg.dsn(make_db(scenario.database_sql("uat", with_data=False), prefix="uat"))


def test_stopped_server(uat: str, tmp_path: Path, admin_password: str) -> None:
    """A server that was running and stopped: connection refused, naming host:port and the proxy."""
    bin_dir = embedded_bin_dir()
    assert bin_dir is not None
    with running_server(bin_dir) as server:
        dsn = server.dsn()
        server.stop()
        code, text = check(tmp_path, uat, dsn)
    assert code == 2
    assert f"staging: connection refused at 127.0.0.1:{server.port}; is the database (or its " \
        "Cloud SQL Auth Proxy) running and listening there?" in text


def test_wrong_password_names_the_variable(
    pg: PgServer, uat: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed login names the user and the variable the password came from, never the value."""
    monkeypatch.setenv("DB_PASSWORD", "not-the-password-1234")
    code, text = check(tmp_path, uat, uat)
    assert code == 2
    assert f"uat: login failed for user {pg.superuser} at {pg.host}:{pg.port};" in text
    assert "check the password from $DB_PASSWORD." in text
    assert "not-the-password-1234" not in text


def test_unknown_database(pg: PgServer, uat: str, tmp_path: Path, admin_password: str) -> None:
    """A database name that does not exist is named, with the fix."""
    code, text = check(tmp_path, uat, pg.dsn("no_such_db"))
    assert code == 2
    assert "staging: database no_such_db does not exist on 127.0.0.1:" in text


def test_role_without_connect(pg: PgServer, uat: str, tmp_path: Path, admin_password: str) -> None:
    """A role denied CONNECT on the database gets a permission sentence naming the grant."""
    db = uat.rsplit("/", 1)[1]
    with pg.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS outsider")
        conn.execute(f"CREATE ROLE outsider LOGIN PASSWORD '{admin_password}'")
        conn.execute(f'REVOKE CONNECT ON DATABASE "{db}" FROM PUBLIC')
    try:
        code, text = check(tmp_path, uat, pg.dsn(db, user="outsider"))
    finally:
        with pg.admin() as conn:
            conn.execute(f'GRANT CONNECT ON DATABASE "{db}" TO PUBLIC')
    assert code == 2
    assert f"staging: permission denied to connect to database {db}; grant CONNECT" in text


def test_role_without_select_on_history(
    pg: PgServer, uat: str, tmp_path: Path, admin_password: str
) -> None:
    """A role that can connect but not read SequelizeMeta is told which grant it lacks."""
    db = uat.rsplit("/", 1)[1]
    with pg.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute(f"CREATE ROLE reader LOGIN PASSWORD '{admin_password}'")
    code, text = check(tmp_path, uat, pg.dsn(db, user="reader"))
    assert code == 2
    assert 'staging: permission denied for table SequelizeMeta; grant SELECT on it to driftwatch\'s ' \
        'role (README: "The role driftwatch needs").' in text
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "\n## The role driftwatch needs\n" in readme  # the section the sentence points at


def test_no_password_names_where_to_put_it(
    pg: PgServer, uat: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No password at all: a config environment is pointed at its keys, a diff DSN at PGPASSWORD."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    path = tmp_path / "nopw.toml"
    path.write_text(f'[environments.uat]\ndsn = "{uat}"\n[environments.staging]\ndsn = "{uat}"\n'
                    '[[comparisons]]\nreference = "uat"\ntarget = "staging"\n')
    out, err = io.StringIO(), io.StringIO()
    assert run(["check", "--config", str(path)], out, err) == 2
    assert f"uat: the server at {pg.host}:{pg.port} asks for a password and none was given; " \
        "set password_env or password_file for this environment." in out.getvalue()
    out = io.StringIO()
    assert run(["diff", uat, uat], out, err) == 2
    assert f"reference: the server at {pg.host}:{pg.port} asks for a password and none was given; " \
        "put it in PGPASSWORD or ~/.pgpass (or in the URI)." in out.getvalue()
    assert "password_env" not in out.getvalue()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers, like a hung proxy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_timeout(uat: str, tmp_path: Path, silent_port: int, admin_password: str) -> None:
    """A server that never answers gives a timeout sentence within connect_timeout."""
    code, text = check(tmp_path, uat, f"postgresql://app@127.0.0.1:{silent_port}/db",
                       connect_timeout="2")
    assert code == 2
    assert f"staging: no answer from 127.0.0.1:{silent_port} within 2 s" in text


def test_diff_refused_exits_2_with_one_sentence() -> None:
    """`diff` against nothing listening exits 2 with the refused sentence and no traceback."""
    port = free_port()
    out, err = io.StringIO(), io.StringIO()
    code = run(["diff", f"postgresql://a:secretpw@127.0.0.1:{port}/x",
                f"postgresql://a@127.0.0.1:{port}/y"], out, err)
    assert code == 2
    assert f"connection refused at 127.0.0.1:{port}" in out.getvalue()
    assert "secretpw" not in out.getvalue() + err.getvalue()


def test_both_sides_down_names_both(tmp_path: Path, admin_password: str) -> None:
    """When both proxies are down, the sentence names both environments."""
    a, b = free_port(), free_port()
    code, text = check(tmp_path, f"postgresql://app@127.0.0.1:{a}/db", f"postgresql://app@127.0.0.1:{b}/db")
    assert code == 2
    assert f"uat: connection refused at 127.0.0.1:{a}" in text
    assert f"staging: connection refused at 127.0.0.1:{b}" in text


def test_console_script_exits_2_without_traceback() -> None:
    """The installed `driftwatch` command and `python -m driftwatch` both exit 2 with one sentence."""
    port = free_port()
    dsn = f"postgresql://app@127.0.0.1:{port}/db"
    script = str(Path(sys.executable).parent / "driftwatch")
    for argv in ([script], [sys.executable, "-m", "driftwatch"]):
        result = subprocess.run([*argv, "diff", dsn, dsn], capture_output=True, text=True, check=False)
        assert result.returncode == 2
        assert f"reference: connection refused at 127.0.0.1:{port}" in result.stdout
        assert "Traceback" not in result.stdout + result.stderr


def test_json_report_still_says_the_sentence_on_stderr() -> None:
    """With --json the failure is in the document on stdout, and its sentence on stderr for the log."""
    port = free_port()
    out, err = io.StringIO(), io.StringIO()
    code = run(["diff", f"postgresql://a:secretpw@127.0.0.1:{port}/x",
                f"postgresql://a@127.0.0.1:{port}/y", "--json"], out, err)  # fmt: skip
    assert code == 2
    assert json.loads(out.getvalue())["error"]["reason"] == "refused"
    assert err.getvalue().startswith("driftwatch: could not check reference:target: ")
    assert f"connection refused at 127.0.0.1:{port}" in err.getvalue()
    assert err.getvalue().count("\n") == 1
    assert "secretpw" not in out.getvalue() + err.getvalue()
