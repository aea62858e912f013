"""Logging: structlog events as JSON lines (or readable on a terminal), secrets never included.

The standard library's loggers (APScheduler, psycopg, slack-sdk) go through the same
processors and renderer, so every line has one shape. Tracebacks are rendered without local
variables: a frame's locals can hold a DSN or a token.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from driftwatch.secrets import redact_text

LogFormat = Literal["auto", "json", "console"]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Mask passwords in every string, nested ones too (a traceback can quote a DSN)."""
    return {key: _scrub(value) for key, value in event.items()}


def _renderer(fmt: LogFormat, stream: TextIO) -> Processor:
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    if use_console:
        return structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback)
    return structlog.processors.JSONRenderer()


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure(fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog and route the standard library's logging through it."""
    out = stream or sys.stderr
    json_tracebacks = structlog.processors.ExceptionRenderer(
        ExceptionDictTransformer(show_locals=False))
    renderer = _renderer(fmt, out)
    # Tracebacks become data (JSON) or text (console) *before* redact runs over them.
    tail: list[Processor] = [structlog.processors.format_exc_info] if isinstance(
        renderer, structlog.dev.ConsoleRenderer) else [json_tracebacks]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, redact,
                    renderer],
    )  # fmt: skip
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # psycopg and APScheduler are chatty at INFO about things driftwatch already reports.
    for noisy in ("apscheduler.scheduler", "apscheduler.executors", "psycopg"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get(name: str = "driftwatch", **context: Any) -> structlog.stdlib.BoundLogger:
    """A logger with bound context (run id, comparison, environment, job)."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger.bind(**context) if context else logger


# Context for everything logged inside a `with` block (this thread, or a copied context).
bound = structlog.contextvars.bound_contextvars
