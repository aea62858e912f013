"""Slack alerts end to end: real PostgreSQL, the real daemon, slack-sdk against a Slack stand-in."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from driftwatch import logs
from driftwatch.cli import run
from driftwatch.config import Config, load
from driftwatch.daemon import Daemon
from driftwatch.demo import scenario
from driftwatch.outbox import Outbox
from driftwatch.store import Store
from tests.support.configs import write_config
from tests.support.pgserver import PgServer, free_port
from tests.support.slack_server import TOKEN, Reply, SlackServer

pytestmark = pytest.mark.pg
T0 = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    with SlackServer() as server:
        yield server


def config_for(tmp_path: Path, dsns: dict[str, str], slack: SlackServer, extra: str = "") -> Config:
    sections = f"""[state]
state_dir = "state"

[slack]
token_env = "SLACK_BOT_TOKEN"
channel = "#platform"
api_url = "{slack.url}"
remind_every_hours = 24
dashboard_url = "https://grafana.example.com/d/driftwatch"
{extra}"""
    path = write_config(tmp_path, dsns, sections, env_extra="connect_timeout = 2",
                        critical='["users", "wallets"]')  # fmt: skip
    return load(path)


def posted(slack: SlackServer) -> list[dict[str, object]]:
    """Messages Slack accepted (the stand-in answers chat.postMessage with ok true)."""
    return [r.body for r in slack.requests if r.path == "/api/chat.postMessage"]


def headers(slack: SlackServer) -> list[str]:
    return [str(b["blocks"][0]["text"]["text"]) for b in posted(slack)]  # type: ignore[index]


def test_opened_changed_reminded_resolved_is_four_messages(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """Four alerts across a restart and a Slack outage: none repeated, none lost."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    staging = make_db(scenario.database_sql("staging"), prefix="staging")
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")  # opened
        assert len(posted(slack)) == 1
        first = posted(slack)[0]
        assert first["channel"] == "#platform"
        assert "20251202_01_enforce_e164_beneficiaries.js" in json.dumps(first["blocks"])
        assert "driftwatch sync --comparison uat:staging --dry-run" in json.dumps(first["blocks"])
        assert TOKEN not in json.dumps(first)
        assert admin_password not in json.dumps(first)

        clock.now += timedelta(hours=1)
        daemon.run("check")  # nothing new: no message
        assert len(posted(slack)) == 1

        slack.down()  # Slack outage while the drift changes
        pg.execute(uat, "ALTER TABLE users ADD COLUMN nickname text")
        clock.now += timedelta(hours=1)
        daemon.run("check")
        assert Outbox(store).pending()[0].kind == "changed"
        assert daemon.state().alerts_pending == 1
        slack.up()
    assert len(posted(slack)) == 1

    # A new process: the queued "changed" alert goes out, nothing is repeated.
    clock.now += timedelta(hours=1)
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")
        assert len(posted(slack)) == 2
        assert "public.users.nickname" in json.dumps(posted(slack)[1]["blocks"])
        clock.now += timedelta(hours=25)  # past remind_every since the last notice
        daemon.run("check")
        assert len(posted(slack)) == 3
        clock.now += timedelta(hours=1)
        daemon.run("check")  # not yet time for another reminder
        assert len(posted(slack)) == 3

        for migration in scenario.DEC2:
            pg.execute(staging, migration.up)
        names = ", ".join(f"('{m.name}')" for m in scenario.DEC2)
        pg.execute(staging, f'INSERT INTO "SequelizeMeta" (name) VALUES {names}')
        pg.execute(staging, "ALTER TABLE users ADD COLUMN nickname text")
        clock.now += timedelta(hours=1)
        daemon.run("check")  # resolved
        assert len(posted(slack)) == 4
        assert Outbox(store).pending() == []
    kinds = [row.kind for row in Outbox(Store.open(config.state.state_dir)).all()]
    assert kinds == ["opened", "changed", "reminder", "resolved"]
    assert "back in sync" in headers(slack)[3].lower()


def test_unreachable_after_three_checks_and_back(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """Staging refused three checks in a row: one alert on the third; one more when it is back."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    dead = f"postgresql://app@127.0.0.1:{free_port()}/staging"
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": dead}, slack)
    clock = Clock()
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        for expected in (0, 0, 1, 1):
            daemon.run("check")
            clock.now += timedelta(hours=1)
            assert len(posted(slack)) == expected
    text = json.dumps(posted(slack)[0])
    assert "connection refused" in text
    assert "staging" in text


def test_slack_errors_are_kept_counted_and_explained(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """invalid_auth and channel_not_found: the alert stays queued, the error is counted."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    staging = make_db(scenario.database_sql("staging"), prefix="staging")
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack)
    clock = Clock()
    slack.script(Reply.error("invalid_auth"), Reply.error("channel_not_found"))
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store, clock)
        daemon.run("check")
        assert daemon.state().slack_errors == {"invalid_auth": 1}
        clock.now += timedelta(hours=1)
        daemon.run("check")
        assert daemon.state().slack_errors == {"invalid_auth": 1, "channel_not_found": 1}
        assert daemon.state().alerts_pending == 1
        clock.now += timedelta(hours=1)
        daemon.run("check")  # Slack answers normally again: delivered once
        assert daemon.state().alerts_pending == 0
    delivered = [r for r in slack.requests if r.path == "/api/chat.postMessage"]
    assert len(delivered) == 3  # two refused attempts and the accepted one, same message
    assert delivered[0].body == delivered[2].body


def test_notify_test_and_preview(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """`notify test` says Slack accepted it; `notify preview` prints blocks and text, sends nothing."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    staging = make_db(scenario.database_sql("staging"), prefix="staging")
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack)
    path = str(config.path)
    out, err = io.StringIO(), io.StringIO()
    assert run(["notify", "test", "--config", path], out, err) == 0, err.getvalue()
    assert out.getvalue() == "Slack accepted the test message in #platform.\n"
    slack.script(Reply.error("not_in_channel"))
    out, err = io.StringIO(), io.StringIO()
    assert run(["notify", "test", "--config", path], out, err) == 2
    assert "the bot is not in #platform (not_in_channel); invite it with /invite" in err.getvalue()
    before = len(slack.requests)
    out, err = io.StringIO(), io.StringIO()
    assert run(["notify", "preview", "--config", path, "--comparison", "uat:staging"], out, err) == 1
    blocks_json, text = out.getvalue().split("\n--- plain-text fallback ---\n")
    assert "20251202_04_walletid_depii.js" in json.loads(blocks_json)["text"] + blocks_json
    assert text.strip()
    assert len(slack.requests) == before


def test_min_severity_mention_and_channel_override(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """min_severity = critical drops the warning; reverse drift is critical, mentions, and goes to
    its comparison's own channel."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    staging = make_db(scenario.database_sql("staging"), prefix="staging")
    extra = ('min_severity = "critical"\nmention_on_critical = "<!subteam^S0PLATFORM>"\n\n'
             '[[comparisons]]\nreference = "staging"\ntarget = "uat"\nslack_channel = "#prod-alerts"\n')
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack, extra)
    with Store.open(config.state.state_dir) as store:
        Daemon(config, store, Clock()).run("check")
    (message,) = posted(slack)  # uat → staging (four missing, no critical table) is only a warning
    assert message["channel"] == "#prod-alerts"
    text = json.dumps(message)
    assert "<!subteam^S0PLATFORM>" in text
    assert "Critical" in text
    assert "20251202_04_walletid_depii.js" in text  # what UAT has and Staging lacks


def test_a_slack_error_is_logged_once_with_its_fix(
    pg: PgServer, make_db: Callable[..., str], admin_password: str, slack: SlackServer, tmp_path: Path
) -> None:
    """invalid_auth on three runs in a row: one log line saying what to do, three counted."""
    uat = make_db(scenario.database_sql("uat"), prefix="uat")
    staging = make_db(scenario.database_sql("staging"), prefix="staging")
    config = config_for(tmp_path, {"uat": pg.dsn(uat), "staging": pg.dsn(staging)}, slack)
    slack.script(*[Reply.error("invalid_auth")] * 3)
    buf, root = io.StringIO(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    clock = Clock()
    try:
        logs.configure("json", "info", buf)
        with Store.open(config.state.state_dir) as store:
            daemon = Daemon(config, store, clock)
            for _ in range(3):
                daemon.run("check")
                clock.now += timedelta(hours=1)
    finally:
        root.handlers[:], root.level = handlers, level
    assert daemon.state().slack_errors == {"invalid_auth": 3}
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    (undelivered,) = [e for e in lines if e["event"] == "slack.undelivered"]
    assert undelivered["error"] == "invalid_auth"
    assert "check that $SLACK_BOT_TOKEN holds a current bot token" in str(undelivered["fix"])
    assert TOKEN not in buf.getvalue()
