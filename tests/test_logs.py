"""Logging: one shape for our events and the standard library's, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from driftwatch import logs


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def _leak(dsn: str = "postgresql://app:local-secret@h/db") -> None:
    raise RuntimeError(f"cannot connect to postgresql://app:msg-secret@h/db via {len(dsn)}")


def test_json_lines_with_context_and_stdlib() -> None:
    """JSON lines carry bound context; APScheduler's stdlib records come out in the same shape."""
    buf = io.StringIO()
    logs.configure("json", stream=buf)
    logs.get(run_id="r1", comparison="uat:staging").info("check.finished", in_sync=False)
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    first, second = (json.loads(line) for line in buf.getvalue().splitlines())
    assert first["event"] == "check.finished"
    assert (first["run_id"], first["comparison"], first["level"]) == ("r1", "uat:staging", "info")
    assert second["logger"] == "apscheduler.scheduler"
    assert second["event"] == "Run time of job was missed"
    assert "timestamp" in second


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_secret_in_values_or_tracebacks(fmt: logs.LogFormat) -> None:
    """Passwords in values, exception messages and frame locals never reach the output."""
    buf = io.StringIO()
    logs.configure(fmt, stream=buf)
    log = logs.get()
    log.warning("connecting", dsn="postgresql://app:value-secret@h:5433/db")
    try:
        _leak()
    except RuntimeError:
        log.exception("check.crashed")
    text = buf.getvalue()
    assert "check.crashed" in text
    assert "RuntimeError" in text
    for secret in ("value-secret", "msg-secret", "local-secret"):
        assert secret not in text
