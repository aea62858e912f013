"""Hand-written inline SVG charts for the HTML report: no scripts, no external assets (pure)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

from driftwatch.report.timeline import Segment

WIDTH = 720
COLORS = {"in_sync": "#2e7d32", "drift": "#c62828", "unchecked": "#ef9f00", "no_data": "#d9dde3"}
LABELS = {"in_sync": "in sync", "drift": "drift", "unchecked": "could not check", "no_data": "no check"}
ENV_COLORS = ("#1f5fa8", "#7b3fa0", "#00838f", "#8d6e00", "#ad1457", "#455a64")
FONT = 'font-family="inherit" font-size="11" fill="#333"'


@dataclass(frozen=True, slots=True)
class Axis:
    """Maps times of [since, until) to x positions between `left` and `right`."""

    since: datetime
    until: datetime
    timezone: str
    left: float = 8.0
    right: float = WIDTH - 8.0

    def x(self, at: datetime) -> float:
        span = (self.until - self.since).total_seconds() or 1.0
        frac = min(1.0, max(0.0, (at - self.since).total_seconds() / span))
        return round(self.left + frac * (self.right - self.left), 2)

    def ticks(self) -> list[tuple[datetime, str]]:
        """Midnights in the report's time zone, at most about ten of them, labelled "Mon 1 Dec"."""
        tz = ZoneInfo(self.timezone)
        local = self.since.astimezone(tz)
        day = datetime.combine(local.date(), time(), tz)
        days = max(1, math.ceil((self.until - self.since) / timedelta(days=1)))
        step = max(1, math.ceil(days / 10))
        out = []
        while day < self.until:
            if day >= self.since:
                out.append((day, f"{day:%a} {day.day} {day:%b}"))
            day = datetime.combine(day.date() + timedelta(days=step), time(), tz)
        return out


def _svg(height: float, label: str, body: Sequence[str]) -> str:
    # viewBox + width 100%: it scales with the page and prints at the page's width.
    # No xmlns: inline in HTML the parser puts <svg> in the SVG namespace itself.
    return (f'<svg viewBox="0 0 {WIDTH} {height:g}" width="100%" '
            f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
            + "".join(body) + "</svg>")  # fmt: skip


def _grid(axis: Axis, top: float, bottom: float) -> list[str]:
    out = []
    for at, text in axis.ticks():
        x = axis.x(at)
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="#fff" stroke-width="1"/>')
        out.append(f'<text x="{x + 3}" y="{bottom + 13}" {FONT}>{escape(text)}</text>')
    return out


def timeline(segments: Sequence[Segment], axis: Axis, label: str) -> str:
    """One bar across the period: green in sync, red drift, amber could not check, grey no check."""
    top, height = 4.0, 26.0
    body = [f'<rect x="{axis.left}" y="{top}" width="{axis.right - axis.left}" height="{height}" '
            f'fill="#f4f5f7" stroke="#c8ccd2"/>']  # fmt: skip
    tz = ZoneInfo(axis.timezone)
    for s in segments:
        x0, x1 = axis.x(s.start), axis.x(s.end)
        start, end = s.start.astimezone(tz), s.end.astimezone(tz)  # hover text in the report's zone
        body.append(f'<rect x="{x0}" y="{top}" width="{max(x1 - x0, 0.5):.2f}" height="{height}" '
                    f'fill="{COLORS[s.status]}"><title>{LABELS[s.status]}: {start:%a %H:%M} to '
                    f'{end:%a %H:%M}</title></rect>')  # fmt: skip
    body += _grid(axis, top, top + height)
    return _svg(top + height + 18, label, body)


def _nice_max(value: int) -> int:
    if value <= 4:
        return max(value, 1)
    magnitude = int(10 ** (len(str(value)) - 1))
    return -(-value // magnitude) * magnitude  # rounded up to one significant digit


def step_line(series: Sequence[tuple[datetime, int | None]], axis: Axis, end: datetime, label: str) -> str:
    """A step chart of a count over time; a check that could not compare leaves a gap."""
    top, bottom, left = 8.0, 98.0, 44.0
    axis = Axis(axis.since, axis.until, axis.timezone, left, axis.right)
    peak = _nice_max(max((v for _, v in series if v is not None), default=0))

    def y(v: int) -> float:
        return round(bottom - (bottom - top) * v / peak, 2)

    body = [f'<rect x="{left}" y="{top}" width="{axis.right - left}" height="{bottom - top}" '
            'fill="#f4f5f7"/>']
    for v in sorted({0, peak, peak // 2}):
        body.append(f'<text x="{left - 6}" y="{y(v) + 4}" text-anchor="end" {FONT}>{v:,}</text>')
    body += _grid(axis, top, bottom)
    body += [f'<path d="{d}" fill="none" stroke="#c62828" stroke-width="2"/>'
             for d in _paths(series, axis, end, y)]
    return _svg(bottom + 18, label, body)


def _paths(series: Sequence[tuple[datetime, int | None]], axis: Axis, end: datetime,
           y: Callable[[int], float]) -> list[str]:  # fmt: skip
    """SVG path data per unbroken run of values, each value held until the next point."""
    paths, current = [], ""
    for i, (at, value) in enumerate(series):
        nxt = series[i + 1][0] if i + 1 < len(series) else end
        if value is None:
            if current:
                paths.append(current)
            current = ""
            continue
        x0, x1, yy = axis.x(at), axis.x(nxt), y(value)
        current += f"{'M' if not current else 'L'}{x0},{yy} L{x1},{yy} "
    return [p.strip() for p in [*paths, current] if p]


def sizes(envs: Sequence[tuple[str, Mapping[str, int] | None, Mapping[str, int] | None]],
          kinds: Sequence[tuple[str, str]], label: str) -> str:  # fmt: skip
    """Small multiples, one per kind: a bar per environment, its length the size at the period's end
    and a thin mark where it started."""
    row, gap, name_w = 16.0, 10.0, 90.0
    panel_w = (WIDTH - 8) / len(kinds)
    body, height = [], 20 + len(envs) * (row + 4)
    for k, (kind, title) in enumerate(kinds):
        x0 = 8 + k * panel_w
        peak = max([max(s.get(kind, 0) if s else 0, e.get(kind, 0) if e else 0) for _, s, e in envs] + [1])
        width = panel_w - name_w - gap - 40
        body.append(f'<text x="{x0}" y="12" {FONT} font-weight="600">{escape(title)}</text>')
        for i, (env, start, end) in enumerate(envs):
            top = 20 + i * (row + 4)
            color = ENV_COLORS[i % len(ENV_COLORS)]
            body.append(f'<text x="{x0}" y="{top + 12}" {FONT}>{escape(env[:14])}</text>')
            if end is None:
                body.append(f'<text x="{x0 + name_w}" y="{top + 12}" {FONT}>no data</text>')
                continue
            bar = width * end.get(kind, 0) / peak
            body.append(f'<rect x="{x0 + name_w}" y="{top}" width="{bar:.2f}" height="{row}" '
                        f'fill="{color}"/>')
            if start is not None:
                sx = x0 + name_w + width * start.get(kind, 0) / peak
                body.append(f'<line x1="{sx:.2f}" y1="{top - 2}" x2="{sx:.2f}" y2="{top + row + 2}" '
                            f'stroke="#111" stroke-width="2"><title>at the start: {start.get(kind, 0):,}'
                            "</title></line>")  # fmt: skip
            body.append(f'<text x="{x0 + name_w + bar + 4:.2f}" y="{top + 12}" {FONT}>'
                        f"{end.get(kind, 0):,}</text>")
    return _svg(height + gap, label, body)
