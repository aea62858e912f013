"""Pure planning: from what was read (drift, history, lock) to the migrations to run and the preconditions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from driftwatch.config import Comparison
from driftwatch.diff import compare_schema
from driftwatch.model import Difference, Drift, IgnoreRule, Snapshot
from driftwatch.render.terminal import describe
from driftwatch.sync.settings import SyncSettings

DIFFERENCES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Options:
    """What the person asked for: `--apply`, and the two overrides."""

    apply: bool = False
    force: bool = False  # the target's schema may differ from the reference's baseline
    allow_extra: bool = False  # the target may hold migrations the reference never had


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the target's schema should be with its migrations: the reference as the history kept it
    when it had exactly those migrations, or the target as driftwatch's own last sync left it."""

    snapshot: Snapshot
    fingerprint: str
    label: str  # e.g. "uat's as of 2025-12-01 09:00 UTC, when uat had the same 81 migrations"


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the preconditions are decided from, read by the caller (no I/O here)."""

    comparison: Comparison
    settings: SyncSettings
    comparisons: tuple[Comparison, ...]
    drift: Drift
    target: Snapshot
    target_address: str
    baseline: Baseline | None
    history: str | None  # where the history lives; None when there is none to consult
    reference_seen: frozenset[str] = frozenset()  # ids ever seen applied in the reference
    lock_holder: str | None = None  # who holds the target's sync lock; None: free
    ignore: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One precondition: whether it holds, in one sentence, and what overrode it if anything."""

    name: str
    ok: bool
    reason: str
    overridden_by: str | None = None
    details: tuple[str, ...] = ()

    @property
    def refuses(self) -> bool:
        return not self.ok and self.overridden_by is None


@dataclass(frozen=True, slots=True)
class Plan:
    """What `sync --apply` would do for one comparison, and whether it may."""

    comparison: str
    reference: str
    target: str
    missing: tuple[str, ...]  # in the order to apply them
    head_only: bool  # the tool records its head only: `missing` is the reference's head
    target_head: tuple[str, ...]
    command: tuple[str, ...]
    workdir: Path
    timeout: float
    target_address: str
    enabled: bool
    checks: tuple[Check, ...]
    baseline_at: datetime | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not self.missing

    @property
    def refusals(self) -> tuple[Check, ...]:
        """Failed preconditions that block `--apply` (sync disabled included)."""
        return tuple(c for c in self.checks if c.refuses)

    @property
    def overrides(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.overridden_by is not None)

    @property
    def may_apply(self) -> bool:
        return not self.nothing_to_do and not self.refusals


def build(facts: Facts, options: Options) -> Plan:
    """The plan and every precondition, each decided from `facts` alone."""
    c, m = facts.comparison, facts.drift.migrations
    missing = m.missing if m else ()
    checks = (_enabled(facts), _direction(facts), _histories(facts), _failed(facts),
              _extra(facts, options), _baseline(facts, options), _lock(facts))  # fmt: skip
    target_history = facts.target.migrations
    return Plan(
        c.name, c.reference, c.target, missing, bool(m and m.head_only),
        target_history.ids if target_history else (), expand(facts.settings.command, missing),
        facts.settings.workdir,
        facts.settings.timeout, facts.target_address, facts.settings.enabled, checks,
        facts.baseline.snapshot.taken_at if facts.baseline else None,
    )  # fmt: skip


def expand(command: tuple[str, ...], missing: tuple[str, ...]) -> tuple[str, ...]:
    """`{last}` in the command becomes the last migration to apply, so the tool stops where the
    reference stops (`db:migrate --to {last}`, `alembic upgrade {last}`) instead of running every file."""
    return tuple(a.replace("{last}", missing[-1]) for a in command) if missing else command


def enable_hint(comparison: str) -> str:
    """How to turn sync on for `comparison`, in the config's own words."""
    return f'set enabled = true in a [sync."{comparison}"] table of the config'


def _enabled(facts: Facts) -> Check:
    name = facts.comparison.name
    if facts.settings.enabled:
        return Check("enabled", True, f"sync is enabled for {name}.")
    return Check("enabled", False, f"sync is disabled for {name}, so --apply changes nothing; to allow "
                 f"it, {enable_hint(name)}.")  # fmt: skip


def _upstream(start: str, goal: str, comparisons: Iterable[Comparison]) -> list[str] | None:
    """A path of comparisons leading from `start` down to `goal`, if any (reference → target edges)."""
    edges = [(c.reference, c.target) for c in comparisons]
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for ref, tgt in edges:
            if ref == path[-1] and tgt not in seen:
                if tgt == goal:
                    return [*path, tgt]
                seen.add(tgt)
                paths.append([*path, tgt])
    return None


def _direction(facts: Facts) -> Check:
    c = facts.comparison
    path = _upstream(c.target, c.reference, facts.comparisons)
    if path is None:
        return Check("direction", True, f"{c.target} is downstream of {c.reference} only.")
    chain = " → ".join(path)
    return Check("direction", False, f"{c.target} is itself upstream of {c.reference} ({chain}): a sync "
                 "would run against the flow of changes; remove one of those comparisons.")  # fmt: skip


def _histories(facts: Facts) -> Check:
    m, c = facts.drift.migrations, facts.comparison
    if m is None:
        return Check("history", False, "no migration history was read; check [migrations] in the config.")
    for side, found in ((c.reference, m.reference_found), (c.target, m.target_found)):
        if not found:
            return Check("history", False, f"{side} has no migration history table {m.table}; a database "
                         "the tool has never migrated is set up by a person, not by sync.")  # fmt: skip
    return Check("history", True, f"both sides have a {m.table} table.")


def _failed(facts: Facts) -> Check:
    m, c = facts.drift.migrations, facts.comparison
    failed = m.failed if m else ()
    if failed:
        return Check("failed", False, f"{c.target} has a failed or dirty migration ({failed[0]}); a person "
                     "repairs it first (see the tool's repair or rollback).", details=failed)  # fmt: skip
    if m and m.reference_failed:
        return Check("failed", False, f"{c.reference} has a failed or dirty migration "
                     f"({m.reference_failed[0]}); sync copies nothing from a broken reference.")  # fmt: skip
    return Check("failed", True, f"no failed or dirty migration in {c.target} or {c.reference}.")


def _extra(facts: Facts, options: Options) -> Check:
    m, c = facts.drift.migrations, facts.comparison
    extra = m.extra if m else ()
    if m and m.head_only:
        # A head-only tool (alembic) names just the target's head: it is behind, not diverged,
        # when the reference was once at that head.
        extra = tuple(x for x in extra if x not in facts.reference_seen)
    if not extra:
        return Check("extra", True, f"{c.target} has no migration {c.reference} lacks.")
    reason = (f"{c.target} has {len(extra)} migration(s) {c.reference} never had ({extra[0]}"
              f"{', ...' if len(extra) > 1 else ''}): a hotfix there means a person decides; "
              "--allow-extra overrides.")  # fmt: skip
    return Check("extra", False, reason, "--allow-extra" if options.allow_extra else None, extra)


def _baseline(facts: Facts, options: Options) -> Check:
    c, forced = facts.comparison, "--force" if options.force else None
    n = len(facts.target.migrations.applied) if facts.target.migrations else 0
    if facts.history is None:
        return Check("baseline", False, f"there is no history to compare {c.target} with (none at the "
                     "state_dir); run the daemon (driftwatch run) so it records "
                     f"{c.reference} before its next migrations, or --force.", forced)  # fmt: skip
    if facts.baseline is None:
        return Check("baseline", False, f"the history has no snapshot of {c.reference} with exactly "
                     f"{c.target}'s {n} migrations, so a change made by hand in {c.target} cannot be "
                     "ruled out; --force overrides.", forced)  # fmt: skip
    base = facts.baseline
    differences = compare_schema(base.snapshot, facts.target, facts.ignore).differences
    if not differences:
        return Check("baseline", True, f"{c.target}'s schema equals {base.label}.")
    return Check("baseline", False, f"{c.target}'s schema differs from {base.label}, in "
                 f"{len(differences)} place(s): someone changed {c.target} by hand, and migrations on "
                 "top could fail halfway or hide it; --force overrides.", forced,
                 _described(differences, c))  # fmt: skip


def _described(differences: tuple[Difference, ...], c: Comparison) -> tuple[str, ...]:
    lines = [describe(d, f"{c.reference} (then)", c.target) for d in differences[:DIFFERENCES_SHOWN]]
    if len(differences) > DIFFERENCES_SHOWN:
        lines.append(f"... and {len(differences) - DIFFERENCES_SHOWN} more")
    return tuple(lines)


def _lock(facts: Facts) -> Check:
    t = facts.comparison.target
    if facts.lock_holder is None:
        return Check("lock", True, f"no other sync of {t} is running.")
    return Check("lock", False, f"another sync of {t} is running ({facts.lock_holder}); wait for it "
                 "to finish, then look again.")  # fmt: skip
