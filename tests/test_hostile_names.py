"""Names from a real database with ESC, CR and newlines are shown escaped on the terminal."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from driftwatch.cli import run
from driftwatch.render.visible import visible
from tests.support.pgserver import PgServer
from tests.support.slack_server import SlackServer
from tests.test_check_e2e import cli
from tests.test_check_limit import META, config
from tests.test_slack_daemon import config_for, slack  # noqa: F401 (a fixture)

pytestmark = pytest.mark.pg

HIDDEN = "orders\x1b[8m_hidden"
OVERWRITE = "20250101-a.js\r✅ All migrations are applied"
FAKE_LINE = "20250102-b.js\n• *fake*"


def test_check_shows_control_characters_escaped(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path, admin_password: str
) -> None:
    """A hostile table and two hostile migration ids, missing in the target: every one shows
    as an escape, and the output holds no raw ESC, CR or extra line."""
    ids = ", ".join(f"('{i}')" for i in (OVERWRITE, FAKE_LINE))
    ref = make_db(META + f'CREATE TABLE "{HIDDEN}" (id int); INSERT INTO "SequelizeMeta" VALUES {ids};')
    tgt = make_db(META)
    code, out, err = cli("check", "--config", str(config(tmp_path, pg, ref, tgt)), "--color", "always")
    assert code == 1, err
    for raw in (HIDDEN, OVERWRITE, FAKE_LINE):
        assert raw not in out
    assert "\r" not in out
    assert "   - 20250101-a.js\\r✅ All migrations are applied" in out
    assert "   - 20250102-b.js\\n• *fake*" in out
    assert "orders\\x1b[8m_hidden" in out
    # The only ESC left are driftwatch's own colours.
    assert "\x1b[8m" not in out
    assert not [line for line in out.splitlines() if line.startswith("• *fake*")]


def test_slack_keeps_each_hostile_name_on_its_line(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The alert `notify preview` prints for the same databases: no name makes a line of its
    own (a fake bullet in bold), none leaves its code span, no raw ESC anywhere."""
    ids = ", ".join(f"('{i}')" for i in (OVERWRITE, FAKE_LINE, "20250103-c.js`*bold*`"))
    ref = make_db(META + f'CREATE TABLE "{HIDDEN}" (id int); CREATE TABLE "t\n• *fake table*" (id int);'
                  f' INSERT INTO "SequelizeMeta" VALUES {ids};')  # fmt: skip
    tgt = make_db(META)
    path = str(config_for(tmp_path, {"uat": pg.dsn(ref), "staging": pg.dsn(tgt)}, slack).path)
    code, out, err = cli("notify", "preview", "--config", path, "--comparison", "uat:staging")
    assert code == 1, err
    blocks_json, fallback = out.split("\n--- plain-text fallback ---\n")
    texts = [b["text"]["text"] for b in json.loads(blocks_json)["blocks"] if "text" in b]
    lines = [line for text in texts for line in text.splitlines()]
    assert not [line for line in lines if line.lstrip().startswith("• *fake")]
    assert "2. `20250102-b.js\\n• *fake*`" in lines
    assert "3. `20250103-c.js\u02cb*bold*\u02cb`" in lines
    assert any("`public.t\\n• *fake table*`" in line for line in lines)
    assert "\x1b" not in out
    assert "\r" not in out
    assert fallback.count("\n") == 1


def test_visible_escapes_c1_and_bidi_controls() -> None:
    assert visible("a\x9bb\u202ec\x07") == "a\\x9bb\\u202ec\\x07"
    assert visible("plain, ünïcode ✅") == "plain, ünïcode ✅"


def test_weekly_report_keeps_hostile_ids_in_their_cell_and_line() -> None:
    """Migration ids with a pipe, backticks, a newline and ESC, still missing at the end of the
    week: the Markdown table keeps its columns, each id its code span and line, no raw ESC;
    the HTML escapes them."""
    from driftwatch.report import facts as report_facts  # noqa: PLC0415
    from driftwatch.report import html, markdown, period  # noqa: PLC0415
    from tests.support.history import Builder  # noqa: PLC0415

    week = period.parse_week("2025-W49", "UTC")
    hostile = ["20251201_a|b.js", "20251202_``x`.js", "20251203_c\n| fake | row |.js", "20251204\x1b[8m.js"]
    b = Builder()
    at = week.since
    while at < week.since + timedelta(days=7):
        b.check(at, False, hostile)
        for env in ("uat", "staging"):
            b.read(at, env)
        at += timedelta(hours=1)
    b.episode(week.since, None, {"missing": hostile})
    b.saw("uat", week.since, *hostile)
    f = report_facts.build(b.history(), week, week.since + timedelta(days=7, hours=6))
    md = markdown.render(f)
    assert "\x1b" not in md
    assert not [line for line in md.splitlines() if line.startswith("| fake")]
    assert "``` 20251202_``x`.js ```" in md
    assert "`20251201_a|b.js`" in md  # a list line, not a table: the pipe is plain text there
    assert "`20251203_c\\n| fake | row |.js`" in md
    assert "`20251204\\x1b[8m.js`" in md
    for line in md.splitlines():
        if line.startswith("| `20251201_a"):  # the arrivals table: the pipe is escaped
            assert line.startswith("| `20251201_a\\|b.js` |")
    page = html.render(f)
    assert "<code>20251201_a|b.js</code>" in page
    assert "<code>20251204\\x1b[8m.js</code>" in page
    assert "\x1b" not in page


def test_sync_and_status_show_a_hostile_hotfix_id_escaped(
    pg18: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hotfix id with ESC and CR recorded only in Staging: the sync dry run, the refused
    --apply and `status` (from the daemon's history) all show it escaped."""
    from tests.test_sync_guards import Setup  # noqa: PLC0415

    monkeypatch.setenv("DB_PASSWORD", pg18.password)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    s = Setup(pg18, tmp_path)
    pg18.execute(s.staging, """INSERT INTO "SequelizeMeta" VALUES
        ('20251201_99' || chr(27) || ']0;owned' || chr(7) || '_hotfix.js' || chr(13) || '✅ ok')""")
    shown = "20251201_99\\x1b]0;owned\\x07_hotfix.js\\r✅ ok"
    s.daemon_run()
    _, dry, _ = s.sync("--dry-run")
    code, applied, _ = s.sync("--apply")
    assert code == 1
    out, err = io.StringIO(), io.StringIO()
    run(["status", "--config", str(s.path)], out, err)
    for text in (dry, applied, out.getvalue()):
        assert shown in text, text
        assert not any(ch in text for ch in "\x1b\r\x07"), text


def test_snapshot_and_a_refused_read_show_a_hostile_database_name_escaped(
    pg: PgServer, tmp_path: Path, admin_password: str
) -> None:
    """`snapshot` prints the database's name; an error quoting a hostile name goes to stderr."""
    name = f"snap_{uuid.uuid4().hex[:8]}\x1b[8m"
    with pg.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(quote(name))
    code, out, err = cli("snapshot", dsn, "-o", str(tmp_path / "s.json"))
    assert code == 0, err
    assert f"{name[:-4]}\\x1b[8m" in out
    assert "\x1b" not in out
    code, out, err = cli("snapshot", pg.dsn(quote(name + "\x1b]0;t\x07")), "-o", str(tmp_path / "t.json"))
    assert code == 2
    assert "\\x1b]0;t\\x07" in err
    assert not any(ch in err for ch in "\x1b\x07")
