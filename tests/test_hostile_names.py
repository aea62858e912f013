"""Names from a real database with ESC, CR and newlines are shown escaped on the terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftwatch.render.visible import visible
from tests.support.pgserver import PgServer
from tests.test_check_e2e import cli
from tests.test_check_limit import META, config

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


def test_visible_escapes_c1_and_bidi_controls() -> None:
    assert visible("a\x9bb\u202ec\x07") == "a\\x9bb\\u202ec\\x07"
    assert visible("plain, ünïcode ✅") == "plain, ünïcode ✅"
