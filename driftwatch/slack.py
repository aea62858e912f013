"""Deliver alerts to Slack with slack-sdk: a bot token or an incoming webhook, retried, never lost."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from driftwatch import faults
from driftwatch.daemon_config import SlackSettings
from driftwatch.outbox import Outbox

# What to do about each error Slack can answer with, in one sentence ({channel}, {source}).
FIXES = {
    "invalid_auth": "Slack rejected the bot token (invalid_auth); check that {source} holds a "
                    "current bot token (xoxb-...)",
    "not_authed": "Slack received no token (not_authed); set [slack] token_env or token_file",
    "account_inactive": "the token's Slack app or user was deactivated (account_inactive); "
                        "install the app again and update {source}",
    "token_revoked": "the bot token was revoked (token_revoked); update {source}",
    "channel_not_found": "Slack has no channel {channel} the bot can see (channel_not_found); check "
                         "[slack] channel, or invite the app to the private channel",
    "not_in_channel": "the bot is not in {channel} (not_in_channel); invite it with /invite",
    "is_archived": "{channel} is archived (is_archived); pick another [slack] channel",
    "no_service": "the incoming webhook no longer exists (no_service); create a new one and "
                  "update [slack] webhook_url_env or webhook_url_file",
    "invalid_blocks": "Slack refused the message layout (invalid_blocks); this is a driftwatch bug, "
                      "please report it",
    "msg_blocks_too_long": "Slack found the message too long (msg_blocks_too_long); this is a "
                           "driftwatch bug, please report it",
}  # fmt: skip
# Errors about the channel alone: other channels' alerts are still delivered.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


class DeliveryError(Exception):
    """Slack did not accept a message; `code` is Slack's error (or a transport error's name)."""

    def __init__(self, code: str, sentence: str) -> None:
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence


def _retry_handlers() -> list[RetryHandler]:
    # slack-sdk retries only connection errors by default: add 429 (honouring Retry-After)
    # and 5xx, a few times each; what still fails stays in the outbox for the next cycle.
    return [ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2)]  # fmt: skip


@dataclass
class Sender:
    """Sends one payload; a bot token uses chat.postMessage, a webhook URL posts to itself."""

    settings: SlackSettings
    timeout: int = 15
    _client: WebClient | WebhookClient | None = field(default=None, init=False, repr=False)

    def _connect(self) -> WebClient | WebhookClient:
        if self._client is None:
            s = self.settings
            if s.token is not None:
                self._client = WebClient(token=s.token.reveal(), timeout=self.timeout,
                                         base_url=s.api_url or WebClient.BASE_URL,
                                         retry_handlers=_retry_handlers())  # fmt: skip
            elif s.webhook_url is not None:
                self._client = WebhookClient(s.webhook_url.reveal(), timeout=self.timeout,
                                             retry_handlers=_retry_handlers())  # fmt: skip
            else:
                raise DeliveryError("not_configured", "no [slack] token or webhook is configured")
        return self._client

    def send(self, message: Mapping[str, Any], channel: str | None = None) -> None:
        client, target = self._connect(), channel or self.settings.channel
        try:
            if isinstance(client, WebClient):
                client.chat_postMessage(channel=target or "", text=message["text"],
                                        blocks=message.get("blocks"))  # fmt: skip
                return
            response = client.send(text=message["text"], blocks=message.get("blocks"))
        except SlackApiError as e:
            raise self._error(_api_code(e), target) from None
        except OSError as e:
            raise DeliveryError(type(e).__name__, f"Slack could not be reached ({type(e).__name__}); "
                                "the alert stays queued and is retried next cycle") from None  # fmt: skip
        if response.status_code != 200:
            raise self._error(_webhook_code(response.status_code, response.body), target)

    def _error(self, code: str, channel: str | None) -> DeliveryError:
        source = self.settings.token_source or "the configured token"
        template = FIXES.get(code, "Slack answered {code}; the alert stays queued and is retried next cycle")
        return DeliveryError(code, template.format(code=code, channel=channel or "(none)",
                                                   source=source))  # fmt: skip


# A Slack error code, as a metric label value and a log field: short, lower-case, no free text.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _api_code(e: SlackApiError) -> str:
    """Slack's `error` field; for an answer that has none (a 5xx page, a proxy's error) the status."""
    error = e.response.get("error") if isinstance(e.response.data, dict) else None
    if isinstance(error, str) and _CODE.fullmatch(error):
        return error
    return f"http_{e.response.status_code}"


def _webhook_code(status: int, body: str | None) -> str:
    """A webhook answers its error as the body's text (`no_service`); anything else is the status."""
    text = (body or "").strip()
    return text if _CODE.fullmatch(text) else f"http_{status}"


def flush(outbox: Outbox, sender: Sender, now: Callable[[], datetime],
          on_error: Callable[[DeliveryError], None]) -> int:  # fmt: skip
    """Send pending alerts in order; returns how many Slack accepted.

    A failure stops the flush, so each channel hears its alerts in order, except a failure that
    concerns one channel only (a per-comparison channel the bot is not in): that channel's alerts
    wait, and the other channels' alerts still go out.
    """
    sent, blocked = 0, set[str | None]()
    for row in outbox.pending():
        if row.channel in blocked:
            continue
        try:
            sender.send(row.message(), row.channel)
        except DeliveryError as e:
            outbox.mark_failed(row.id, e.code)
            on_error(e)
            if e.code not in CHANNEL_ERRORS:
                return sent
            blocked.add(row.channel)
            continue
        faults.point("slack-accepted")  # the crash tests' SIGKILL: Slack has it, not yet marked sent
        outbox.mark_sent(row.id, now())
        sent += 1
    return sent
