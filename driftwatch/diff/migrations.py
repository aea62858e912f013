"""Compare two migration histories (and the migration files on disk) into a MigrationDiff."""

from __future__ import annotations

from collections.abc import Iterable

from driftwatch.model import ChecksumMismatch, MigrationDiff, MigrationHistory

# Tools whose head is a number, so "behind" and "ahead" can be told apart.
NUMERIC_HEAD_TOOLS = frozenset({"golang-migrate"})

Ids = tuple[str, ...]


def _unique(ids: Iterable[str]) -> Ids:
    return tuple(dict.fromkeys(ids))


def _absent(ids: Iterable[str], other: Iterable[str]) -> Ids:
    """`ids` not in `other`, in the order of `ids`."""
    others = set(other)
    return _unique(i for i in ids if i not in others)


def _numeric_heads(history: MigrationHistory) -> dict[int, str] | None:
    """Version number -> recorded id, or None when some head is not a plain integer."""
    heads: dict[int, str] = {}
    for ident in history.ids:
        digits = ident.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            return None
        heads[int(ident)] = ident
    return heads


def _top(heads: dict[int, str]) -> int:
    # An empty table means no migration applied yet: below every real version.
    return max(heads, default=-1)


def _compare_versions(reference: MigrationHistory, target: MigrationHistory) -> tuple[Ids, Ids]:
    ref, tgt = _numeric_heads(reference), _numeric_heads(target)
    if ref is None or tgt is None:
        return _absent(reference.ids, target.ids), _absent(target.ids, reference.ids)
    if _top(tgt) < _top(ref):
        return (ref[_top(ref)],), ()
    if _top(tgt) > _top(ref):
        return (), (tgt[_top(tgt)],)
    return (), ()


def _missing_extra(reference: MigrationHistory, target: MigrationHistory, head_only: bool) -> tuple[Ids, Ids]:
    if not (reference.found and target.found):
        return (), ()  # nothing to compare against; the found flags tell the story
    if head_only and reference.tool in NUMERIC_HEAD_TOOLS:
        return _compare_versions(reference, target)
    return _absent(reference.ids, target.ids), _absent(target.ids, reference.ids)


def _failed(history: MigrationHistory) -> Ids:
    return _unique(m.id for m in history.applied if not m.success)


def _checksum_mismatches(
    reference: MigrationHistory, target: MigrationHistory
) -> tuple[ChecksumMismatch, ...]:
    """Ids recorded on both sides with two different checksums; a missing checksum is no claim."""
    theirs = {m.id: m.checksum for m in target.applied}
    ours = {m.id: m.checksum for m in reference.applied}
    mismatches = []
    for ident, checksum in ours.items():
        other = theirs.get(ident)
        if checksum is not None and other is not None and checksum != other:
            mismatches.append(ChecksumMismatch(ident, checksum, other))
    return tuple(mismatches)


def _unapplied(files: Ids, reference: MigrationHistory, target: MigrationHistory, head_only: bool) -> Ids:
    """Files applied in neither environment, in file order."""
    applied = set(reference.ids) | set(target.ids)
    ref, tgt = _numeric_heads(reference), _numeric_heads(target)
    if head_only and reference.tool in NUMERIC_HEAD_TOOLS and ref is not None and tgt is not None:
        # A head version means every version up to it has run there.
        top = max(_top(ref), _top(tgt))
        return tuple(f for f in files
                     if f not in applied and not (f.isdigit() and int(f) <= top))  # fmt: skip
    return tuple(f for f in files if f not in applied)


def compare_migrations(
    reference: MigrationHistory, target: MigrationHistory, files: Ids | None = None
) -> MigrationDiff:
    """What the target has not applied, has applied extra, failed, or recorded differently."""
    head_only = reference.head_only or target.head_only
    missing, extra = _missing_extra(reference, target, head_only)
    return MigrationDiff(
        tool=reference.tool,
        table=reference.table,
        reference_found=reference.found,
        target_found=target.found,
        reference_count=len(reference.applied),
        target_count=len(target.applied),
        missing=missing,
        extra=extra,
        failed=_failed(target),
        checksum_mismatches=_checksum_mismatches(reference, target),
        head_only=head_only,
        files_count=None if files is None else len(files),
        unapplied_files=() if files is None else _unapplied(files, reference, target, head_only),
        reference_failed=_failed(reference),
    )
