"""The terminal report, shaped like the runbook's "Expected Output" so its readers feel at home."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from driftwatch.migrations import migrate_command
from driftwatch.model import KINDS, PLURALS, CheckFailure, Difference, Drift, MigrationDiff, Outcome
from driftwatch.render.visible import visible_all

RULE = "=" * 80
T = TypeVar("T")
SINGULAR = {plural: kind for kind, plural in PLURALS.items()}
STATUS_TEXT = {
    "ok": "matches",
    "missing_in_target": "missing in {target}",
    "missing_in_reference": "missing in {reference}",
    "missing": "missing in both",
    "different": "differs",
}


@dataclass(frozen=True, slots=True)
class Style:
    """How to present: ANSI colours or none (the words alone carry the meaning), and how many
    differences of each kind to list in full (0: all)."""

    color: bool = False
    limit: int = 50

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def ok(self, text: str) -> str:
        return self._wrap("32", text)

    def warn(self, text: str) -> str:
        return self._wrap("33", text)

    def bad(self, text: str) -> str:
        return self._wrap("31", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def _banner(title: str, style: Style) -> list[str]:
    return [RULE, style.bold(f"  {title}"), RULE, ""]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _connections(drift: Drift, style: Style) -> list[str]:
    lines = ["📡 Connecting to databases..."]
    for side in (drift.reference, drift.target):
        lines.append(style.ok(f"✅ Connected to {side.name} ({side.address}, "
                              f"PostgreSQL {side.server_version})"))  # fmt: skip
    return [*lines, ""]


def _migration_lines(m: MigrationDiff, ref: str, tgt: str, style: Style) -> Iterator[str]:
    yield f"📋 Step 1: Checking migration status ({m.tool}, {m.table})..."
    yield ""
    for name, found in ((ref, m.reference_found), (tgt, m.target_found)):
        if not found:
            yield style.bad(f"❌ {name} has no migration table {m.table}")
    if not (m.reference_found and m.target_found):
        yield ""
        return
    what = "head" if m.head_only else "migrations"
    yield f"   {ref} {what}: {m.reference_count}"
    yield f"   {tgt} {what}: {m.target_count}"
    if m.files_count is not None:
        yield f"   Total migration files: {m.files_count}"
    yield ""
    for ids, head, bad in (
        (m.missing, f"in {ref} that are missing in {tgt}", False),
        (m.extra, f"in {tgt} that {ref} does not have", False),
        (m.failed, f"failed or dirty in {tgt}", True),
        (m.reference_failed, f"failed or dirty in {ref}", True),
    ):
        yield from _id_list(ids, f"Found {_plural(len(ids), 'migration')} {head}:", style, bad)
    mismatches = m.checksum_mismatches
    for c in _bounded(mismatches, style.limit):
        yield style.bad(f"❌ Checksum of {c.id} differs: {ref} {c.reference}, {tgt} {c.target}")
    yield from _more(len(mismatches), style.limit, "   ")
    files = m.unapplied_files
    head = f"{_plural(len(files), 'migration file')} applied in neither {ref} nor {tgt}:"
    yield from _id_list(files, head, style)
    if m.in_sync:
        yield style.ok(f"✅ All {ref} migrations are applied in {tgt}")
        yield ""


def _id_list(ids: Sequence[str], head: str, style: Style, bad: bool = False) -> Iterator[str]:
    if not ids:
        return
    yield style.bad(f"❌ {head}") if bad else style.warn(f"⚠️  {head}")
    yield ""
    yield from (f"   - {i}" for i in _bounded(ids, style.limit))
    yield from _more(len(ids), style.limit, "   ")
    yield ""


def _bounded(items: Sequence[T], limit: int) -> Sequence[T]:
    """The first `limit` items (0: all): --limit bounds every list, not only differences."""
    return items if limit <= 0 else items[:limit]


def _more(total: int, limit: int, indent: str) -> Iterator[str]:
    """The line that says how many a bounded list left out, if any."""
    if 0 < limit < total:
        yield (f"{indent}… and {total - limit} more "
               "(--limit 0 lists all; --json has every detail)")  # fmt: skip


def _count(n: int, plural: str) -> str:
    word = plural if n != 1 else SINGULAR[plural]
    return f"{n} {word.replace('_', ' ')}"


def _counts(counts: Mapping[str, int]) -> str:
    # The runbook compares tables and columns; they lead, the other kinds follow when present.
    first = [k for k in ("tables", "columns") if k in counts]
    rest = [k for k in counts if k not in first and counts[k]]
    text = ", ".join(_count(counts[k], k) for k in (*first, *rest))
    return text or "nothing"


def format_value(attr: str, value: object) -> str:
    """One attribute value as a person reads it."""
    if attr == "nullable" and isinstance(value, bool):
        return "NULL" if value else "NOT NULL"
    if value is None:
        return "(none)"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def describe(d: Difference, ref: str, tgt: str) -> str:
    """One difference on one line, e.g. `public.users.email: type varchar(100) → varchar(255)`."""
    if d.change == "missing":
        return f"{d.name}: in {ref}, missing in {tgt}"
    if d.change == "extra":
        return f"{d.name}: only in {tgt}"
    old, new = d.reference or {}, d.target or {}
    parts = [f"{a} {format_value(a, old.get(a))} → {format_value(a, new.get(a))}" for a in old]
    return f"{d.name}: " + "; ".join(parts)


def _schema_lines(drift: Drift, style: Style) -> Iterator[str]:
    ref, tgt, s = drift.reference.name, drift.target.name, drift.schema
    yield "📋 Step 2: Comparing database schemas..."
    yield ""
    yield f"   {ref}: {_counts(s.reference_counts)}"
    yield f"   {tgt}: {_counts(s.target_counts)}"
    yield ""
    # The runbook's own check: table and column counts.
    basic = ("tables", "columns")
    counts_match = all(s.reference_counts.get(k) == s.target_counts.get(k) for k in basic)
    yield style.ok("✅ Table and column counts match") if counts_match else style.warn(
        "⚠️  Table and column counts differ")
    if not s.differences:
        yield style.ok("✅ No schema differences found")
    else:
        yield style.warn(f"⚠️  Found {_plural(len(s.differences), 'schema difference')}:")
        yield from _difference_table(s.differences, ref, tgt)
        yield from _difference_details(s.differences, ref, tgt, style.limit)
    for rule in s.ignored:
        if rule.count:
            yield f"   ({_plural(rule.count, 'difference')} ignored by rule {rule.rule!r})"
    yield ""


def _difference_table(diffs: Sequence[Difference], ref: str, tgt: str) -> Iterator[str]:
    """Counts first, so 500 differences read as a handful of lines before the details."""
    yield ""
    yield f"   {'kind':<20}{f'missing in {tgt}':>22}{f'only in {tgt}':>20}{'changed':>10}"
    for kind in KINDS:
        changes = [d.change for d in diffs if d.kind == kind]
        if changes:
            row = (changes.count("missing"), changes.count("extra"), changes.count("changed"))
            yield f"   {kind:<20}{row[0]:>22}{row[1]:>20}{row[2]:>10}"


def _difference_details(
    diffs: Sequence[Difference], ref: str, tgt: str, limit: int
) -> Iterator[str]:
    for kind in KINDS:
        of_kind = [d for d in diffs if d.kind == kind]
        if not of_kind:
            continue
        yield ""
        yield f"   {kind} ({len(of_kind)})"
        yield from (f"     - {describe(d, ref, tgt)}" for d in _bounded(of_kind, limit))
        yield from _more(len(of_kind), limit, "     ")


def _critical_lines(drift: Drift, style: Style) -> Iterator[str]:
    if not drift.critical_tables:
        return
    yield "📋 Step 3: Checking critical tables..."
    yield ""
    names = {"reference": drift.reference.name, "target": drift.target.name}
    bad = [t for t in drift.critical_tables if t.status != "ok"]
    for t in bad:
        yield style.bad(f"❌ {t.name}: {STATUS_TEXT[t.status].format(**names)}")
        yield from (f"     - {describe(d, names['reference'], names['target'])}"
                    for d in _bounded(t.differences, style.limit))  # fmt: skip
        yield from _more(len(t.differences), style.limit, "     ")
    if not bad:
        yield style.ok(f"✅ All {len(drift.critical_tables)} critical tables match")
    yield ""


def _findings(drift: Drift) -> list[str]:
    m, ref, tgt = drift.migrations, drift.reference.name, drift.target.name
    found = []
    if m is not None:
        found += [f"migration table {m.table} missing in {name}"
                  for name, ok in ((ref, m.reference_found), (tgt, m.target_found)) if not ok]
        found += [f"{_plural(len(ids), 'migration')} {what}" for ids, what in (
            (m.missing, f"missing in {tgt}"), (m.extra, f"in {tgt} only"),
            (m.failed, f"failed in {tgt}"), (m.reference_failed, f"failed in {ref}"),
            (m.checksum_mismatches, "with different checksums")) if ids]  # fmt: skip
    if drift.schema.differences:
        found.append(_plural(len(drift.schema.differences), "schema difference"))
    bad = [t for t in drift.critical_tables if t.status != "ok"]
    if bad:
        found.append(f"{_plural(len(bad), 'critical table')} not matching")
    return found


def next_steps(drift: Drift, recheck: str) -> list[str]:
    """The commands that move this comparison toward in sync, in the order to run them;
    `recheck` is the command that checks it again (`driftwatch check --comparison ...`)."""
    m, tgt, steps = drift.migrations, drift.target, []
    if m is not None and not (m.reference_found and m.target_found):
        steps.append("Point driftwatch at your migration history table ([migrations] "
                     "tool/schema/table in the config, --migrations-tool for diff), then "
                     "check again.")  # fmt: skip
    if m is not None and (m.failed or m.extra):
        steps.append(f"Have a person look at {tgt.name} first: failed or extra migrations "
                     "mean a hotfix or a half-applied change; fix it there before syncing.")
    if m is not None and m.missing:
        url = f"postgresql://{tgt.address}"
        steps.append(f"Apply the missing migrations to {tgt.name} (password from your "
                     f"secret store):\n      DATABASE_URL=\"{url}\" {migrate_command(m.tool)}")
    if drift.schema.differences and (m is None or not m.missing):
        steps.append(f"Schema differs with no missing migration: someone changed "
                     f"{tgt.name} by hand. See every detail with:\n"
                     f"      {recheck} --json")
    steps.append(f"Check again:\n      {recheck}")
    return steps


def check_command(drift: Drift) -> str:
    """The command that checks one configured comparison again."""
    return f"driftwatch check --comparison {drift.reference.name}:{drift.target.name}"


Recheck = Callable[[Drift], str]  # the command a report's next steps give to check again


def _summary(drift: Drift, style: Style, recheck: str) -> Iterator[str]:
    ref, tgt = drift.reference.name, drift.target.name
    yield from _banner("SUMMARY", style)
    if drift.in_sync:
        yield style.ok(f"✅ {tgt.upper()} IS 100% IN SYNC WITH {ref.upper()}!")
        yield ""
        yield from ("   - All migrations executed", "   - Schema matches",
                    "   - Critical tables verified")  # fmt: skip
    else:
        yield style.bad(f"❌ {tgt.upper()} IS NOT IN SYNC WITH {ref.upper()}")
        yield ""
        yield from (f"   - {f}" for f in _findings(drift))
        yield ""
        yield "Next steps:"
        yield from (f"   {i}. {s}" for i, s in enumerate(next_steps(drift, recheck), 1))
    yield ""
    yield RULE


def render_drift(drift: Drift, style: Style = Style(), recheck: Recheck = check_command) -> str:
    """The full report of one comparison; its next steps check again with `recheck(drift)`
    (`driftwatch diff` has no config, so no comparison to name; `check --config` needs it)."""
    drift = visible_all(drift)  # names from the databases may hold control characters
    ref, tgt = drift.reference.name, drift.target.name
    lines = _banner(f"DRIFTWATCH — {tgt.upper()} AGAINST {ref.upper()}", style)
    lines += _connections(drift, style)
    if drift.migrations is not None:
        lines += _migration_lines(drift.migrations, ref, tgt, style)
    lines += _schema_lines(drift, style)
    lines += _critical_lines(drift, style)
    lines += _summary(drift, style, recheck(drift))
    return "\n".join(lines) + "\n"


def render_failure(f: CheckFailure, style: Style = Style()) -> str:
    """A comparison that could not be checked: the one sentence, and what it means for exit codes."""
    f = visible_all(f)
    title = f"DRIFTWATCH — {f.target.upper()} AGAINST {f.reference.upper()}"
    lines = [*_banner(title, style), style.bad(f"❌ Could not check: {f.message}"), "", RULE]
    return "\n".join(lines) + "\n"


def render(outcomes: Sequence[Outcome], style: Style = Style(), recheck: Recheck = check_command) -> str:
    """Every comparison of a run, one after another."""
    parts = [render_drift(o, style, recheck) if isinstance(o, Drift) else render_failure(o, style)
             for o in outcomes]  # fmt: skip
    return "\n".join(parts)
