"""Deliver alerts to Slack with slack-sdk: a bot token or an incoming webhook, retried, never lost."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import InvalidURL
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from driftwatch import faults, logs
from driftwatch.daemon_config import SlackSettings
from driftwatch.outbox import AlertRow, Outbox
from driftwatch.secrets import Secret

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
    "ratelimited": "Slack asked driftwatch to wait (ratelimited) longer than a run waits; the alert "
                   "stays queued and goes out next cycle",
}  # fmt: skip
# Errors about the channel alone: other channels' alerts are still delivered.
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


class DeliveryError(Exception):
    """Slack did not accept a message; `code` is Slack's error (or a transport error's name).

    `uncertain`: the request went out whole and no answer came back (a timeout, a connection
    dropped while waiting): Slack may have posted it."""

    def __init__(self, code: str, sentence: str, uncertain: bool = False) -> None:
        super().__init__(sentence)
        self.code = code
        self.sentence = sentence
        self.uncertain = uncertain


class LookupUnavailable(DeliveryError):
    """Slack refused the history look-up (missing_scope ...): delivery falls back to at-least-once."""


# slack-sdk would sleep for whatever Retry-After says (120 s blocks the whole run): above this,
# the alert stays queued for the next run instead.
MAX_RETRY_AFTER_SECONDS = 5
EVENT_TYPE = "driftwatch_alert"  # the metadata event type that carries each post's alert key
LOOKUP_MARGIN_SECONDS = 120  # the look-up starts this long before the attempt (clock skew)
LOOKUP_PAGES = 5  # of 200 messages each: the bound of a history look-up
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")


class _CappedRateLimit(RateLimitErrorRetryHandler):
    """Waits out a 429's Retry-After up to MAX_RETRY_AFTER_SECONDS; a longer one ends the attempt."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:  # fmt: skip
        if response is None or response.status_code != 429:
            return False
        wait = next((v[0] for k, v in response.headers.items() if k.lower() == "retry-after"), "1")
        return wait.strip().isdigit() and int(wait) <= MAX_RETRY_AFTER_SECONDS


def _retry_handlers() -> list[RetryHandler]:
    # slack-sdk retries only connection errors by default: add 429 (honouring a short
    # Retry-After) and 5xx, a few times each; what still fails stays in the outbox for the next
    # cycle. Only URLError is retried among connection errors: urllib raises it before the
    # request went out whole, so Slack cannot hold it. A reset or timeout while waiting for the
    # answer may follow a post Slack kept: flush() looks it up instead of resending blindly.
    return [ConnectionErrorRetryHandler(max_retry_count=2, error_types=[URLError]),
            _CappedRateLimit(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)]  # fmt: skip


def _unsendable(e: Exception, what: str) -> DeliveryError:
    """An exception slack-sdk raised before sending (a malformed URL ...); its text may hold the URL."""
    if isinstance(e, ValueError | InvalidURL):
        return DeliveryError("invalid_url", f"the Slack {what} is not a usable URL ({type(e).__name__}); "
                             f"set it to the full https:// URL Slack gave you; the alert stays queued")
    return DeliveryError("client_error", f"posting to Slack failed inside driftwatch ({type(e).__name__}); "
                         "the alert stays queued and is retried next cycle; please report it")


@dataclass
class Sender:
    """Sends one payload; a bot token uses chat.postMessage, a webhook URL posts to itself."""

    settings: SlackSettings
    timeout: int = 15
    _client: WebClient | WebhookClient | None = field(default=None, init=False, repr=False)
    _ids: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # channel name -> id

    @property
    def idempotent(self) -> bool:
        """Whether a post can be looked up before it is resent (a bot token can, a webhook cannot)."""
        return self.settings.token is not None

    def _connect(self) -> WebClient | WebhookClient:
        if self._client is None:
            s = self.settings
            if s.token is not None:
                self._client = WebClient(token=s.token.reveal(), timeout=self.timeout,
                                         base_url=s.api_url or WebClient.BASE_URL,
                                         retry_handlers=_retry_handlers())  # fmt: skip
            elif s.webhook_url is not None:
                # Its path is the secret part, and slack-sdk's error lines print the path alone
                # (an http.client InvalidURL): a Secret of it gets it masked in every log line.
                Secret(urlsplit(s.webhook_url.reveal()).path)
                self._client = WebhookClient(s.webhook_url.reveal(), timeout=self.timeout,
                                             retry_handlers=_retry_handlers())  # fmt: skip
            else:
                raise DeliveryError("not_configured", "no [slack] token or webhook is configured")
        return self._client

    def send(self, message: Mapping[str, Any], channel: str | None = None, key: str | None = None) -> None:
        """Post once; with a bot token and `key`, the message's metadata carries the key."""
        target = channel or self.settings.channel
        try:
            self._post(message, target, key)
        except DeliveryError:
            raise
        except SlackApiError as e:
            raise self._error(_api_code(e), target) from None
        except URLError as e:  # before the request went out whole: Slack cannot hold it
            raise DeliveryError(type(e).__name__, f"Slack could not be reached ({type(e).__name__}); "
                                "the alert stays queued and is retried next cycle") from None  # fmt: skip
        except OSError as e:  # a timeout or a drop while waiting for the answer
            raise DeliveryError(type(e).__name__, f"Slack's answer did not arrive ({type(e).__name__}); "
                                "the alert stays queued and is checked for before it is sent again",
                                uncertain=True) from None  # fmt: skip
        except Exception as e:  # whatever slack-sdk raises: one alert never ends a run
            raise _unsendable(e, "api_url" if self.idempotent else "webhook URL") from None

    def _post(self, message: Mapping[str, Any], target: str | None, key: str | None) -> None:
        client = self._connect()
        if isinstance(client, WebClient):
            metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": key}} if key else None
            response = client.chat_postMessage(channel=target or "", text=message["text"],
                                               blocks=message.get("blocks"), metadata=metadata)  # fmt: skip
            if target and isinstance(response.get("channel"), str):
                self._ids[target] = response["channel"]  # the id conversations.history needs
            return
        answer = client.send(text=message["text"], blocks=message.get("blocks"))
        if answer.status_code != 200:
            raise self._error(_webhook_code(answer.status_code, answer.body), target)

    def find(self, key: str, channel: str | None, since: datetime) -> bool:
        """Whether the channel holds a post carrying `key`, posted since `since` (bounded look-up).

        LookupUnavailable when Slack refuses the look-up; DeliveryError when it cannot be reached."""
        target = channel or self.settings.channel or ""
        try:
            return self._find(key, target, since.timestamp() - LOOKUP_MARGIN_SECONDS)
        except SlackApiError as e:
            code = _api_code(e)
            if code == "ratelimited" or code.startswith("http_5"):  # transient: try again next cycle
                raise self._error(code, target) from None
            raise self._lookup_error(code, target) from None
        except OSError as e:
            raise DeliveryError(type(e).__name__, f"Slack could not be reached ({type(e).__name__}) to "
                                "check for an earlier post; the alert stays queued", uncertain=True) from None

    def _find(self, key: str, channel: str, oldest: float) -> bool:
        client = self._connect()
        assert isinstance(client, WebClient)  # noqa: S101 - only idempotent senders are asked
        cid, cursor = self._channel_id(client, channel), None
        for _ in range(LOOKUP_PAGES):
            page = client.conversations_history(channel=cid, oldest=f"{oldest:.6f}", limit=200,
                                                include_all_metadata=True, cursor=cursor)  # fmt: skip
            if any(_carries(m, key) for m in page.get("messages") or ()):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False

    def _channel_id(self, client: WebClient, channel: str) -> str:
        """conversations.history takes ids: a name is resolved once (conversations.list)."""
        if _CHANNEL_ID.fullmatch(channel) or channel in self._ids:
            return self._ids.get(channel, channel)
        name, cursor = channel.removeprefix("#"), None
        for _ in range(LOOKUP_PAGES):
            page = client.conversations_list(types="public_channel,private_channel", limit=200,
                                             exclude_archived=True, cursor=cursor)  # fmt: skip
            for c in page.get("channels") or ():
                if c.get("name") == name:
                    self._ids[channel] = str(c["id"])
                    return self._ids[channel]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        raise self._lookup_error("channel_not_found", channel)

    def _lookup_error(self, code: str, channel: str) -> LookupUnavailable:
        return LookupUnavailable(code, f"driftwatch cannot look up its earlier posts in {channel} ({code}); "
                                 "grant the bot channels:history and channels:read (groups:history and "
                                 "groups:read for a private channel), or set [slack] channel to the "
                                 "channel's id; until then an alert whose answer was lost may be posted "
                                 "twice")  # fmt: skip

    def _error(self, code: str, channel: str | None) -> DeliveryError:
        source = self.settings.token_source or "the configured token"
        template = FIXES.get(code, "Slack answered {code}; the alert stays queued and is retried next cycle")
        return DeliveryError(code, template.format(code=code, channel=channel or "(none)",
                                                   source=source))  # fmt: skip


def _carries(message: Mapping[str, Any], key: str) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("key") == key


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
          on_error: Callable[[DeliveryError], None],
          on_degraded: Callable[[DeliveryError], None] = lambda e: None) -> int:  # fmt: skip
    """Send pending alerts in order; returns how many Slack accepted (or was found to hold).

    A failure stops the flush, so each channel hears its alerts in order, except a failure that
    concerns one channel only (a per-comparison channel the bot is not in): that channel's alerts
    wait, and the other channels' alerts still go out. `on_degraded` hears a refused look-up.
    """
    sent, blocked = 0, set[str | None]()
    for row in outbox.pending():
        if row.channel in blocked:
            continue
        try:
            _deliver(outbox, sender, row, now, on_degraded)
        except DeliveryError as e:
            on_error(e)
            if e.code not in CHANNEL_ERRORS:
                return sent
            blocked.add(row.channel)
            continue
        sent += 1
    return sent


def _deliver(outbox: Outbox, sender: Sender, row: AlertRow, now: Callable[[], datetime],
             on_degraded: Callable[[DeliveryError], None]) -> None:  # fmt: skip
    """Post one alert exactly once where Slack allows a look-up; DeliveryError if it is not accepted.

    An attempt is recorded before it is made; one whose outcome is unknown (this run's timeout,
    or an earlier process killed mid-post) is looked up before the next post, once more here."""
    since = row.attempt_at  # a post since then may have reached Slack
    for second_try in (False, True):
        if since is not None and sender.idempotent:
            found = _look_up(outbox, sender, row, since, on_degraded)
            if found:
                outbox.mark_sent(row.id, now())
                logs.get().info("alert.found_in_slack", key=row.dedupe_key, kind=row.kind)
                return
            if found is False:
                since = None  # looked up: no earlier attempt reached the channel
        started = datetime.now(UTC)  # wall clock, as Slack's ts: the look-up window is in it
        outbox.mark_attempt(row.id, since or started)
        try:
            sender.send(row.message(), row.channel, key=row.dedupe_key)
        except DeliveryError as e:
            if e.uncertain and not second_try:
                since = since or started
                continue
            outbox.mark_failed(row.id, e.code, since or (started if e.uncertain else None))
            raise
        faults.point("slack-accepted")  # the crash tests' SIGKILL: Slack has it, not yet marked sent
        outbox.mark_sent(row.id, now())
        return


def _look_up(outbox: Outbox, sender: Sender, row: AlertRow, since: datetime,
             on_degraded: Callable[[DeliveryError], None]) -> bool | None:  # fmt: skip
    """True/False: whether Slack holds it; None: Slack refused the look-up (post again: at-least-once)."""
    try:
        return sender.find(row.dedupe_key, row.channel, since)
    except LookupUnavailable as e:
        on_degraded(e)
        return None
    except DeliveryError as e:
        outbox.mark_failed(row.id, e.code, since)
        raise
