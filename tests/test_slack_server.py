"""The Slack stand-in answers slack-sdk's own clients the way Slack does, errors and outages included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from tests.support.slack_server import TOKEN, TS, Reply, SlackServer

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


@pytest.fixture
def server() -> Iterator[SlackServer]:
    with SlackServer() as s:
        yield s


def client(server: SlackServer, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=server.url, timeout=5)


class TestWebApi:
    """chat.postMessage and auth.test."""

    def test_post_message_is_ok(self, server: SlackServer) -> None:
        """A valid token and message get ok, the channel and a ts; the request is recorded."""
        response = client(server).chat_postMessage(channel="#drift", text="hi", blocks=[SECTION])
        assert response["ok"] is True
        # Slack answers with the channel's id (which conversations.history needs) and a fresh ts.
        assert response["channel"] == server.channel_id("#drift")
        assert re.fullmatch(r"C\d{10}", response["channel"])
        assert re.fullmatch(r"\d{10}\.\d{6}", response["ts"])
        assert response["ts"] != TS
        assert response["message"]["blocks"] == [SECTION]
        (request,) = server.requests
        assert request.path == "/api/chat.postMessage"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.body["text"] == "hi"

    def test_history_finds_a_post_by_its_metadata(self, server: SlackServer) -> None:
        """conversations.history by channel id, newest first; metadata only with include_all_metadata."""
        web = client(server)
        meta = {"event_type": "driftwatch_alert", "event_payload": {"key": "episode:1:opened"}}
        first = web.chat_postMessage(channel="#drift", text="one", metadata=meta)
        web.chat_postMessage(channel="#drift", text="two")
        cid = first["channel"]
        with pytest.raises(SlackApiError) as e:
            web.conversations_history(channel="#drift")  # a name: Slack wants the id
        assert e.value.response["error"] == "channel_not_found"
        plain = web.conversations_history(channel=cid)["messages"]
        assert [m["text"] for m in plain] == ["two", "one"]
        assert all("metadata" not in m for m in plain)
        full = web.conversations_history(channel=cid, include_all_metadata=True,
                                         oldest=str(float(first["ts"]) - 1))["messages"]
        assert full[1]["metadata"]["event_payload"] == {"key": "episode:1:opened"}
        later = web.conversations_history(channel=cid, oldest=first["ts"])["messages"]
        assert [m["text"] for m in later] == ["two"]  # oldest is exclusive, as in Slack
        names = web.conversations_list()["channels"]
        assert [(c["id"], c["name"]) for c in names] == [(cid, "drift")]

    def test_history_without_the_scope(self) -> None:
        """A token without channels:history/groups:history gets missing_scope, naming the scope."""
        with SlackServer(scopes=frozenset({"chat:write"})) as s:
            web = client(s)
            cid = web.chat_postMessage(channel="#drift", text="hi")["channel"]
            with pytest.raises(SlackApiError) as e:
                web.conversations_history(channel=cid)
        assert e.value.response["error"] == "missing_scope"
        assert "channels:history" in e.value.response["needed"]

    def test_accepted_late_and_reset_keep_the_post(self, server: SlackServer) -> None:
        """accepted_late answers after the client gave up, accepted_then_reset never: both keep the post."""
        server.script(Reply.accepted_late(2.0), Reply.accepted_then_reset())
        # No retry handlers: slack-sdk's default one would resend after the reset (a duplicate).
        web = WebClient(token=TOKEN, base_url=server.url, timeout=1, retry_handlers=[])
        with pytest.raises(TimeoutError):
            web.chat_postMessage(channel="#drift", text="late")
        with pytest.raises(ConnectionResetError):  # http.client's RemoteDisconnected is one
            web.chat_postMessage(channel="#drift", text="reset")
        assert [m["text"] for m in server.messages("#drift")] == ["late", "reset"]

    def test_auth_test(self, server: SlackServer) -> None:
        """auth.test answers with the bot's identity."""
        assert client(server).auth_test()["bot_id"] == "B000"

    def test_bad_token_is_invalid_auth(self, server: SlackServer) -> None:
        """An unknown token raises SlackApiError carrying invalid_auth."""
        with pytest.raises(SlackApiError) as e:
            client(server, "xoxb-wrong").chat_postMessage(channel="#drift", text="hi")
        assert e.value.response["error"] == "invalid_auth"

    def test_no_token_is_not_authed(self, server: SlackServer) -> None:
        """A request without a bearer token is not_authed."""
        with pytest.raises(SlackApiError) as e:
            WebClient(base_url=server.url).chat_postMessage(channel="#drift", text="hi")
        assert e.value.response["error"] == "not_authed"

    def test_unknown_channel(self) -> None:
        """With a list of channels, any other channel is channel_not_found."""
        with SlackServer(channels=("#drift",)) as s, pytest.raises(SlackApiError) as e:
            client(s).chat_postMessage(channel="#nope", text="hi")
        assert e.value.response["error"] == "channel_not_found"

    @pytest.mark.parametrize("code", ["invalid_auth", "channel_not_found", "not_in_channel",
                                      "msg_blocks_too_long"])  # fmt: skip
    def test_scripted_errors(self, server: SlackServer, code: str) -> None:
        """A scripted error comes back as Slack sends it: HTTP 200, ok false, the code."""
        server.script(Reply.error(code))
        with pytest.raises(SlackApiError) as e:
            client(server).chat_postMessage(channel="#drift", text="hi")
        assert e.value.response.status_code == 200
        assert e.value.response["error"] == code

    def test_rate_limit_is_retried_after_retry_after(self, server: SlackServer) -> None:
        """A 429 with Retry-After: 1, then success: the rate-limit handler waits and succeeds."""
        server.script(Reply.rate_limited(1))
        web = client(server)
        web.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
        assert web.chat_postMessage(channel="#drift", text="hi")["ok"] is True
        first, second = server.requests
        assert second.at - first.at >= 0.95

    def test_rate_limit_without_handler_raises(self, server: SlackServer) -> None:
        """Without a rate-limit handler the 429 surfaces as ratelimited."""
        server.script(Reply.rate_limited(1))
        with pytest.raises(SlackApiError) as e:
            client(server).chat_postMessage(channel="#drift", text="hi")
        assert e.value.response.status_code == 429
        assert e.value.response["error"] == "ratelimited"

    @pytest.mark.parametrize("status", [500, 503])
    def test_server_errors_are_retried(self, server: SlackServer, status: int) -> None:
        """A 5xx once, then success, with ServerErrorRetryHandler."""
        server.script(Reply.status_only(status))
        web = client(server)
        web.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=1))
        assert web.chat_postMessage(channel="#drift", text="hi")["ok"] is True
        assert len(server.requests) == 2


class TestLimits:
    """Messages Slack would refuse are refused with Slack's codes."""

    @pytest.mark.parametrize(("blocks", "code"), [
        ([SECTION] * 51, "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "invalid_blocks"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "invalid_blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5, "msg_blocks_too_long"),
    ])  # fmt: skip
    def test_oversized_is_refused(self, server: SlackServer, blocks: list[dict[str, object]],
                                  code: str) -> None:  # fmt: skip
        """Too many blocks, a long section or header, or too much in all: refused like Slack."""
        with pytest.raises(SlackApiError) as e:
            client(server).chat_postMessage(channel="#drift", text="hi", blocks=blocks)
        assert e.value.response["error"] == code

    def test_webhook_refuses_oversized(self, server: SlackServer) -> None:
        """The webhook answers 400 with the code as its text."""
        response = WebhookClient(server.webhook_url).send(text="hi", blocks=[SECTION] * 51)
        assert (response.status_code, response.body) == (400, "invalid_blocks")


class TestWebhook:
    """Incoming webhooks."""

    def test_webhook_ok(self, server: SlackServer) -> None:
        """A valid webhook post gets 200 "ok" and is recorded."""
        response = WebhookClient(server.webhook_url).send(text="hi", blocks=[SECTION])
        assert (response.status_code, response.body) == (200, "ok")
        assert server.requests[0].body == {"text": "hi", "blocks": [SECTION]}

    def test_unknown_webhook_is_no_service(self, server: SlackServer) -> None:
        """A deleted webhook's URL answers 404 no_service."""
        response = WebhookClient(server.webhook_url.replace("XXX", "gone")).send(text="hi")
        assert (response.status_code, response.body) == (404, "no_service")

    def test_scripted_webhook_failure(self, server: SlackServer) -> None:
        """Scripted replies apply to webhooks too."""
        server.script(Reply.status_only(500))
        assert WebhookClient(server.webhook_url).send(text="hi").status_code == 500
        assert WebhookClient(server.webhook_url).send(text="hi").status_code == 200


class TestOutage:
    """Down and up again on the same port."""

    def test_down_then_up(self, server: SlackServer) -> None:
        """While down, connections are refused; up again, the same URL works."""
        url = server.url
        server.down()
        no_retries = WebClient(token=TOKEN, base_url=server.url, timeout=5, retry_handlers=[])
        with pytest.raises(URLError, match="refused"):
            no_retries.chat_postMessage(channel="#drift", text="hi")
        server.up()
        assert server.url == url
        assert client(server).chat_postMessage(channel="#drift", text="hi")["ok"] is True
