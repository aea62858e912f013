"""Slack alerts as Block Kit messages: pure builders whose output always fits Slack's limits."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from driftwatch.model import KINDS, PLURALS, Difference
from driftwatch.render.slack_blocks import (
    MAX_BLOCKS,
    MAX_PAYLOAD,
    Block,
    Builder,
    Listing,
    context,
    fit,
    header,
    json_size,
    section,
)
from driftwatch.render.terminal import STATUS_TEXT, describe
from driftwatch.render.visible import visible

MAX_FALLBACK = 3000
MAX_ITEM = 300  # one escaped list line: a huge name is clipped so the list still shows several
MAX_NAME = 40  # an environment name in headers and sentences
IDS_SHOWN = 25  # migrations listed before "… and N more": the first ones are the next to apply
PER_KIND = 5  # differences described per kind
CHANGES_SHOWN = 15
SYNC_COMMAND = "driftwatch sync --comparison {comparison} --dry-run"

Kind = Literal["opened", "changed", "reminder", "resolved", "unreachable", "reachable", "test", "weekly"]
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything one Slack message says; built by the alert policy, rendered here."""

    kind: Kind
    severity: Severity
    reference: str
    target: str
    at: datetime  # when driftwatch decided to alert (tz-aware)
    report: Mapping[str, Any] | None = None  # the latest driftwatch.report/v1 document
    drift_started: datetime | None = None
    added: Mapping[str, Sequence[str]] | None = None  # "changed": summary lists now drifting
    removed: Mapping[str, Sequence[str]] | None = None  # "changed": no longer drifting
    environment: str | None = None
    error: str | None = None
    failures: int = 0
    mention: str | None = None
    dashboard_url: str | None = None
    report_url: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message as chat.postMessage and incoming webhooks take it."""

    text: str  # the plain-text fallback (notifications, screen readers); always set
    blocks: tuple[Mapping[str, Any], ...]

    def payload(self, channel: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text, "blocks": [dict(b) for b in self.blocks]}
        return body | ({"channel": channel} if channel else {})


def _code(raw: str) -> str:
    # A code span formats nothing inside; a control shows as `\n` (the name keeps its line),
    # and a backtick, which would end the span, as its look-alike U+02CB.
    flat = visible(raw).replace("`", "\u02cb")
    return f"`{fit(flat, MAX_ITEM - 2)}`"


def _name(display_name: str) -> str:
    return fit(display_name, 5 * MAX_NAME)  # room for escapes; display() already clipped it


def display(env: str) -> str:
    """How an environment is named to people: "uat" → "UAT", "staging" → "Staging"."""
    name = " ".join(env.split())[:MAX_NAME]
    return name.upper() if len(name) <= 3 else name[:1].upper() + name[1:]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def duration(span: timedelta) -> str:
    """A span as people say it: "3 days 4 h", "5 h 12 min", "12 min"."""
    days, rest = divmod(max(0, int(span.total_seconds() // 60)), 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _plural(days, "day") + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {mins} min" if mins else "")
    return f"{mins} min" if mins else "less than a minute"


def _when(at: datetime) -> str:
    # Slack shows <!date^...> in each reader's own time zone; the UTC text is the fallback.
    utc = at.astimezone(UTC)
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} at {{time}}|{utc:%Y-%m-%d %H:%M} UTC>"


def _url(url: str | None) -> str | None:
    # Inside <url|label> a "|" or ">" would end the link; an absurdly long URL is left out, never cut.
    if not url or len(url) > 1000:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _differences(report: Mapping[str, Any], ref: str, tgt: str) -> list[Listing]:
    """One listing per kind, in contract order, each describing its first few."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for d in (report.get("schema") or {}).get("differences", ()):
        by_kind.setdefault(str(d.get("kind")), []).append(d)
    order = [*[k for k in KINDS if k in by_kind], *[k for k in by_kind if k not in KINDS]]
    out = []
    for kind in order:
        diffs = by_kind[kind]
        shown = [Difference(kind, str(d.get("name")), d.get("change", "changed"),
                            d.get("reference"), d.get("target")) for d in diffs[:PER_KIND]]  # fmt: skip
        words = PLURALS.get(kind, kind).replace("_", " ")
        head = f"*Schema: {fit(words, MAX_NAME)}* ({_plural(len(diffs), 'difference')})"
        out.append(Listing(head, [_difference_item(d, ref, tgt) for d in shown], len(diffs)))
    return out


def _difference_item(d: Difference, ref: str, tgt: str) -> str:
    """`• `name`: what changed`, the name in a code span and the rest on the same line."""
    name, rest = _code(d.name), describe(d, ref, tgt).removeprefix(d.name)
    return f"• {name}{fit(visible(rest), max(MAX_ITEM - len(name), 40))}"


def _migration_listings(m: Mapping[str, Any], ref: str, tgt: str) -> list[Listing]:
    """Failed, extra and missing ids (missing numbered: the order to apply them), then checksums."""
    r, t, n = _name(ref), _name(tgt), len(m.get("missing", ()))
    lists = (("failed", f"*Failed or dirty in {t}*"), ("reference_failed", f"*Failed or dirty in {r}*"),
             ("extra", f"*Only in {t}* (applied there, never in {r}: a hotfix?)"),
             ("missing", f"*{_plural(n, 'migration')} in {r} missing in {t}* (in the order to apply them)"),
             ("checksum_mismatches", f"*Recorded with different checksums in {r} and {t}*"))  # fmt: skip
    out = []
    for key, head in lists:
        ids = [str(x.get("id") if isinstance(x, Mapping) else x) for x in m.get(key, ())]
        marks = (f"{i}." if key == "missing" else "•" for i in range(1, IDS_SHOWN + 1))
        items = [f"{mark} {_code(x)}" for mark, x in zip(marks, ids[:IDS_SHOWN], strict=False)]
        out += [Listing(head, items, len(ids))] if ids else []
    return out


def _bad_tables(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in report.get("critical_tables", ()) if t.get("status") != "ok"]


def _detail_listings(report: Mapping[str, Any] | None, ref: str, tgt: str) -> list[Listing]:
    """What drifts, most urgent first: critical tables, then migrations, then the schema."""
    if not report:
        return []
    names = {"reference": _name(ref), "target": _name(tgt)}
    bad = [f"• {_code(str(t.get('name')))}: "
           f"{STATUS_TEXT.get(str(t.get('status')), 'differs').format(**names)}" for t in _bad_tables(report)]
    tables = [Listing("*Critical tables not matching*", bad, len(bad))] if bad else []
    m = report.get("migrations") or {}
    return [*tables, *_migration_listings(m, ref, tgt), *_differences(report, ref, tgt)]


def findings(report: Mapping[str, Any] | None, ref: str, tgt: str) -> list[str]:
    """What drifts, counted, in plain words (no markup): "4 migrations missing in Staging"."""
    if not report:
        return []
    m, out = report.get("migrations") or {}, []
    for side, key in ((ref, "reference_found"), (tgt, "target_found")):
        if m and m.get(key) is False:
            out.append(f"no migration history table in {side}")
    for key, what in (("missing", f"missing in {tgt}"), ("extra", f"only in {tgt}"),
                      ("failed", f"failed in {tgt}"), ("reference_failed", f"failed in {ref}"),
                      ("checksum_mismatches", "with different checksums")):  # fmt: skip
        if n := len(m.get(key, ())):
            out.append(f"{_plural(n, 'migration')} {what}")
    if n := len((report.get("schema") or {}).get("differences", ())):
        out.append(_plural(n, "schema difference"))
    if n := len(_bad_tables(report)):
        out.append(f"{_plural(n, 'critical table')} not matching")
    return out


def state(report: Mapping[str, Any] | None, ref: str, tgt: str) -> str:
    """The one-line verdict a header leads with, e.g. "Staging is behind UAT"."""
    m = (report or {}).get("migrations") or {}
    if m.get("failed") or m.get("reference_failed"):
        return f"{tgt} has a failed migration" if m.get("failed") else f"{ref} has a failed migration"
    if m.get("missing") and m.get("extra"):
        return f"{tgt} has diverged from {ref}"
    if m.get("extra"):
        return f"{tgt} is ahead of {ref}"
    if m.get("missing"):
        return f"{tgt} is behind {ref}"
    if report and _bad_tables(report):
        return f"Critical tables in {tgt} differ from {ref}"
    return f"{tgt} has drifted from {ref}"


@dataclass(frozen=True, slots=True)
class _Parts:
    """What one kind of alert says; the assembly fits it into Slack's limits."""

    header: str  # plain text
    summary: str  # mrkdwn, short
    plain: str  # the fallback's words after the header, unescaped
    listings: Sequence[Listing] = ()
    tail: Sequence[Block] = ()


def _mention(alert: Alert) -> str:
    m = alert.mention
    return f"{m} " if alert.severity == "critical" and m and len(m) <= 100 else ""


def _critical_line(alert: Alert, tgt: str) -> list[str]:
    """The marker and mention of a critical alert, with why it is critical."""
    if alert.severity != "critical":
        return []
    report = alert.report or {}
    m = report.get("migrations") or {}
    reasons = [text for flag, text in (
        (_bad_tables(report), "a critical table differs"),
        (m.get("extra"), f"migrations only in {tgt} (a hotfix, or the wrong direction)"),
        (m.get("failed") or m.get("reference_failed"), "a failed or dirty migration"),
    ) if flag]  # fmt: skip
    return [f"{_mention(alert)}:rotating_light: *Critical:* {fit('; '.join(reasons) or 'see below', 500)}."]


def _next_step(alert: Alert) -> Block:
    m = (alert.report or {}).get("migrations") or {}
    command = SYNC_COMMAND.format(comparison=shlex.quote(f"{alert.reference}:{alert.target}"))
    first = ""
    if m.get("failed") or m.get("extra"):
        first = (f"Look at {_name(display(alert.target))} first: failed or extra migrations mean a hotfix "
                 "or a half-applied change.\n")  # fmt: skip
    return section(f"{first}*Next step:* preview the sync (`--dry-run` changes nothing):\n"
                    f"```{fit(command, 1000)}```")  # fmt: skip


def _drift(alert: Alert) -> _Parts:
    ref, tgt = display(alert.reference), display(alert.target)
    found = "; ".join(findings(alert.report, ref, tgt)) or "drift"
    lines = _critical_line(alert, tgt)
    started = alert.drift_started
    lasting = f" ({duration(alert.at - started)})" if started else ""
    if alert.kind == "reminder" and started:
        lines.append(f"Drifting for *{duration(alert.at - started)}*, since {_when(started)}.")
    lines.append(f"*{_name(tgt)}* against *{_name(ref)}*: {fit(found, 1500)}")
    icon = ":rotating_light:" if alert.severity == "critical" else (
        ":hourglass_flowing_sand:" if alert.kind == "reminder" else ":red_circle:")
    verdict = state(alert.report, ref, tgt)
    header = f"{icon} Still drifting{lasting}: {verdict}" if alert.kind == "reminder" else f"{icon} {verdict}"
    return _Parts(header, "\n".join(lines), found, _detail_listings(alert.report, ref, tgt),
                  (_next_step(alert),))  # fmt: skip


_CHANGE_WORDS = {  # summary list -> (now drifting, no longer drifting)
    "missing": ("migration {x} missing in {t}", "migration {x} now applied in {t}"),
    "extra": ("migration {x} only in {t}", "migration {x} no longer only in {t}"),
    "failed": ("migration {x} failed in {t}", "migration {x} no longer failed in {t}"),
    "history_table_missing": ("no migration history table in {side}", "history table found in {side}"),
    "differences": ("{kind} {x} {what}", "{kind} {x} no longer differs"),
    "critical": ("critical table {x}: {what}", "critical table {x} matches again"),
}


def _change_line(key: str, value: str, r: str, t: str, added: bool) -> str:
    """One entry of an episode summary list (see driftwatch.summary) in words; `r`, `t` escaped."""
    kind, name, what = "", value, ""
    if key == "differences":  # "kind name change"; the name itself may hold spaces
        kind, _, rest = value.partition(" ")
        name, _, change = rest.rpartition(" ")
        what = {"missing": f"missing in {t}", "extra": f"only in {t}"}.get(change, "changed")
    elif key == "critical":  # "name status"
        name, _, status = value.rpartition(" ")
        what = STATUS_TEXT.get(status, "differs").format(reference=r, target=t)
    words = _CHANGE_WORDS.get(key, ("{x} drifting", "{x} no longer drifting"))[0 if added else 1]
    return words.format(x=_code(name), t=t, side=r if value == "reference" else t, what=what,
                        kind=fit(kind.replace("_", " "), MAX_NAME))  # fmt: skip


def _changes(
    head: str, lists: Mapping[str, Sequence[str]] | None, alert: Alert, added: bool
) -> list[Listing]:
    pairs = [(k, str(v)) for k, values in (lists or {}).items() for v in values]
    if not pairs:
        return []
    r, t = _name(display(alert.reference)), _name(display(alert.target))
    items = [f"• {_change_line(k, v, r, t, added)}" for k, v in pairs[:CHANGES_SHOWN]]
    return [Listing(f"{head} ({len(pairs):,})", items, len(pairs))]


def _changed(alert: Alert) -> _Parts:
    drift = _drift(alert)
    ref, tgt = display(alert.reference), display(alert.target)
    icon = ":rotating_light:" if alert.severity == "critical" else ":warning:"
    listings = [*_changes(":heavy_plus_sign: *New since the last alert*", alert.added, alert, True),
                *_changes(":heavy_minus_sign: *No longer drifting*", alert.removed, alert, False),
                *drift.listings]  # fmt: skip
    return _Parts(f"{icon} Drift changed: {ref} → {tgt}", drift.summary, f"now {drift.plain}", listings,
                  drift.tail)  # fmt: skip


def _resolved(alert: Alert) -> _Parts:
    ref, tgt = display(alert.reference), display(alert.target)
    started = alert.drift_started
    lasted = f"Drift lasted *{duration(alert.at - started)}*, since {_when(started)}." if started else ""
    summary = f"*{_name(tgt)}* matches *{_name(ref)}* again. {lasted}".strip()
    plain = f"drift lasted {duration(alert.at - started)}" if started else "in sync again"
    return _Parts(f":white_check_mark: {tgt} is back in sync with {ref}", summary, plain)


def _environment(alert: Alert) -> str:
    return display(alert.environment or alert.target)


def _unreachable(alert: Alert) -> _Parts:
    env, n = _environment(alert), alert.failures
    checks = f" ({n} check{'s' if n != 1 else ''})" if n > 0 else ""
    reason = " ".join((alert.error or "no reason was given").split())
    in_a_row = f" for {n} checks in a row" if n > 1 else ""
    lines = [*_critical_line(alert, env),
             f"driftwatch could not connect to *{_name(env)}*{in_a_row}: {fit(visible(reason), 1500)}",
             "Its comparisons are not checked until it is back; a message follows when it is."]  # fmt: skip
    return _Parts(f":electric_plug: {env} unreachable{checks}", "\n".join(lines),
                  f"could not connect to {env}{in_a_row}: {reason}")  # fmt: skip


def _reachable(alert: Alert) -> _Parts:
    env = _environment(alert)
    summary = f"driftwatch connects to *{_name(env)}* again; its comparisons are checked from the next run."
    return _Parts(f":large_green_circle: {env} is reachable again", summary, "connected again")


def _free_text(alert: Alert) -> _Parts:
    """Test and weekly messages: the given text, paragraphs kept, spread over as many sections as needed."""
    items: list[str] = []
    gap = False
    for line in (alert.text or "").splitlines():
        if line.strip():
            items.append(("\n" if gap and items else "") + fit(line, 2000))
        gap = not line.strip()
    header = ":wave: driftwatch test message" if alert.kind == "test" else ":bar_chart: Weekly drift summary"
    summary = "" if items else "driftwatch can post here."
    return _Parts(header, summary, alert.text or "", (Listing("", items, len(items), spill=True),))


_KINDS = {"opened": _drift, "reminder": _drift, "changed": _changed, "resolved": _resolved,
          "unreachable": _unreachable, "reachable": _reachable, "test": _free_text, "weekly": _free_text}
_OMITTED = "_… and {n:,} more not shown here; the full report has every detail_"


def _links(alert: Alert) -> list[Block]:
    pairs = ((_url(alert.dashboard_url), ":bar_chart: Grafana dashboard"),
             (_url(alert.report_url), ":page_facing_up: Full report"))
    links = [f"<{url}|{label}>" for url, label in pairs if url]
    return [context(*links)] if links else []


def _footer(alert: Alert) -> Block:
    about = f" · {_name(display(alert.reference))} → {_name(display(alert.target))}"
    if alert.kind in ("unreachable", "reachable", "test", "weekly"):
        about = f" · {_name(_environment(alert))}" if alert.kind.endswith("reachable") else ""
    return context(f"driftwatch{about} · {_when(alert.at)}")


def _fallback(alert: Alert, parts: _Parts) -> str:
    prefix = _mention(alert)
    words = f"{parts.header}: {parts.plain}" if parts.plain.strip() else parts.header
    # Shown in notifications and printed by `notify preview`: controls (ESC...) made visible.
    return prefix + fit(visible(" ".join(words.split())), MAX_FALLBACK - len(prefix))


def build_message(alert: Alert) -> SlackMessage:
    """The Slack message for `alert`: within 50 blocks, 3,000 characters a section, 150 a header
    and about 12k characters in all, at any size of drift; what does not fit says how much more."""
    parts = _KINDS[alert.kind](alert)
    text = _fallback(alert, parts)
    head = [header(parts.header), *([section(parts.summary)] if parts.summary else [])]
    tail = [*parts.tail, *_links(alert), _footer(alert)]
    reserve = json_size(context(_OMITTED.format(n=10**12))) + 2
    builder = Builder(MAX_PAYLOAD - json_size({"text": text, "blocks": [*head, *tail]}) - reserve,
                       MAX_BLOCKS - len(head) - len(tail) - 1)  # fmt: skip
    for listing in parts.listings:
        builder.add_listing(listing)
    omitted = [context(_OMITTED.format(n=builder.omitted))] if builder.omitted else []
    return SlackMessage(text, (*head, *builder.blocks, *omitted, *tail))


def payload_size(payload: Mapping[str, Any]) -> int:
    """Characters of text + blocks as JSON, the measure MAX_PAYLOAD bounds."""
    return json_size({"text": payload.get("text", ""), "blocks": payload.get("blocks", [])})
