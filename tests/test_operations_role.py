"""docs/operations.md's least-privilege role, made from the page's own SQL, checks what a superuser checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwatch.demo import scenario
from tests.support.deploy import ROOT
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
DRIFTWATCH = str(Path(sys.executable).parent / "driftwatch")
ROLE_PASSWORD = "role-secret-7d1e"
ENVIRONMENTS = ("uat", "staging", "production")


def role_sql() -> tuple[list[str], list[str]]:
    """The page's role block, split into per-server statements (ROLE) and per-database ones."""
    page = (ROOT / "docs" / "operations.md").read_text()
    block = re.search(r"<!-- role-sql[^>]*-->\s*```sql\n(.*?)```", page, re.DOTALL)
    assert block, "docs/operations.md has no <!-- role-sql --> block"
    code = "\n".join(line.split("--", 1)[0] for line in block[1].splitlines())
    statements = [s.strip() for s in code.split(";") if s.strip()]
    return ([s for s in statements if re.match(r"(CREATE|ALTER) ROLE", s)],
            [s for s in statements if not re.match(r"(CREATE|ALTER) ROLE", s)])  # fmt: skip


def check(config: Path, password: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run([DRIFTWATCH, "check", "--config", str(config), "--json"], capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "DB_PASSWORD": password},
                            check=False, timeout=120)  # fmt: skip
    # With --json, a side that cannot be read is part of the report (reason and message).
    return result.returncode, json.loads(result.stdout) if result.stdout else {}, result.stderr


def config_for(tmp_path: Path, server: PgServer, dbs: dict[str, str], user: str) -> Path:
    envs = "".join(f'[environments.{env}]\ndsn = "{server.dsn(db, user)}"\npassword_env = "DB_PASSWORD"\n\n'
                   for env, db in dbs.items())  # fmt: skip
    path = tmp_path / f"{user}.toml"
    path.write_text(envs + "".join(f'[[comparisons]]\nreference = "{r}"\ntarget = "{t}"\n'
                                   f"critical_tables = [\"users\", \"beneficiaries\"]\n\n"
                                   for r, t in (("uat", "staging"), ("staging", "production"))))  # fmt: skip
    return path


def findings(report: dict[str, Any]) -> list[Any]:
    """What each comparison found, without the times and the server details."""
    return [(c["in_sync"], c["migrations"], c["schema"], c["critical_tables"]) for c in report["comparisons"]]


def test_the_documented_role_sees_everything_a_superuser_sees(
    pg: PgServer, make_db: Callable[..., str], tmp_path: Path
) -> None:
    dbs = {env: make_db(scenario.database_sql(env), prefix=env) for env in ENVIRONMENTS}
    # A schema the role gets no USAGE on: catalog reads must still see its objects (and the drift).
    for env, extra in (("uat", ", amount numeric(18, 2)"), ("staging", "")):
        pg.execute(dbs[env], f"CREATE SCHEMA ledger; CREATE TABLE ledger.entries (id bigint{extra})")
    role = f"driftwatch_{uuid.uuid4().hex[:8]}"
    per_server, per_database = role_sql()
    pg.execute("postgres", re.sub(r"\bdriftwatch\b", role, ";\n".join(per_server))
               .replace("'change-me'", f"'{ROLE_PASSWORD}'"))  # fmt: skip
    for db in dbs.values():
        # A locked-down server: nothing through PUBLIC, so each grant of the page must carry its weight.
        pg.execute(db, f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC; REVOKE ALL ON SCHEMA public FROM PUBLIC;')
        pg.execute(db, ";\n".join(re.sub(r"\bdriftwatch\b", role, s).replace("mymoolah", f'"{db}"')
                                  for s in per_database))  # fmt: skip

    code, as_admin, _ = check(config_for(tmp_path, pg, dbs, pg.superuser), pg.password)
    assert code == 1
    code, as_role, err = check(config_for(tmp_path, pg, dbs, role), ROLE_PASSWORD)
    assert code == 1, err
    assert findings(as_role) == findings(as_admin)
    differences = as_role["comparisons"][0]["schema"]["differences"]
    assert any(d["name"] == "ledger.entries.amount" for d in differences)

    # Without the page's SELECT grant the history cannot be read: driftwatch says so and exits 2.
    pg.execute(dbs["staging"], f'REVOKE SELECT ON "SequelizeMeta" FROM "{role}"')
    code, report, _ = check(config_for(tmp_path, pg, dbs, role), ROLE_PASSWORD)
    assert code == 2
    assert "permission denied for table SequelizeMeta" in json.dumps(report)
