"""compare_migrations: pure comparison of two migration histories and the files on disk."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from driftwatch.diff.migrations import compare_migrations
from driftwatch.model import AppliedMigration, ChecksumMismatch, MigrationHistory

TABLE = "public.SequelizeMeta"


def history(*ids: str, tool: str = "sequelize", found: bool = True) -> MigrationHistory:
    """A successful list-shaped history of `ids`."""
    return MigrationHistory(tool, TABLE, found, tuple(AppliedMigration(i) for i in ids))


def heads(tool: str, *entries: AppliedMigration) -> MigrationHistory:
    """A head-only history (alembic, golang-migrate)."""
    return MigrationHistory(tool, "public.schema_migrations", True, entries, head_only=True)


def test_identical_histories_are_in_sync() -> None:
    """The same applied list on both sides is in sync, with counts of both."""
    result = compare_migrations(history("1", "2"), history("1", "2"))
    assert result.in_sync
    assert (result.reference_count, result.target_count) == (2, 2)
    assert (result.tool, result.table) == ("sequelize", TABLE)
    assert result.files_count is None


def test_missing_keeps_reference_order() -> None:
    """Migrations the target lacks are listed in the reference's applied order."""
    result = compare_migrations(history("3", "1", "4", "2"), history("1"))
    assert result.missing == ("3", "4", "2")
    assert result.extra == ()
    assert not result.in_sync


def test_extra_keeps_target_order() -> None:
    """Migrations only the target has are listed in the target's order."""
    result = compare_migrations(history("1"), history("9", "1", "5"))
    assert result.extra == ("9", "5")
    assert result.missing == ()


def test_failed_entries_on_each_side() -> None:
    """Failed target entries are `failed`, failed reference entries `reference_failed`."""
    reference = MigrationHistory("flyway", TABLE, True, (
        AppliedMigration("1"), AppliedMigration("2", success=False)))  # fmt: skip
    target = MigrationHistory("flyway", TABLE, True, (
        AppliedMigration("1", success=False), AppliedMigration("2")))  # fmt: skip
    result = compare_migrations(reference, target)
    assert result.failed == ("1",)
    assert result.reference_failed == ("2",)
    assert result.missing == ()
    assert not result.in_sync


def test_failed_in_reference_still_counts_as_applied() -> None:
    """A migration that failed in the reference but is absent in the target is still missing."""
    reference = MigrationHistory("prisma", TABLE, True, (AppliedMigration("a", success=False),))
    result = compare_migrations(reference, history(tool="prisma"))
    assert result.missing == ("a",)


def test_checksum_mismatch() -> None:
    """Both sides recorded a checksum and they differ; a missing checksum is not a mismatch."""
    reference = MigrationHistory("flyway", TABLE, True, (
        AppliedMigration("1", checksum="10"), AppliedMigration("2", checksum="20"),
        AppliedMigration("3", checksum=None), AppliedMigration("4", checksum="40")))  # fmt: skip
    target = MigrationHistory("flyway", TABLE, True, (
        AppliedMigration("1", checksum="10"), AppliedMigration("2", checksum="-21"),
        AppliedMigration("3", checksum="30"), AppliedMigration("4", checksum=None)))  # fmt: skip
    result = compare_migrations(reference, target)
    assert result.checksum_mismatches == (ChecksumMismatch("2", "20", "-21"),)
    assert not result.in_sync


def test_files_applied_nowhere() -> None:
    """Files applied in neither environment are listed in file order, and counted."""
    files = ("1.js", "2.js", "3.js", "4.js", "5.js")
    result = compare_migrations(history("1.js", "2.js"), history("1.js", "3.js"), files)
    assert result.files_count == 5
    assert result.unapplied_files == ("4.js", "5.js")


def test_alembic_heads() -> None:
    """alembic compares heads: the reference's head the target lacks, and the target's own."""
    reference = heads("alembic", AppliedMigration("1975ea83b712"))
    target = heads("alembic", AppliedMigration("ae1027a6acf"))
    result = compare_migrations(reference, target)
    assert result.head_only
    assert result.missing == ("1975ea83b712",)
    assert result.extra == ("ae1027a6acf",)
    assert compare_migrations(reference, reference).in_sync


def test_alembic_digit_only_revisions_are_not_numbers() -> None:
    """An alembic revision made only of digits is still an opaque id, not a version number."""
    result = compare_migrations(heads("alembic", AppliedMigration("200")),
                                heads("alembic", AppliedMigration("100")))  # fmt: skip
    assert (result.missing, result.extra) == (("200",), ("100",))


def test_golang_migrate_behind_and_ahead() -> None:
    """golang-migrate versions compare as numbers: behind is missing, ahead is extra."""
    v9, v10 = heads("golang-migrate", AppliedMigration("9")), heads(
        "golang-migrate", AppliedMigration("10"))  # fmt: skip
    behind = compare_migrations(v10, v9)
    ahead = compare_migrations(v9, v10)
    assert (behind.missing, behind.extra) == (("10",), ())
    assert (ahead.missing, ahead.extra) == ((), ("10",))
    assert compare_migrations(v10, v10).in_sync


def test_golang_migrate_dirty_and_empty() -> None:
    """A dirty target head is failed; an empty target table is behind any reference version."""
    reference = heads("golang-migrate", AppliedMigration("20240301120000"))
    dirty = heads("golang-migrate", AppliedMigration("20240301120000", success=False))
    empty = heads("golang-migrate")
    dirty_result = compare_migrations(reference, dirty)
    assert dirty_result.failed == ("20240301120000",)
    assert dirty_result.missing == ()
    assert not dirty_result.in_sync
    assert compare_migrations(reference, empty).missing == ("20240301120000",)


def test_golang_migrate_unapplied_files_are_above_both_heads() -> None:
    """A golang-migrate head implies every earlier version ran; only newer files are unapplied."""
    files = ("1", "2", "3", "4", "5")
    result = compare_migrations(heads("golang-migrate", AppliedMigration("3")),
                                heads("golang-migrate", AppliedMigration("2")), files)  # fmt: skip
    assert result.unapplied_files == ("4", "5")


def test_tables_not_found() -> None:
    """Without a history table on a side, nothing is missing or extra; the flags tell why."""
    result = compare_migrations(history("1", "2"), history(found=False))
    assert (result.reference_found, result.target_found) == (True, False)
    assert (result.missing, result.extra) == ((), ())
    assert not result.in_sync
    neither = compare_migrations(history(found=False), history(found=False), ("1.js",))
    assert (neither.reference_found, neither.target_found) == (False, False)
    assert neither.unapplied_files == ("1.js",)
    assert not neither.in_sync


ids = st.lists(st.sampled_from([f"{n:03d}-m.js" for n in range(12)]), unique=True, max_size=8)


@st.composite
def histories(draw: st.DrawFn) -> MigrationHistory:
    """A found list-shaped history with some failed entries and checksums."""
    chosen = draw(ids)
    entries = tuple(
        AppliedMigration(i, checksum=draw(st.sampled_from([None, "a", "b"])),
                         success=draw(st.booleans()))
        for i in chosen
    )  # fmt: skip
    return MigrationHistory("flyway", "public.flyway_schema_history", True, entries)


golang_heads = st.lists(st.integers(0, 30), max_size=1).map(
    lambda vs: heads("golang-migrate", *(AppliedMigration(str(v)) for v in vs))
)


@given(histories())
def test_history_compared_with_itself_has_no_missing_or_extra(a: MigrationHistory) -> None:
    """compare(a, a) finds nothing missing, nothing extra and no checksum mismatch."""
    result = compare_migrations(a, a)
    assert (result.missing, result.extra, result.checksum_mismatches) == ((), (), ())


@given(histories(), histories())
def test_missing_one_way_is_extra_the_other(a: MigrationHistory, b: MigrationHistory) -> None:
    """What b lacks of a is exactly what a has extra over b, and vice versa."""
    assert compare_migrations(a, b).missing == compare_migrations(b, a).extra
    assert compare_migrations(a, b).extra == compare_migrations(b, a).missing


@given(golang_heads, golang_heads)
def test_golang_migrate_missing_one_way_is_extra_the_other(a: MigrationHistory, b: MigrationHistory) -> None:
    """The numeric head comparison is symmetric too, and never both behind and ahead."""
    forward, backward = compare_migrations(a, b), compare_migrations(b, a)
    assert forward.missing == backward.extra
    assert not (forward.missing and forward.extra)
