"""Golden cases: one folder per object kind, diffed on real PostgreSQL 18 and 15 alike.

Each folder holds base.sql (run on both sides), reference.sql, target.sql and expected.json
(the `differences` of the JSON report). The same expected file must hold on every server
version: that is the cross-version promise. To regenerate after a deliberate change, run
`DRIFTWATCH_REGEN_GOLDEN=1 pytest tests/test_golden.py -k pg18` and review the git diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwatch import diff, pipeline
from driftwatch.config import Config, Environment
from driftwatch.render import json as json_report
from driftwatch.secrets import Secret
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def differences(pg: PgServer, ref_db: str, tgt_db: str) -> list[dict[str, Any]]:
    """The contract's `differences` list for two databases on `pg`."""
    envs = {name: Environment(name, pg.dsn(db), Secret(pg.password))
            for name, db in (("reference", ref_db), ("target", tgt_db))}
    config = Config(None, envs, ())
    ref = pipeline.take_snapshot(envs["reference"], config)
    tgt = pipeline.take_snapshot(envs["target"], config)
    report = json_report.report(diff.compare(ref, tgt))
    result: list[dict[str, Any]] = report["schema"]["differences"]
    return result


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, pg: PgServer, make_db: Callable[..., str]) -> None:
    """The case's differences are exactly its expected.json, on this server version."""
    folder = GOLDEN / case
    base = (folder / "base.sql").read_text()
    ref = make_db(base + "\n" + (folder / "reference.sql").read_text())
    tgt = make_db(base + "\n" + (folder / "target.sql").read_text())
    found = differences(pg, ref, tgt)
    expected_file = folder / "expected.json"
    if os.environ.get("DRIFTWATCH_REGEN_GOLDEN") == "1":
        expected_file.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
    assert found == json.loads(expected_file.read_text())


@pytest.mark.parametrize("case", CASES)
def test_golden_reverse_mirrors(case: str, pg: PgServer, make_db: Callable[..., str]) -> None:
    """Swapping the sides swaps missing/extra and reference/target, nothing else."""
    folder = GOLDEN / case
    base = (folder / "base.sql").read_text()
    ref = make_db(base + "\n" + (folder / "reference.sql").read_text())
    tgt = make_db(base + "\n" + (folder / "target.sql").read_text())
    swap = {"missing": "extra", "extra": "missing", "changed": "changed"}
    forward = differences(pg, ref, tgt)
    mirrored = [{**d, "change": swap[d["change"]], "reference": d["target"], "target": d["reference"]}
                for d in forward]
    assert sorted(differences(pg, tgt, ref), key=json.dumps) == sorted(mirrored, key=json.dumps)
