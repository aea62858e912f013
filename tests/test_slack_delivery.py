"""driftwatch's own Sender over real HTTP: its retry handlers, its error codes, no secret logged."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftwatch import logs
from driftwatch.daemon_config import SlackSettings
from driftwatch.outbox import Outbox
from driftwatch.secrets import Secret
from driftwatch.slack import DeliveryError, Sender, flush
from driftwatch.store import Store
from tests.support.slack_server import TOKEN, WEBHOOK_PATH, Reply, SlackServer

Make = Callable[[SlackServer], Sender]

MESSAGE = {"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def bot(slack: SlackServer) -> Sender:
    return Sender(SlackSettings(True, Secret(TOKEN), "$SLACK_BOT_TOKEN", channel="#platform",
                                api_url=slack.url), timeout=5)  # fmt: skip


def webhook(slack: SlackServer) -> Sender:
    return Sender(SlackSettings(True, webhook_url=Secret(slack.webhook_url)), timeout=5)


class TestRetries:
    """The handlers driftwatch installs, exercised through Sender.send, not a hand-built client."""

    @pytest.mark.parametrize("make", [bot, webhook])
    def test_429_waits_for_retry_after(self, slack: SlackServer, make: Make) -> None:
        """A 429 with Retry-After: 1, then Slack's normal answer: delivered, a second later."""
        slack.script(Reply.rate_limited(1))
        make(slack).send(MESSAGE)
        first, second = slack.requests
        assert second.at - first.at >= 0.95

    @pytest.mark.parametrize("make", [bot, webhook])
    def test_two_500s_then_delivered(self, slack: SlackServer, make: Make) -> None:
        """Two server errors are retried; the third attempt is delivered."""
        slack.script(Reply.status_only(500), Reply.status_only(503))
        make(slack).send(MESSAGE)
        assert len(slack.requests) == 3

    @pytest.mark.parametrize("make", [bot, webhook])
    def test_persistent_500_is_a_delivery_error_named_by_status(
        self, slack: SlackServer, make: Make
    ) -> None:
        """A 5xx that outlasts the retries is DeliveryError http_500, a code the metric can show."""
        slack.script(*[Reply.status_only(500)] * 3)
        with pytest.raises(DeliveryError) as e:
            make(slack).send(MESSAGE)
        assert e.value.code == "http_500"
        assert "retried next cycle" in e.value.sentence

    @pytest.mark.parametrize("make", [bot, webhook])
    def test_slack_down_is_a_transport_error(self, slack: SlackServer, make: Make) -> None:
        """Connection refused (after the connection-error retries) is a DeliveryError, not a crash."""
        sender = make(slack)
        slack.down()
        with pytest.raises(DeliveryError) as e:
            sender.send(MESSAGE)
        assert e.value.code in {"URLError", "ConnectionRefusedError"}


@pytest.mark.usefixtures("_restore_logging")
class TestNoSecretLogged:
    """slack-sdk's own DEBUG lines go through driftwatch's renderer, secrets masked."""

    @pytest.mark.parametrize("fmt", ["json", "console"])
    def test_webhook_url_and_token_never_logged(self, slack: SlackServer, fmt: logs.LogFormat) -> None:
        """At --log-level debug slack-sdk prints the webhook's URL; the secret part never shows."""
        buf = io.StringIO()
        logs.configure(fmt, "debug", buf)
        webhook(slack).send(MESSAGE)
        bot(slack).send(MESSAGE)
        logs.get().info("sending", token=TOKEN, url=slack.webhook_url)
        text = buf.getvalue()
        assert "Sending a request" in text  # slack-sdk's debug lines did arrive
        assert WEBHOOK_PATH not in text
        assert "T000/B000/XXX" not in text
        assert TOKEN not in text


class TestFlush:
    """The outbox flush: order kept per channel, one bad channel never holds up the others."""

    @staticmethod
    def queue(outbox: Outbox, *channels: str | None) -> None:
        at = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
        for i, channel in enumerate(channels):
            outbox.enqueue(f"k{i}", comparison="uat:staging", kind="opened", severity="warning", at=at,
                           payload={**MESSAGE, "text": f"alert {i}"}, channel=channel)  # fmt: skip

    def test_a_missing_channel_holds_only_its_own_alerts(self, tmp_path: Path) -> None:
        """channel_not_found for #prod-alerts: its two alerts wait, #platform's still go out."""
        with SlackServer(channels=("#platform",)) as slack, Store.open(tmp_path) as store:
            outbox, errors = Outbox(store), list[str]()
            self.queue(outbox, "#prod-alerts", None, "#prod-alerts", "#platform")
            sent = flush(outbox, bot(slack), lambda: datetime.now(UTC), lambda e: errors.append(e.code))
            assert sent == 2
            assert errors == ["channel_not_found"]  # tried once, the second #prod-alerts one waits
            assert [(r.channel, r.last_error) for r in outbox.pending()] == [
                ("#prod-alerts", "channel_not_found"), ("#prod-alerts", None)]
            posted = [r.body["text"] for r in slack.requests if r.body.get("channel") == "#platform"]
            assert posted == ["alert 1", "alert 3"]

    def test_an_outage_stops_the_flush(self, tmp_path: Path) -> None:
        """Slack unreachable: one attempt, everything stays queued in order."""
        with SlackServer() as slack, Store.open(tmp_path) as store:
            outbox = Outbox(store)
            self.queue(outbox, None, "#prod-alerts")
            sender = bot(slack)
            slack.down()
            assert flush(outbox, sender, lambda: datetime.now(UTC), lambda e: None) == 0
            assert [r.attempts for r in outbox.pending()] == [1, 0]
