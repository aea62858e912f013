"""The weekly report from a week of real checks: real PostgreSQL, the real daemon, a controlled clock.

The week (2025-W49, Africa/Johannesburg): UAT, Staging and Production start with the same 81
migrations. Tuesday 09:00 the four Dec 2 migrations reach UAT (UAT → Staging drifts), Thursday
09:00 Staging (resolved; Staging → Production drifts), Saturday 12:00 Production (resolved).
Friday 10:00 to 16:00 Production is unreachable. Monday 06:00 the weekly job writes and posts.
"""

from __future__ import annotations

import http.client
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from driftwatch.cli import run
from driftwatch.config import Config, load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.metrics import registry
from driftwatch.report import make_weekly_report, parse_week
from driftwatch.server import Endpoints, HttpServer
from driftwatch.store import Store
from tests.support.browser import render
from tests.support.pgserver import PgServer, free_port
from tests.support.slack_server import TOKEN, SlackServer

pytestmark = pytest.mark.pg
TZ = ZoneInfo("Africa/Johannesburg")
MON = datetime(2025, 12, 1, tzinfo=TZ)
WEEK = "2025-W49"
DEC2 = [m.name for m in scenario.DEC2]
BASE_URL = "https://driftwatch.example.com/reports/"


def at(day: int, hour: int) -> datetime:
    """Day 0 is Monday 1 December, in Johannesburg."""
    return MON + timedelta(days=day, hours=hour)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config_text(dsns: dict[str, str], slack_url: str) -> str:
    envs = "".join(f'[environments.{n}]\ndsn = "{d}"\npassword_env = "DB_PASSWORD"\nconnect_timeout = 2\n\n'
                   for n, d in dsns.items())  # fmt: skip
    return f"""{envs}
[[comparisons]]
reference = "uat"
target = "staging"
critical_tables = ["users", "wallets", "beneficiaries"]

[[comparisons]]
reference = "staging"
target = "production"
critical_tables = ["users", "wallets", "beneficiaries"]

[schedule]
timezone = "Africa/Johannesburg"

[state]
state_dir = "state"

[slack]
token_env = "SLACK_BOT_TOKEN"
channel = "#platform"
api_url = "{slack_url}"
report_base_url = "{BASE_URL}"
"""


def write_config(folder: Path, dsns: dict[str, str], slack_url: str) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "driftwatch.toml"
    path.write_text(config_text(dsns, slack_url))
    return load(path)


def promote(pg: PgServer, db: str) -> None:
    """Apply the four Dec 2 migrations the way sequelize-cli would: the SQL, then SequelizeMeta."""
    for m in scenario.DEC2:
        pg.execute(db, m.up)
    pg.execute(db, 'INSERT INTO "SequelizeMeta" (name) VALUES ' + ", ".join(f"('{n}')" for n in DEC2))


@dataclass
class Week:
    """The history the week left, and what the test needs to look at it."""

    config: Config
    dead: Config  # the same, with Production on a closed port
    slack: SlackServer
    runs: int
    index_sizes: dict[str, tuple[int, int]]  # env -> indexes before and after Dec 2


def schedule() -> list[tuple[datetime, str]]:
    """Every six hours from Sunday evening to Monday 8 Dec, plus the events' own times."""
    times = {at(-1, 18) + timedelta(hours=6 * i) for i in range(34)}
    times |= {at(1, 9), at(3, 9), at(4, 10), at(4, 14), at(4, 16), at(5, 12)}
    plan = [(t, "check") for t in sorted(times) if t < at(7, 6)]
    return [*plan, (at(7, 6), "weekly")]


def live_week(pg: PgServer, folder: Path, slack: SlackServer) -> Week:
    dbs = {env: pg.create_database(env) for env in ("uat", "staging", "production")}
    for db in dbs.values():
        pg.execute(db, scenario.database_sql("staging"))
    dsns = {env: pg.dsn(db) for env, db in dbs.items()}
    config = write_config(folder, dsns, slack.url)
    dead = write_config(folder / "dead", {**dsns, "production": f"postgresql://app@127.0.0.1:{free_port()}/p"},
                        slack.url)  # fmt: skip
    dead = Config(dead.path, dead.environments, dead.comparisons, dead.migrations, dead.schema,
                  dead.schedule, dead.metrics, config.state, dead.slack)  # fmt: skip
    events = {at(1, 9): "uat", at(3, 9): "staging", at(5, 12): "production"}
    clock = Clock(at(-1, 18))
    with Store.open(config.state.state_dir) as store:
        live, down = Daemon(config, store, clock), Daemon(dead, store, clock)
        for when, job in schedule():
            clock.now = when
            if when in events:
                promote(pg, dbs[events[when]])
            (down if at(4, 10) <= when < at(4, 16) else live).run(job)
        sizes = {env: _indexes(store, env) for env in dbs}
    return Week(config, dead, slack, len(schedule()), sizes)


def _indexes(store: Store, env: str) -> tuple[int, int]:
    reads = [r for r in store.environment_checks(at(-2, 0), at(8, 0), env) if r.schema_counts]
    return reads[0].schema_counts["index"], reads[-1].schema_counts["index"]  # type: ignore[index]


@pytest.fixture(scope="module")
def week(pg18: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    with pytest.MonkeyPatch.context() as mp, SlackServer() as slack:
        mp.setenv("DB_PASSWORD", pg18.password)
        mp.setenv("SLACK_BOT_TOKEN", TOKEN)
        yield live_week(pg18, tmp_path_factory.mktemp("week"), slack)


def reports(week: Week) -> Path:
    return week.config.state.state_dir / "reports"


def posted(slack: SlackServer) -> list[dict[str, object]]:
    return [r.body for r in slack.requests if r.path == "/api/chat.postMessage"]


def weekly_posts(slack: SlackServer) -> list[dict[str, object]]:
    return [b for b in posted(slack) if "Weekly drift summary" in json.dumps(b)]


class TestWeeklyJob:
    """Monday 06:00: both files in state_dir/reports, one Slack summary with the link."""

    def test_files_written(self, week: Week) -> None:
        names = sorted(p.name for p in reports(week).iterdir())
        assert names == [f"driftwatch-{WEEK}.html", f"driftwatch-{WEEK}.md"]

    def test_slack_summary_posted_once_with_the_link(self, week: Week) -> None:
        (message,) = weekly_posts(week.slack)
        text = json.dumps(message, ensure_ascii=False)
        assert "*2025-W49* (Mon 1 Dec to Sun 7 Dec, Africa/Johannesburg)" in text
        assert f"{BASE_URL}driftwatch-{WEEK}.html" in text
        assert "2 of 2 comparisons in sync at the end of the period" in text
        assert "Drift episodes: 2 opened, 2 resolved" in text
        assert "UAT → Staging 2 days, Staging → Production 2 days 3 h, UAT → Production 4 days 3 h" in text
        assert "unreachable: Production 6 h" in text
        assert "Nothing is open." in text
        assert TOKEN not in text
        assert "admin-secret" not in text

    def test_restart_posts_nothing_twice(self, week: Week) -> None:
        """A new process runs the weekly job again that morning: files rewritten, no second post."""
        clock = Clock(at(7, 6) + timedelta(minutes=30))
        with Store.open(week.config.state.state_dir) as store:
            Daemon(week.config, store, clock).run("weekly")
        assert len(weekly_posts(week.slack)) == 1
        assert len(list(reports(week).iterdir())) == 2


@pytest.fixture(scope="module")
def md(week: Week) -> str:
    return (reports(week) / f"driftwatch-{WEEK}.md").read_text()


@pytest.fixture(scope="module")
def page(week: Week) -> str:
    return (reports(week) / f"driftwatch-{WEEK}.html").read_text()


def cells(html: str) -> str:
    """The HTML's text with each table cell ended by " | ", to compare rows across formats."""
    return re.sub(r"<[^>]+>", "", html.replace("</td>", " | ").replace("</th>", " | "))


class TestFacts:
    """The numbers in both formats match the week that happened."""

    def test_episodes(self, md: str, page: str) -> None:
        """UAT → Staging drifted Tue 09:00 to Thu 09:00; Staging → Production Thu 09:00 to Sat 12:00."""
        assert "| Tue 2 Dec 09:00 | Thu 4 Dec 09:00 | 2 days | 2 days | 4 migrations missing in" in md
        assert "| Thu 4 Dec 09:00 | Sat 6 Dec 12:00 | 2 days 3 h | 2 days 3 h |" in md
        for row in ("Tue 2 Dec 09:00 | Thu 4 Dec 09:00 | 2 days | 2 days | 4 migrations missing",
                    "Thu 4 Dec 09:00 | Sat 6 Dec 12:00 | 2 days 3 h | 2 days 3 h |"):  # fmt: skip
            assert row in cells(page)

    def test_time_in_sync(self, md: str, page: str) -> None:
        """48 h of drift: 71.4 %; 45 h drift and 6 h unreachable: 69.6 % (of 168 h)."""
        for text in (md, page):
            assert "71.4 % in sync; drift 28.6 %, could not check 0.0 %, no check 0.0 %" in text
            assert "69.6 % in sync; drift 26.8 %, could not check 3.6 %, no check 0.0 %" in text

    def test_promotion(self, md: str, page: str) -> None:
        """Each Dec 2 migration: first seen Tue, Thu, Sat; lags 2 days and 2 days 3 h."""
        for name in DEC2:
            assert f"| `{name}` | Tue 2 Dec 09:00 | Thu 4 Dec 09:00 | Sat 6 Dec 12:00 | 4 days 3 h |" in md
            assert f"{name} | Tue 2 Dec 09:00 | Thu 4 Dec 09:00 | Sat 6 Dec 12:00 |" in cells(page)
        assert "| Median promotion lag UAT → Staging | 2 days (median of 4 migrations) |" in md
        assert "2 days 3 h (median of 4 migrations)" in page

    def test_sizes_and_health(self, week: Week, md: str, page: str) -> None:
        """One more index everywhere (the Dec 2 msisdn index); Production unreachable 6 h."""
        before, after = week.index_sizes["uat"]
        assert after == before + 1
        assert "| UAT | 45 (no change) | " in md
        assert f"{before:,} → {after:,} (+1)" in md
        assert f"{before:,} → {after:,} (+1)" in page
        assert "| Production | Fri 5 Dec 10:00 | Fri 5 Dec 16:00 | 6 h | 3 | refused |" in md
        runs = sum(MON <= t < at(7, 0) for t, _ in schedule())  # not Sunday's, not the weekly one
        assert f"{runs:,} runs in the period." in md

    def test_nothing_open_and_no_secrets(self, md: str, page: str) -> None:
        assert "Nothing is open" in md
        assert "Nothing is open" in page
        for text in (md, page):
            assert "admin-secret" not in text
            assert TOKEN not in text


class TestCommand:
    """`driftwatch report` reads the same history and gives the same facts."""

    def test_markdown_to_stdout(self, week: Week) -> None:
        out, err = io.StringIO(), io.StringIO()
        args = ["report", "--config", str(week.config.path), "--week", WEEK]
        assert run(args, out, err) == 0, err.getvalue()
        assert "71.4 % in sync" in out.getvalue()
        assert out.getvalue().startswith(f"# driftwatch weekly report — {WEEK}")

    def test_html_to_a_file_and_a_range(self, week: Week, tmp_path: Path) -> None:
        target = tmp_path / "w.html"
        args = ["report", "--config", str(week.config.path), "--since", "2025-12-01", "--until", "2025-12-08",
                "-o", str(target)]  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        assert run(args, out, err) == 0, err.getvalue()
        assert out.getvalue() == f"wrote {target} (html, 2025-12-01 to 2025-12-07)\n"
        assert target.read_text().count("<svg") >= 5

    @pytest.mark.parametrize(("args", "sentence"), [
        (["--week", "2025-W60"], "2025-W60 is not an ISO week"),
        (["--week", "next"], "write it as YYYY-Www"),
        (["--week", "2099-W01"], "2099-W01 has not started yet"),
        (["--since", "2025-12-01"], "--since and --until go together"),
        (["--week", WEEK, "--since", "2025-12-01", "--until", "2025-12-02"], "not both"),
    ])  # fmt: skip
    def test_bad_arguments(self, week: Week, args: list[str], sentence: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        assert run(["report", "--config", str(week.config.path), *args], out, err) == 2
        assert sentence in err.getvalue()
        assert err.getvalue().count("\n") == 1
        assert "Traceback" not in err.getvalue()

    def test_no_history(self, week: Week, tmp_path: Path) -> None:
        """A state_dir without history: one sentence, and no empty database left behind."""
        config = tmp_path / "c.toml"
        config.write_text(config_text({"uat": "postgresql://a@h/d", "staging": "postgresql://a@h/d",
                                       "production": "postgresql://a@h/d"}, week.slack.url))  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        assert run(["report", "--config", str(config)], out, err) == 2
        assert "there is no history in" in err.getvalue()
        assert not (tmp_path / "state" / "history.db").exists()

    def test_public_function_for_the_demo(self, week: Week, tmp_path: Path) -> None:
        period = parse_week(WEEK, "Africa/Johannesburg")
        with Store.open(week.config.state.state_dir) as store:
            files = make_weekly_report(store, week.config, period, tmp_path / "out", lambda: at(8, 0))
        assert files.markdown.read_text().startswith("# driftwatch weekly report")
        assert files.html.name == f"driftwatch-{WEEK}.html"
        again = make_weekly_report(week.config.state.state_dir, week.config, period, tmp_path / "again")
        assert "71.4 % in sync" in again.markdown.read_text()


def get(port: int, path: str) -> tuple[int, str, bytes]:
    """A raw GET: http.client sends the path exactly as given (no ../ clean-up on the way)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def port(week: Week) -> Iterator[int]:
    """The daemon's HTTP port, serving the week's reports folder."""
    with Store.open(week.config.state.state_dir) as store:
        daemon = Daemon(week.config, store, Clock(at(8, 0)))
        server = HttpServer("127.0.0.1", 0, Endpoints(registry(daemon.state), daemon.state, lambda: True,
                                                      reports(week))).start()  # fmt: skip
        try:
            yield server.port
        finally:
            server.stop()


class TestServed:
    """/reports/ on the daemon's port: listing, files with their types, nothing else."""

    def test_listing_and_files(self, port: int) -> None:
        status, kind, body = get(port, "/reports/")
        assert (status, kind) == (200, "text/html; charset=utf-8")
        assert f'href="driftwatch-{WEEK}.html"' in body.decode()
        assert get(port, "/reports")[0] == 301
        status, kind, body = get(port, f"/reports/driftwatch-{WEEK}.html")
        assert (status, kind) == (200, "text/html; charset=utf-8")
        assert b"<svg" in body
        status, kind, body = get(port, f"/reports/driftwatch-{WEEK}.md")
        assert (status, kind) == (200, "text/markdown; charset=utf-8")
        assert body.startswith(b"# driftwatch")

    @pytest.mark.parametrize("path", [
        "/reports/../history.db", "/reports/..%2fhistory.db", "/reports/%2e%2e/history.db",
        "/reports/%2e%2e%2fhistory.db", "/reports/%252e%252e%252fhistory.db", "/reports/..\\history.db",
        "/reports/history.db", "/reports/%2fetc%2fpasswd", "/reports/.hidden.html",
        "/reports/driftwatch-2025-W49.html%00.md", "/reports/../../etc/passwd", "/reports/nope.html",
    ])  # fmt: skip
    def test_refused(self, port: int, path: str) -> None:
        status, _, body = get(port, path)
        assert status in (400, 404)
        assert b"SQLite" not in body
        assert b"root:" not in body


def test_report_names_come_only_from_the_writer() -> None:
    """The served-name pattern accepts exactly what the writer produces."""
    from driftwatch.server_reports import NAME  # noqa: PLC0415

    assert NAME.match(f"driftwatch-{WEEK}.html")
    assert NAME.match("driftwatch-2025-12-01_2025-12-08.md")
    assert not NAME.match("history.db")


class TestBrowser:
    """The HTML in headless Chromium: as a file (offline, an e-mail attachment) and as served."""

    def test_file_renders_with_its_charts(self, week: Week, tmp_path: Path) -> None:
        page = render((reports(week) / f"driftwatch-{WEEK}.html").as_uri(), tmp_path / "file.png")
        assert page.problems == []
        assert (page.png.width, page.png.height) == (1200, 2400)
        assert page.png.distinct_bytes > 50  # not a blank page
        assert page.dom.count("<svg") == 5  # two per comparison and the sizes
        assert "71.4 % in sync" in page.dom

    def test_served_page_obeys_its_content_security_policy(self, port: int, tmp_path: Path) -> None:
        """Served with a CSP that forbids scripts and any load: nothing is refused, nothing fails."""
        page = render(f"http://127.0.0.1:{port}/reports/driftwatch-{WEEK}.html", tmp_path / "served.png")
        assert page.problems == []
        assert page.dom.count("<svg") == 5

    def test_the_check_sees_a_page_error(self, tmp_path: Path) -> None:
        """The same check on a page with a console error reports it: the green above means something."""
        bad = tmp_path / "bad.html"
        bad.write_text('<html><body><script>console.error("boom")</script></body></html>')
        assert any("boom" in line for line in render(bad.as_uri(), tmp_path / "bad.png").problems)
