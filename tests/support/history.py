"""Hand-built history rows for the report's pure tests: a week of hourly checks, told in a few calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from driftwatch.report.facts import History
from driftwatch.store_rows import CheckRow, EnvironmentCheck, Episode, SeenMigration

SIZES = {"table": 45, "column": 523, "index": 60}


def report(in_sync: bool | None, missing: Sequence[str] = (), kinds: Sequence[str] = ()) -> str:
    """A driftwatch.report/v1 document, as much of it as the report reads."""
    if in_sync is None:
        return json.dumps({"in_sync": None, "error": {"reason": "refused", "message": "refused"}})
    doc: dict[str, Any] = {
        "in_sync": in_sync,
        "migrations": {"missing": list(missing), "extra": [], "failed": []},
        "schema": {"differences": [{"kind": k, "name": f"public.x{i}", "change": "missing"}
                                   for i, k in enumerate(kinds)]},
        "critical_tables": [{"name": "public.users", "status": "ok"}],
    }
    return json.dumps(doc)


@dataclass
class Builder:
    """Rows for one comparison (uat → staging, optionally → production) added hour by hour."""

    comparisons: tuple[tuple[str, str], ...] = (("uat", "staging"),)
    environments: tuple[str, ...] = ("uat", "staging")
    checks: list[CheckRow] = field(default_factory=list)
    reads: list[EnvironmentCheck] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    seen: list[SeenMigration] = field(default_factory=list)

    def check(self, at: datetime, in_sync: bool | None, missing: Sequence[str] = (),
              kinds: Sequence[str] = (), comparison: str = "uat:staging",
              error: str | None = None) -> None:  # fmt: skip
        ref, tgt = comparison.split(":")
        n = len(self.checks) + 1
        reason = "refused" if in_sync is None else None
        self.checks.append(CheckRow(n, f"run{at.timestamp():.0f}", "check", comparison, ref, tgt, at,
                                    at + timedelta(seconds=2), in_sync, reason, error, None, None, True,
                                    report(in_sync, missing, kinds), None))  # fmt: skip

    def read(self, at: datetime, env: str, ok: bool = True, sizes: dict[str, int] | None = None,
             message: str = "connection refused") -> None:  # fmt: skip
        n = len(self.reads) + 1
        self.reads.append(EnvironmentCheck(n, f"run{at.timestamp():.0f}", env, at, ok, 0.1,
                                           None if ok else "refused", None if ok else message, None, None,
                                           85 if ok else None, 0 if ok else None,
                                           (sizes or SIZES) if ok else None))  # fmt: skip

    def episode(self, opened: datetime, resolved: datetime | None, summary: dict[str, Any],
                comparison: str = "uat:staging") -> None:  # fmt: skip
        last = resolved or opened
        n = len(self.episodes) + 1
        self.episodes.append(Episode(n, comparison, opened, last, resolved, summary, summary))

    def saw(self, env: str, at: datetime, *ids: str) -> None:
        self.seen += [SeenMigration(env, i, at) for i in ids]

    def history(self) -> History:
        first_reads = {env: min((r.at for r in self.reads if r.env == env and r.ok), default=None)
                       for env in self.environments}  # fmt: skip
        first_checks = {f"{r}:{t}": min((c.started_at for c in self.checks if c.comparison == f"{r}:{t}"),
                                        default=None) for r, t in self.comparisons}  # fmt: skip
        return History(self.comparisons, self.environments, tuple(self.checks), tuple(self.episodes),
                       tuple(self.reads), tuple(self.seen), first_reads, first_checks)  # fmt: skip
