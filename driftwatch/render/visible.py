"""Control characters shown as escapes (`\\x1b`, `\\r`, `\\n`) in every terminal output.

A migration id or object name comes from a database someone else controls. Written raw to a
terminal, ESC sequences hide text or set the window title, CR overwrites a line, a newline
makes a fake line and a bidi override reorders what is read. The terminal renderers pass their
whole input through `visible_all` first, so no renderer can forget a name; JSON escapes by
itself, and the colours driftwatch adds itself are applied after this.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

T = TypeVar("T")

# C0 controls, DEL, C1 controls, and the Unicode bidi marks, embeddings, overrides, isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def visible(text: str) -> str:
    """`text` with every control character written as its escape."""
    return _CONTROL.sub(_escape, text)


def visible_all(value: T) -> T:
    """A copy of `value` (dataclasses, tuples, lists, dicts, strings) with every string visible()."""
    result: Any = value
    if isinstance(value, str) and type(value) is str:  # not a str Enum
        result = visible(value)
    elif isinstance(value, tuple | list):
        result = type(value)(visible_all(v) for v in value)
    elif isinstance(value, dict):
        result = {visible_all(k): visible_all(v) for k, v in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: visible_all(getattr(value, f.name))
                   for f in dataclasses.fields(value) if f.init}  # fmt: skip
        result = dataclasses.replace(value, **changes)
    return result  # type: ignore[no-any-return]
