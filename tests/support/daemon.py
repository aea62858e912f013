"""`driftwatch run` as a subprocess for end-to-end tests: its JSON log events and its HTTP port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

DRIFTWATCH = str(Path(sys.executable).parent / "driftwatch")


class Daemon:
    """A `driftwatch run` subprocess whose JSON log lines the test reads."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        """`env`: variables added to this process's environment (a crash test's fault point)."""
        self.proc = subprocess.Popen(
            [DRIFTWATCH, "run", "--config", str(config), "--log-format", "json"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})})  # fmt: skip
        self.events: list[dict[str, object]] = []

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            record: dict[str, object] = json.loads(line)
            self.events.append(record)
            if record["event"] == event:
                return record
        pytest.fail(f"no {event!r} log event; saw {[e['event'] for e in self.events]}")

    def port(self) -> int:
        started = next(e for e in self.events if e["event"] == "daemon.started")
        return int(str(started["listen"]).rsplit(":", 1)[1])

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port()}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
