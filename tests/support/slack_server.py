"""A local stand-in for Slack's Web API and incoming webhooks that answers the way Slack does."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WEBHOOK_PATH = "/webhook/T000/B000/XXX"
TOKEN = "xoxb-test-token"
TS = "1700000000.000100"
# What a bot token of driftwatch's app holds; a stand-in built with fewer answers missing_scope.
SCOPES = frozenset({"chat:write", "channels:history", "groups:history", "channels:read", "groups:read"})
# Slack's documented limits; the stand-in refuses what Slack refuses, with Slack's error codes.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_PAYLOAD = 13_000
MAX_TEXT = 40_000


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer: a JSON body (dict) or a text body (str), with status and headers."""

    status: int = 200
    body: Mapping[str, Any] | str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    # accept: handle the request as Slack would (a post is stored), then answer after `delay`
    # seconds, or with `drop` close the connection instead of answering (a reset after sending).
    accept: bool = False
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def accepted_late(cls, delay: float) -> Reply:
        """Slack takes the post at once but its answer arrives `delay` seconds later."""
        return cls(accept=True, delay=delay)

    @classmethod
    def accepted_then_reset(cls) -> Reply:
        """Slack takes the post, then the connection drops before any answer."""
        return cls(accept=True, drop=True)

    @classmethod
    def error(cls, code: str) -> Reply:
        """What the Web API answers for a refused call: HTTP 200 with ok false."""
        return cls(200, {"ok": False, "error": code})

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Reply:
        return cls(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    @classmethod
    def status_only(cls, status: int) -> Reply:
        return cls(status, "")


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the stand-in received it."""

    path: str
    headers: Mapping[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the form fields as a dict
    at: float  # time.monotonic() on arrival


def size(body: Mapping[str, Any]) -> int:
    """Characters of text + blocks as JSON: the measure Slack's "about 13k" applies to."""
    return len(json.dumps({"text": body.get("text", ""), "blocks": body.get("blocks") or []},
                          ensure_ascii=False))  # fmt: skip


def _block_error(block: Any) -> bool:
    if not isinstance(block, dict) or "type" not in block:
        return True
    if block["type"] == "header":
        text = block.get("text") or {}
        return text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= MAX_HEADER
    if block["type"] == "section":
        text = (block.get("text") or {}).get("text", "")
        return not isinstance(text, str) or not 0 < len(text) <= MAX_SECTION
    if block["type"] == "context":
        elements = block.get("elements") or []
        return not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS or any(
            not 0 < len(e.get("text", "")) <= MAX_SECTION for e in elements)
    return False


def limit_error(body: Mapping[str, Any]) -> str | None:
    """Slack's error code for a message it would refuse, or None."""
    blocks, text = body.get("blocks"), body.get("text")
    if not blocks and not text:
        return "no_text"
    if blocks is not None and (not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS
                               or any(_block_error(b) for b in blocks)):  # fmt: skip
        return "invalid_blocks"
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return "msg_too_long"
    return "msg_blocks_too_long" if size(body) > MAX_PAYLOAD else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._handle(self.path.split("?", 1)[0], _parse(raw, self.headers.get("Content-Type", "")))

    def do_GET(self) -> None:
        # slack-sdk sends the read methods (conversations.history, conversations.list) as GET.
        url = urlsplit(self.path)
        self._handle(url.path, dict(parse_qsl(url.query)))

    def _handle(self, path: str, body: Any) -> None:
        stand_in = self.server.stand_in
        stand_in.record(Recorded(path, {k.lower(): v for k, v in self.headers.items()}, body,
                                 time.monotonic()))  # fmt: skip
        scripted = stand_in.next_scripted()
        if scripted is None or scripted.accept:
            reply = stand_in.answer(path, self.headers.get("Authorization", ""), body)
        else:
            reply = scripted
        if scripted is not None and scripted.accept:
            time.sleep(scripted.delay)
            if scripted.drop:
                self.close_connection = True
                return
        with contextlib.suppress(OSError):  # a client that gave up waiting has gone
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        is_json = not isinstance(reply.body, str)
        data = (json.dumps(reply.body) if is_json else str(reply.body)).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _parse(raw: bytes, content_type: str) -> Any:
    if content_type.startswith("application/json"):
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None
    return dict(parse_qsl(raw.decode("utf-8", "replace")))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: SlackServer


class SlackServer:
    """Slack on 127.0.0.1: `url` for WebClient(base_url=...), `webhook_url` for WebhookClient."""

    def __init__(self, tokens: tuple[str, ...] = (TOKEN,), channels: tuple[str, ...] | None = None,
                 scopes: frozenset[str] = SCOPES) -> None:  # fmt: skip
        self.tokens, self.channels = tokens, channels  # channels None: every channel exists
        self.scopes = scopes
        self._ids: dict[str, str] = {}  # "#platform" -> "C0000000001", as Slack gives them out
        self._history: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self._ts = itertools.count(int(time.time() * 1_000_000))  # Slack's ts: unique per channel
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._http: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order, before answering normally again."""
        with self._lock:
            self._script.extend(replies)

    def channel_id(self, channel: str) -> str | None:
        """Slack's id for a channel given by name (with or without #) or by id; None if it has none."""
        with self._lock:
            if channel in self._ids.values():
                return channel
            name = "#" + channel.removeprefix("#")
            if self.channels is not None and name not in self.channels:
                return None
            return self._ids.setdefault(name, f"C{len(self._ids) + 1:010d}")

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The messages Slack holds for a channel, oldest first, metadata included."""
        cid = self.channel_id(channel)
        with self._lock:
            return [dict(m) for m in self._history.get(cid or "", [])]

    def next_scripted(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def answer(self, path: str, auth: str, body: Any) -> Reply:
        """What Slack says to an unscripted request (`auth`: its Authorization header)."""
        if path.startswith("/webhook/"):
            return self._webhook(path, body)
        if not path.startswith("/api/"):
            return Reply(404, "not found")
        return self._api(path.removeprefix("/api/"), auth, body)

    def _api(self, method: str, auth: str, body: Any) -> Reply:
        if not auth.startswith("Bearer "):
            return Reply.error("not_authed")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return Reply.error("invalid_auth")
        if method == "auth.test":
            return Reply(200, {"ok": True, "url": "https://driftwatch-test.slack.com/", "team": "Test",
                               "user": "driftwatch", "team_id": "T000", "user_id": "U000",
                               "bot_id": "B000"})  # fmt: skip
        methods = {"chat.postMessage": self._post_message, "conversations.history": self._history_page,
                   "conversations.list": self._list}  # fmt: skip
        return methods[method](body) if method in methods else Reply.error("unknown_method")

    def _post_message(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return Reply.error("invalid_json")
        channel = self.channel_id(str(body.get("channel") or "")) if body.get("channel") else None
        if channel is None:
            return Reply.error("channel_not_found")
        if error := limit_error(body):
            return Reply.error(error)
        metadata = body.get("metadata")
        if isinstance(metadata, str):  # a form-encoded post carries it as JSON text
            metadata = json.loads(metadata)
        if metadata is not None and not (isinstance(metadata, dict) and isinstance(
                metadata.get("event_type"), str) and isinstance(metadata.get("event_payload"), dict)):
            return Reply.error("invalid_metadata_format")
        ts = f"{next(self._ts) / 1_000_000:.6f}"
        message = {"type": "message", "user": "U000", "bot_id": "B000", "text": body.get("text", ""),
                   "blocks": body.get("blocks") or [], "ts": ts}  # fmt: skip
        if metadata is not None:
            message["metadata"] = {**metadata, "app_id": "A000"}
        with self._lock:
            self._history.setdefault(channel, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return Reply(200, {"ok": True, "channel": channel, "ts": ts, "message": shown})

    def _history_page(self, params: Mapping[str, str]) -> Reply:
        """conversations.history: newest first, oldest/latest exclusive, metadata only if asked."""
        if not {"channels:history", "groups:history"} & self.scopes:
            return self._missing_scope("channels:history,groups:history")
        cid = params.get("channel", "")
        with self._lock:
            known = cid in self._ids.values()
            history = list(self._history.get(cid, []))
        if not known:  # a name is not an id: Slack answers channel_not_found
            return Reply.error("channel_not_found")
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or time.time() + 1)
        newest_first = [m for m in reversed(history) if oldest < float(m["ts"]) < latest]
        if params.get("include_all_metadata") not in ("1", "true"):
            newest_first = [{k: v for k, v in m.items() if k != "metadata"} for m in newest_first]
        start, limit = int(params.get("cursor") or 0), min(int(params.get("limit") or 100), 999)
        page, rest = newest_first[start:start + limit], newest_first[start + limit:]
        return Reply(200, {"ok": True, "messages": page, "has_more": bool(rest),
                           "response_metadata": {"next_cursor": str(start + limit) if rest else ""}})

    def _list(self, params: Mapping[str, str]) -> Reply:
        if not {"channels:read", "groups:read"} & self.scopes:
            return self._missing_scope("channels:read,groups:read")
        for name in self.channels or ():
            self.channel_id(name)
        with self._lock:
            channels = [{"id": cid, "name": name.removeprefix("#"), "is_channel": True,
                         "is_private": False, "is_archived": False}
                        for name, cid in self._ids.items()]  # fmt: skip
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        rest = channels[start + limit:]
        return Reply(200, {"ok": True, "channels": channels[start:start + limit],
                           "response_metadata": {"next_cursor": str(start + limit) if rest else ""}})

    def _missing_scope(self, needed: str) -> Reply:
        return Reply(200, {"ok": False, "error": "missing_scope", "needed": needed,
                           "provided": ",".join(sorted(self.scopes))})  # fmt: skip

    def _webhook(self, path: str, body: Any) -> Reply:
        if path != WEBHOOK_PATH:
            return Reply(404, "no_service")
        if not isinstance(body, dict):
            return Reply(400, "invalid_payload")
        error = limit_error(body)
        return Reply(400, error) if error else Reply(200, "ok")

    def up(self) -> None:
        """Listen (again, on the same port after `down`)."""
        self._http = _Server(("127.0.0.1", self.port), _Handler)
        self._http.stand_in = self
        self.port = self._http.server_address[1]
        # A short poll keeps `down` (shutdown waits for the next poll) from costing half a second.
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening: clients now get connection refused, as during an outage."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SlackServer:
        self.up()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.down()
