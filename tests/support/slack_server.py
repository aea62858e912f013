"""A local stand-in for Slack's Web API and incoming webhooks that answers the way Slack does."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

WEBHOOK_PATH = "/webhook/T000/B000/XXX"
TOKEN = "xoxb-test-token"
TS = "1700000000.000100"
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
        path = self.path.split("?", 1)[0]
        body = _parse(raw, self.headers.get("Content-Type", ""))
        stand_in = self.server.stand_in
        stand_in.record(Recorded(path, {k.lower(): v for k, v in self.headers.items()}, body,
                                 time.monotonic()))  # fmt: skip
        reply = stand_in.next_scripted() or stand_in.answer(path, self.headers.get("Authorization", ""), body)
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

    def __init__(self, tokens: tuple[str, ...] = (TOKEN,), channels: tuple[str, ...] | None = None) -> None:
        self.tokens, self.channels = tokens, channels  # channels None: every channel exists
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
        if method == "chat.postMessage":
            return self._post_message(body)
        return Reply.error("unknown_method")

    def _post_message(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return Reply.error("invalid_json")
        channel = body.get("channel")
        if not channel or (self.channels is not None and channel not in self.channels):
            return Reply.error("channel_not_found")
        if error := limit_error(body):
            return Reply.error(error)
        message = {"type": "message", "user": "U000", "bot_id": "B000", "text": body.get("text", ""),
                   "blocks": body.get("blocks") or [], "ts": TS}  # fmt: skip
        return Reply(200, {"ok": True, "channel": channel, "ts": TS, "message": message})

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
