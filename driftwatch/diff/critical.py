"""The critical-tables verdict: present on both sides and identical, table by table."""

from __future__ import annotations

from driftwatch.diff.schema import Ancestry
from driftwatch.model import CriticalTable, Difference, Snapshot, qualify


def qualified_table(name: str) -> str:
    """`users` means `public.users`; a qualified name is taken as written."""
    return name if "." in name else qualify("public", name)


def check_critical(
    names: tuple[str, ...], reference: Snapshot, target: Snapshot,
    differences: tuple[Difference, ...],
) -> tuple[CriticalTable, ...]:  # fmt: skip
    """One verdict per configured critical table, in the configured order."""
    ref_tables, tgt_tables = reference.of_kind("table"), target.of_kind("table")
    ancestry = Ancestry(reference, target)
    result = []
    for name in names:
        key = qualified_table(name)
        in_ref, in_tgt = key in ref_tables, key in tgt_tables
        if not in_ref and not in_tgt:
            result.append(CriticalTable(key, "missing"))
        elif not in_tgt:
            result.append(CriticalTable(key, "missing_in_target"))
        elif not in_ref:
            result.append(CriticalTable(key, "missing_in_reference"))
        else:
            own = tuple(d for d in differences
                        if d.name == key or ancestry.parent(d.kind, d.name) == key)
            result.append(CriticalTable(key, "different" if own else "ok", own))
    return tuple(result)

