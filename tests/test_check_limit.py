"""`check --limit N` bounds every list on the terminal, migrations included, with "… and N more"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.pgserver import PgServer
from tests.test_check_e2e import cli

pytestmark = pytest.mark.pg

META = 'CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY);'


def config(tmp_path: Path, pg: PgServer, ref: str, tgt: str) -> Path:
    path = tmp_path / "driftwatch.toml"
    path.write_text(f'[environments.uat]\ndsn = "{pg.dsn(ref)}"\npassword_env = "DB_PASSWORD"\n\n'
                    f'[environments.staging]\ndsn = "{pg.dsn(tgt)}"\npassword_env = "DB_PASSWORD"\n\n'
                    '[[comparisons]]\nreference = "uat"\ntarget = "staging"\n')  # fmt: skip
    return path


def test_limit_bounds_the_missing_and_extra_migration_lists(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path, admin_password: str
) -> None:
    """10,002 migrations missing in the target and 7 only it has: five of each are listed."""
    ref = make_db(META + """INSERT INTO "SequelizeMeta"
        SELECT format('2025%s-m.js', lpad(i::text, 6, '0')) FROM generate_series(1, 10002) i;""")
    tgt = make_db(META + """INSERT INTO "SequelizeMeta"
        SELECT format('2026%s-hotfix.js', lpad(i::text, 6, '0')) FROM generate_series(1, 7) i;""")
    code, out, err = cli("check", "--config", str(config(tmp_path, pg, ref, tgt)), "--limit", "5")
    assert code == 1, err
    missing = [line for line in out.splitlines() if line.startswith("   - 2025")]
    extra = [line for line in out.splitlines() if line.startswith("   - 2026")]
    assert missing == [f"   - 2025{i:06}-m.js" for i in range(1, 6)]
    assert extra == [f"   - 2026{i:06}-hotfix.js" for i in range(1, 6)]
    assert "Found 10002 migrations in uat that are missing in staging:" in out
    assert "   … and 9997 more (--limit 0 lists all; --json has every detail)" in out
    assert "   … and 2 more (--limit 0 lists all; --json has every detail)" in out
    # --limit 0 still lists every one.
    code, out, err = cli("check", "--config", str(config(tmp_path, pg, ref, tgt)), "--limit", "0")
    assert len([line for line in out.splitlines() if line.startswith("   - 2025")]) == 10002
    assert "more (--limit 0" not in out
