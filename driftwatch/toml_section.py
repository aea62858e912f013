"""Typed reads from one TOML table that collect located problems instead of raising."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Section:
    """Typed reads from one TOML table; records problems instead of raising."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: list[str]) -> None:
        self.data, self.where, self.problems = data, where, problems
        self.seen: set[str] = set()

    def problem(self, key: str | None, message: str) -> None:
        location = f"{self.where}.{key}" if key else self.where
        self.problems.append(f"{location}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.seen.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        # bool is an int in Python, but `connect_timeout = true` is a mistake, not a 1.
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            value = None
        if not isinstance(value, kind):
            self.problem(key, f"expected {_type_name(kind)}, got {describe(self.data[key])}")
            return default
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        if not all(isinstance(v, str) for v in values):
            self.problem(key, "expected a list of strings")
            return ()
        return tuple(values)

    def finish(self, allowed_hint: str = "") -> None:
        for key in sorted(set(self.data) - self.seen):
            known = ", ".join(sorted(self.seen))
            self.problem(key, f"unknown key (known keys here: {known}){allowed_hint}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}  # fmt: skip
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def describe(value: object) -> str:
    """A short `type value` rendering of a wrong value for an error message."""
    return f"{type(value).__name__} {value!r}"[:80]
