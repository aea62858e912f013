"""A history table with a NULL id or an id recorded twice is never read as in sync."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer
from tests.test_check_e2e import cli

pytestmark = pytest.mark.pg

TABLE = "CREATE TABLE schema_history (version text, seq serial);"
ROWS = "INSERT INTO schema_history (version) VALUES ('001-create'), ('002-index');"


def config(tmp_path: Path, pg: PgServer, ref: str, tgt: str) -> Path:
    path = tmp_path / "driftwatch.toml"
    path.write_text(f'[environments.uat]\ndsn = "{pg.dsn(ref)}"\npassword_env = "DB_PASSWORD"\n\n'
                    f'[environments.staging]\ndsn = "{pg.dsn(tgt)}"\npassword_env = "DB_PASSWORD"\n\n'
                    '[[comparisons]]\nreference = "uat"\ntarget = "staging"\n\n'
                    '[migrations]\ntool = "custom"\ntable = "schema_history"\n'
                    'id_column = "version"\n')  # fmt: skip
    return path


@pytest.mark.parametrize("extra", ["INSERT INTO schema_history (version) VALUES (NULL);",
                                   "INSERT INTO schema_history (version) VALUES ('001-create');"],
                         ids=["null-id", "duplicate-id"])  # fmt: skip
def test_a_broken_history_row_makes_the_comparison_not_in_sync(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path, admin_password: str, extra: str
) -> None:
    """Same ids on both sides, plus one NULL or duplicate row in the target: drift, named."""
    ref, tgt = make_db(TABLE + ROWS), make_db(TABLE + ROWS + extra)
    path = config(tmp_path, pg, ref, tgt)
    code, out, err = cli("check", "--config", str(path), "--json")
    assert code == 1, out + err
    migrations = json.loads(out)["comparisons"][0]["migrations"]
    named = "(NULL id)" if "NULL" in extra else "001-create"
    # An id is counted once (ids are a set with an order); its second row marks it failed.
    assert migrations["target_count"] == (3 if "NULL" in extra else 2)
    assert [f["id"] if isinstance(f, dict) else f for f in migrations["failed"]] == [named]
    code, out, err = cli("check", "--config", str(path))
    assert code == 1
    assert "Found 1 migration failed or dirty in staging:" in out
    assert f"   - {named}" in out


def test_the_same_history_on_both_sides_is_in_sync(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path, admin_password: str
) -> None:
    """The check above is not a false alarm: clean tables still compare in sync."""
    ref, tgt = make_db(TABLE + ROWS), make_db(TABLE + ROWS)
    code, out, err = cli("check", "--config", str(config(tmp_path, pg, ref, tgt)))
    assert code == 0, out + err
