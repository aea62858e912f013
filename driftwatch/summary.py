"""What a drift is made of, as plain data: kept with each drift episode, compared between runs."""

from __future__ import annotations

from typing import Any

from driftwatch.model import Drift


def drift_summary(drift: Drift) -> dict[str, Any]:
    """The facts whose change makes a drift "changed": ids, difference keys, critical tables."""
    m = drift.migrations
    absent = [side for side, found in (("reference", m.reference_found),
                                       ("target", m.target_found)) if not found] if m else []
    return {
        "missing": list(m.missing) if m else [],
        "extra": list(m.extra) if m else [],
        "failed": list(m.failed) if m else [],
        "history_table_missing": absent,
        "differences": sorted(f"{d.kind} {d.name} {d.change}" for d in drift.schema.differences),
        "critical": sorted(f"{t.name} {t.status}" for t in drift.critical_tables if t.status != "ok"),
    }
