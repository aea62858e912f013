"""What a sync did, decided from the plan, the command's run and the re-check (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from driftwatch.model import Drift, Outcome
from driftwatch.sync.plan import Plan
from driftwatch.sync.run import Execution


@dataclass(frozen=True, slots=True)
class Result:
    """One `sync --apply`: refused, nothing to do, or run and re-checked."""

    plan: Plan
    actor: str
    started_at: datetime
    finished_at: datetime
    result: str  # one of audit.RESULTS
    execution: Execution | None = None
    applied: tuple[str, ...] = ()
    still_missing: tuple[str, ...] = ()
    schema_equal: bool | None = None  # None: not re-checked, or the re-check could not read a side
    in_sync: bool | None = None
    recheck_error: str | None = None
    audit_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.result in ("applied", "nothing_to_do")

    def reasons(self) -> tuple[str, ...]:
        """The refusals, or the preconditions overridden (the audit says so)."""
        if self.result == "refused":
            return tuple(c.reason for c in self.plan.refusals)
        return tuple(f"overridden by {c.overridden_by}: {c.reason}" for c in self.plan.overrides)


def conclude(plan: Plan, execution: Execution, recheck: Outcome, *, actor: str, started: datetime,
             finished: datetime) -> Result:  # fmt: skip
    """The result of a run: applied only when the command succeeded and the target is now in sync."""
    if isinstance(recheck, Drift):
        m = recheck.migrations
        still = m.missing if m else ()
        equal: bool | None = not recheck.schema.differences
        in_sync: bool | None = recheck.in_sync
        error = None
    else:
        still, equal, in_sync, error = plan.missing, None, None, recheck.message
    applied = tuple(i for i in plan.missing if i not in still) if error is None else ()
    if execution.timed_out:
        outcome = "timeout"
    elif not execution.ok:
        outcome = "failed"
    elif still or not equal:
        outcome = "incomplete"
    else:
        outcome = "applied"
    return Result(plan, actor, started, finished, outcome, execution, applied, still, equal, in_sync, error)
