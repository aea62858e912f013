"""Opt-ins for what is left out by default: owners, grants, comments, extension members."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwatch import diff, pipeline
from driftwatch.config import Config, Environment, SchemaSettings
from driftwatch.model import Drift
from driftwatch.secrets import Secret
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
NOISE = Path(__file__).parent / "golden" / "noise"


def drift(pg: PgServer, ref: str, tgt: str, **opts: Any) -> Drift:
    envs = {n: Environment(n, pg.dsn(db), Secret(pg.password)) for n, db in (("r", ref), ("t", tgt))}
    config = Config(None, envs, (), schema=SchemaSettings(**opts))
    ref_snap, tgt_snap = (pipeline.take_snapshot(envs[n], config) for n in ("r", "t"))
    return diff.compare(ref_snap, tgt_snap)


@pytest.fixture
def noise(make_db: Callable[..., str]) -> tuple[str, str]:
    base = (NOISE / "base.sql").read_text()
    return (make_db(base + (NOISE / "reference.sql").read_text()),
            make_db(base + (NOISE / "target.sql").read_text()))


def changes(d: Drift) -> dict[str, tuple[Any, Any]]:
    return {f"{x.kind} {x.name}": (x.reference, x.target) for x in d.schema.differences}


def test_defaults_ignore_owners_grants_comments(pg: PgServer, noise: tuple[str, str]) -> None:
    """Without opt-ins the noise case is in sync."""
    assert drift(pg, *noise).schema.differences == ()


def test_compare_owners(pg: PgServer, noise: tuple[str, str]) -> None:
    """compare_owners reports the table and view whose owner differs, as an `owner` attribute."""
    found = changes(drift(pg, *noise, compare_owners=True))
    assert found["table public.wallets"] == ({"owner": "dw_noise_a"}, {"owner": "dw_noise_b"})
    assert found["view public.rich"] == ({"owner": "dw_noise_a"}, {"owner": pg.superuser})
    assert all(set(ref) == {"owner"} for ref, _ in found.values())


def test_compare_grants(pg: PgServer, noise: tuple[str, str]) -> None:
    """compare_grants reports the table granted to another role and the function's revoked EXECUTE."""
    found = changes(drift(pg, *noise, compare_grants=True))
    ref, tgt = found["table public.wallets"]
    assert any(g.startswith("dw_noise_b=rw/") for g in ref["grants"])
    assert tgt == {"grants": ()}
    assert "function public.f()" in found


def test_compare_comments(pg: PgServer, noise: tuple[str, str]) -> None:
    """compare_comments reports a changed table comment and a column comment only one side has."""
    found = changes(drift(pg, *noise, compare_comments=True))
    assert found["table public.wallets"] == ({"comment": "UAT wallets"}, {"comment": "staging wallets"})
    assert found["column public.wallets.balance"] == ({"comment": "in rand"}, {"comment": None})


def test_extension_members_opt_in(pg: PgServer, make_db: Callable[..., str]) -> None:
    """A missing pg_trgm is one difference by default; with the opt-in its functions show too."""
    ref, tgt = make_db("CREATE EXTENSION pg_trgm;"), make_db("")
    assert [x.name for x in drift(pg, ref, tgt).schema.differences] == ["pg_trgm"]
    members = drift(pg, ref, tgt, include_extension_objects=True).schema.differences
    assert "function public.similarity(text, text)" in {f"{x.kind} {x.name}" for x in members}
    assert len(members) > 20
