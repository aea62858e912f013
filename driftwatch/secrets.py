"""Secrets and redaction: passwords never reach logs, reports, metrics or exceptions."""

from __future__ import annotations

import re

import psycopg.conninfo


class Secret:
    """A password held so that printing, logging or repr() never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

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


def redact_text(text: str) -> str:
    """Mask passwords in any libpq URI or key=value string found inside `text`."""
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
