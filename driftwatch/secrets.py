"""Secrets and redaction: passwords never reach logs, reports, metrics or exceptions."""

from __future__ import annotations

import re
import threading

import psycopg.conninfo

# Every secret value this process has loaded. Patterns catch passwords inside DSNs, but a Slack
# webhook URL or a bot token has no shape a pattern can trust (slack-sdk logs the webhook's URL at
# DEBUG; an api_url stand-in has no hooks.slack.com in it), so the values themselves are masked.
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
# Shorter values would mask ordinary words; a password that short is still masked inside a DSN.
_MIN_KNOWN_LENGTH = 6


class Secret:
    """A password held so that printing, logging or repr() never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= _MIN_KNOWN_LENGTH:
            with _KNOWN_LOCK:
                _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_URI_PASSWORD = re.compile(r"(?P<head>postgres(?:ql)?://[^:/@\s]*:)[^@]*?(?=@)")
_KV_PASSWORD = re.compile(r"(?P<head>password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_SLACK_TOKEN = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+")
_SLACK_WEBHOOK = re.compile(r"(?P<head>hooks\.slack\.com/)[\w/-]+")


def redact_text(text: str) -> str:
    """Mask every loaded secret, any Slack token or webhook path, and passwords in libpq URIs
    and key=value strings found inside `text`."""
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)  # a secret containing another goes first
    for value in known:
        if value in text:
            text = text.replace(value, "********")
    text = _SLACK_TOKEN.sub("xox*-********", text)
    text = _SLACK_WEBHOOK.sub(r"\g<head>********", text)
    text = _URI_PASSWORD.sub(r"\g<head>********", text)
    return _KV_PASSWORD.sub(r"\g<head>********", text)


def address(dsn: str) -> str:
    """`user@host:port/dbname` of a DSN, for humans: never the password or other options."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparseable DSN)"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    dbname = str(params.get("dbname") or params.get("user") or "")
    user = params.get("user")
    where = f"{host}:{port}/{dbname}" if not host.startswith("/") else f"{host}/{dbname}"
    return f"{user}@{where}" if user else where
