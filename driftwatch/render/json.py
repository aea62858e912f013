"""The JSON report, a versioned contract documented in docs/json-report.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from driftwatch.model import CheckFailure, Drift, MigrationDiff, Outcome, SchemaDiff, Side

REPORT_FORMAT = "driftwatch.report/v1"
CHECK_FORMAT = "driftwatch.check/v1"


def _side(side: Side) -> dict[str, Any]:
    return {
        "name": side.name,
        "server_version": side.server_version,
        "database": side.database,
        "taken_at": side.taken_at.isoformat(),
    }


def _migrations(m: MigrationDiff) -> dict[str, Any]:
    return {
        "tool": m.tool,
        "table": m.table,
        "head_only": m.head_only,
        "reference_found": m.reference_found,
        "target_found": m.target_found,
        "reference_count": m.reference_count,
        "target_count": m.target_count,
        "files_count": m.files_count,
        "missing": list(m.missing),
        "extra": list(m.extra),
        "failed": list(m.failed),
        "reference_failed": list(m.reference_failed),
        "checksum_mismatches": [
            {"id": c.id, "reference": c.reference, "target": c.target}
            for c in m.checksum_mismatches
        ],
        "unapplied_files": list(m.unapplied_files),
    }


def _plain(value: Mapping[str, object] | None) -> dict[str, Any] | None:
    return None if value is None else {k: _jsonable(v) for k, v in value.items()}


def _jsonable(value: object) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _schema(s: SchemaDiff) -> dict[str, Any]:
    return {
        "reference_counts": dict(s.reference_counts),
        "target_counts": dict(s.target_counts),
        "differences": [
            {"kind": d.kind, "name": d.name, "change": d.change,
             "reference": _plain(d.reference), "target": _plain(d.target)}
            for d in s.differences
        ],
        "ignored": [{"rule": i.rule, "count": i.count} for i in s.ignored],
    }


def report(drift: Drift) -> dict[str, Any]:
    """One comparison as a `driftwatch.report/v1` document."""
    return {
        "format": REPORT_FORMAT,
        "in_sync": drift.in_sync,
        "reference": _side(drift.reference),
        "target": _side(drift.target),
        "migrations": None if drift.migrations is None else _migrations(drift.migrations),
        "schema": _schema(drift.schema),
        "critical_tables": [{"name": t.name, "status": t.status} for t in drift.critical_tables],
    }


def failure(f: CheckFailure) -> dict[str, Any]:
    """A comparison that could not be checked, in the same envelope with `error` set."""
    return {
        "format": REPORT_FORMAT,
        "in_sync": None,
        "reference": {"name": f.reference},
        "target": {"name": f.target},
        "error": {"reason": f.reason, "message": f.message},
    }


def outcome(o: Outcome) -> dict[str, Any]:
    return report(o) if isinstance(o, Drift) else failure(o)


def check_document(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """All comparisons of a `driftwatch check` run as one `driftwatch.check/v1` document."""
    checked = [o for o in outcomes if isinstance(o, Drift)]
    complete = len(checked) == len(outcomes)
    return {
        "format": CHECK_FORMAT,
        "in_sync": all(o.in_sync for o in checked) if complete else None,
        "comparisons": [outcome(o) for o in outcomes],
    }


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
