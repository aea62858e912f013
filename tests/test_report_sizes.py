"""Reports at the extremes, from real checks: an empty week, and a week in which 300 migrations arrived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from driftwatch.config import Config, load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.report import ReportFiles, make_weekly_report, parse_week
from driftwatch.store import Store
from tests.support.browser import render
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.pg
MON = datetime(2025, 12, 1, tzinfo=UTC)
WEEK = parse_week("2025-W49", "UTC")
BULK = 300


def config_for(folder: Path, dsns: dict[str, str]) -> Config:
    envs = "".join(f'[environments.{n}]\ndsn = "{d}"\npassword_env = "DB_PASSWORD"\nconnect_timeout = 2\n\n'
                   for n, d in dsns.items())  # fmt: skip
    pairs = "".join(f'[[comparisons]]\nreference = "{r}"\ntarget = "{t}"\n\n'
                    for r, t in (("uat", "staging"), ("staging", "production")))  # fmt: skip
    path = folder / "driftwatch.toml"
    path.write_text(f'{envs}{pairs}[state]\nstate_dir = "state"\n')
    return load(path)


def bulk_sql(ids: range) -> str:
    """`len(ids)` Sequelize migrations, one small table each, and their SequelizeMeta rows."""
    tables = "".join(f"CREATE TABLE bulk_{i:03d} (id serial PRIMARY KEY, name text);\n" for i in ids)
    names = ", ".join(f"('20251202_{i:03d}_create_bulk_{i:03d}.js')" for i in ids)
    return f'{tables}INSERT INTO "SequelizeMeta" (name) VALUES {names};'


class Clock:
    def __init__(self) -> None:
        self.now = MON - timedelta(hours=2)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def bulk(pg18: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportFiles]:
    """Tuesday 300 migrations reach UAT, Thursday the first 150 reach Staging; Production gets none."""
    folder = tmp_path_factory.mktemp("bulk")
    dbs = {env: pg18.create_database(env) for env in ("uat", "staging", "production")}
    for db in dbs.values():
        pg18.execute(db, scenario.database_sql("staging", with_data=False))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DB_PASSWORD", pg18.password)
        config = config_for(folder, {env: pg18.dsn(db) for env, db in dbs.items()})
        clock = Clock()
        with Store.open(config.state.state_dir) as store:
            daemon = Daemon(config, store, clock)
            for day in range(8):
                clock.now = MON + timedelta(days=day, hours=10) if day else MON - timedelta(hours=2)
                if day == 1:
                    pg18.execute(dbs["uat"], bulk_sql(range(BULK)))
                if day == 3:
                    pg18.execute(dbs["staging"], bulk_sql(range(BULK // 2)))
                daemon.run("check")
            yield make_weekly_report(store, config, WEEK, folder / "reports", lambda: MON + timedelta(days=8))


class TestThreeHundred:
    """300 migrations in a week: every number right, every list bounded, charts readable."""

    def test_numbers(self, bulk: ReportFiles) -> None:
        md = bulk.markdown.read_text()
        assert "Migrations that arrived: UAT 300, Staging 150, Production 0." in md
        assert "| Migrations missing in Staging | 150 |" in md
        assert "| Migrations missing in Production | 150 |" in md
        assert "| UAT | 45 → 345 (+300) |" in md
        assert "| Staging | 45 → 195 (+150) |" in md
        assert "2 days (median of 150 migrations)" in md

    def test_lists_are_bounded(self, bulk: ReportFiles) -> None:
        md, page = bulk.markdown.read_text(), bulk.html.read_text()
        for text in (md, page):
            assert "… and 250 more" in text  # arrivals: 50 rows of 300
            assert "… and 125 more" in text  # missing in Staging: 25 of 150
            assert "… and 100 more" in text  # promotion lags: 50 of 150
        assert md.count("\n| `20251202_") == 50 + 50  # arrivals, and UAT → Staging lags
        assert len(md) < 60_000
        assert len(page) < 120_000

    def test_renders(self, bulk: ReportFiles, tmp_path: Path) -> None:
        page = render(bulk.html.as_uri(), tmp_path / "bulk.png", size="1200,3000")
        assert page.problems == []
        assert page.png.distinct_bytes > 50
        assert page.dom.count("<svg") == 5
        assert ">300<" in page.dom  # the missing-migrations axis reaches 300, labelled


class TestEmpty:
    """A week nothing was checked in, and a history with nothing in it at all."""

    def test_week_after_the_last_check(self, bulk: ReportFiles, tmp_path: Path) -> None:
        """The daemon stopped: the week after is all 'no check', flagged, with no numbers made up."""
        state = bulk.markdown.parent.parent / "state"
        config = load(bulk.markdown.parent.parent / "driftwatch.toml")
        later = parse_week("2025-W51", "UTC")
        with Store.open(state) as store:
            files = make_weekly_report(store, config, later, tmp_path, lambda: later.until)
        md = files.markdown.read_text()
        assert "0.0 % in sync; drift 0.0 %, could not check 0.0 %, no check 100.0 %" in md
        assert "was not checked for 7 days in this period" in md
        assert "No migration reached any environment in this period." in md
        assert "| Checks | 0 (0 could not compare) |" in md
        page = render(files.html.as_uri(), tmp_path / "empty.png")
        assert page.problems == []
        assert page.dom.count("<svg") == 5

    def test_no_history_at_all(self, tmp_path: Path) -> None:
        envs = ("uat", "staging", "production")
        config = config_for(tmp_path, {e: f"postgresql://a@127.0.0.1:1/{e}" for e in envs})
        with Store.open(config.state.state_dir) as store:
            files = make_weekly_report(store, config, WEEK, tmp_path / "r", lambda: WEEK.until)
        md = files.markdown.read_text()
        assert md.count("| At the end of the period | never checked |") == 2
        assert "Staging against UAT was never checked in this period" in md
        assert "| UAT | — | — | — |" in md
