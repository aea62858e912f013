"""Block Kit blocks and a builder that keeps a message within Slack's limits at any size."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION = 3000  # characters of a section or context text
MAX_HEADER = 150  # characters of a header's plain_text
MAX_PAYLOAD = 12_000  # JSON characters of text + blocks; Slack refuses about 13k (msg_blocks_too_long)
MORE_ROOM = 60  # kept free in each list section for its "… and N more" line
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

Block = dict[str, Any]


def fit(raw: str, limit: int) -> str:
    """`raw` escaped for mrkdwn, clipped with "…" so the escaped text stays within `limit`;
    clipping before escaping never splits an entity such as `&amp;`."""
    whole = "".join(_ESCAPES.get(ch, ch) for ch in raw[: limit + 1])
    if len(whole) <= limit and len(raw) <= limit:
        return whole
    out, used = [], 0
    for ch in raw:
        piece = _ESCAPES.get(ch, ch)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…"


def json_size(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False))


def header(text: str) -> Block:
    plain = " ".join(text.split())
    plain = plain if len(plain) <= MAX_HEADER else plain[: MAX_HEADER - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


@dataclass(frozen=True, slots=True)
class Listing:
    """A titled list of mrkdwn lines; `items` may be the first few of `total`."""

    head: str
    items: Sequence[str]
    total: int
    spill: bool = False  # continue in further sections instead of stopping after one


@dataclass
class Builder:
    """Adds blocks while they fit the room left; what does not fit is counted, never cut."""

    room: int  # JSON characters left
    slots: int  # blocks left
    blocks: list[Block] = field(default_factory=list)
    omitted: int = 0  # items of listings that got no section at all

    def add(self, block: Block) -> bool:
        cost = json_size(block) + 2  # ", " between blocks
        if self.slots < 1 or cost > self.room:
            return False
        self.blocks.append(block)
        self.slots, self.room = self.slots - 1, self.room - cost
        return True

    def add_listing(self, listing: Listing) -> None:
        start = 0
        while True:
            head = [listing.head] if start == 0 and listing.head else []
            end = self._fill(head, listing.items, start)
            if end == start:
                self.omitted += listing.total - start
                return
            lines, rest = [*head, *listing.items[start:end]], listing.total - end
            more_sections = listing.spill and end < len(listing.items) and self.slots > 1
            if rest and not more_sections:
                lines.append(f"_… and {rest:,} more_")
            if not self.add(section("\n".join(lines).strip("\n"))):  # _fill measured it; kept as a guard
                self.omitted += listing.total - start
                return
            if not more_sections:
                return
            start = end

    def _fill(self, head: list[str], items: Sequence[str], start: int) -> int:
        """How far from `start` the items fit in one section, with room for a "more" line."""
        chars = sum(len(h) + 1 for h in head)
        cost = json_size(section("\n".join(head))) + 2 + MORE_ROOM
        end = start
        for item in items[start:]:
            chars += len(item) + 1
            cost += json_size(item)  # the quotes it adds stand in for the "\n" it needs
            if self.slots < 1 or chars > MAX_SECTION - MORE_ROOM or cost > self.room:
                break
            end += 1
        return end
