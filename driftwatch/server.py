"""The daemon's HTTP port: /metrics for Prometheus, /healthz and /readyz for orchestrators, /reports/."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from driftwatch.server_reports import Response, serve_reports
from driftwatch.state import State


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What the handlers read: the metrics registry, the latest state, and liveness."""

    registry: CollectorRegistry
    state: Callable[[], State]
    alive: Callable[[], bool]  # the scheduler is running
    reports: Path | None = None  # the folder served read-only under /reports/


def _handler(endpoints: Endpoints) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "driftwatch"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(HTTPStatus.OK, generate_latest(endpoints.registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = endpoints.alive()
                self._text(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE,
                           "ok\n" if ok else "scheduler not running\n")  # fmt: skip
            elif path == "/reports" or path.startswith("/reports/"):
                self._reply(serve_reports(endpoints.reports, path))
            elif path == "/readyz":
                ready = endpoints.state().ready
                self._text(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE,
                           "ready\n" if ready else "no check has completed yet\n")  # fmt: skip
            else:
                self._text(HTTPStatus.NOT_FOUND, "not found: try /metrics, /healthz, /readyz, /reports/\n")

        def _reply(self, r: Response) -> None:
            self._send(r.status, r.body, r.content_type, r.headers)

        def _text(self, status: HTTPStatus, text: str) -> None:
            self._send(status, text.encode(), "text/plain; charset=utf-8")

        def _send(self, status: HTTPStatus, body: bytes, content_type: str,
                  headers: tuple[tuple[str, str], ...] = ()) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # Scrapes every 15 s would drown the log; access logging is the proxy's job.
            return

    return Handler


class HttpServer:
    """A threaded HTTP server on `host:port` (port 0 picks a free one), run in the background."""

    def __init__(self, host: str, port: int, endpoints: Endpoints) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(endpoints))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
