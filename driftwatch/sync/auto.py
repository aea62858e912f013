"""Auto-sync in the daemon: only for comparisons with enabled and auto, never after a failed sync."""

from __future__ import annotations

from collections.abc import Iterable

from driftwatch import logs
from driftwatch.config import Comparison, Config
from driftwatch.errors import UserError
from driftwatch.model import Drift, Outcome
from driftwatch.store import Store
from driftwatch.sync import audit, service
from driftwatch.sync.plan import Options
from driftwatch.sync.result import Result


def due(config: Config, store: Store, comparison: Comparison, outcome: Outcome) -> bool:
    """Whether the daemon should sync this comparison now; a paused target is logged, not synced."""
    if not config.sync_for(comparison.name).automatic or not isinstance(outcome, Drift):
        return False
    if outcome.migrations is None or not outcome.migrations.missing:
        return False  # schema drift alone is not sync's to fix
    paused = audit.paused_by(store, comparison.target)
    if paused is not None:
        logs.get().warning("sync.auto_paused", comparison=comparison.name, audit_id=paused.id,
                           result=paused.result, fix="a person runs driftwatch sync --apply")  # fmt: skip
        return False
    return True


def after_run(config: Config, store: Store, checked: Iterable[tuple[Comparison, Outcome]],
              hooks: service.Hooks) -> list[Result]:  # fmt: skip
    """Sync each comparison that is due; a refusal is logged (each hour), not audited or posted."""
    results = []
    for comparison, outcome in checked:
        if not due(config, store, comparison, outcome):
            continue
        try:
            r = service.apply(config, comparison.name, store, Options(apply=True), actor=audit.AUTO_ACTOR,
                              hooks=hooks, record_refusals=False)  # fmt: skip
        except UserError as e:  # the target unreachable now: the next run tries again
            logs.get().warning("sync.auto_failed", comparison=comparison.name, error=str(e))
            continue
        if r.result == "refused":
            logs.get().warning("sync.auto_refused", comparison=comparison.name,
                               reasons=[c.reason for c in r.plan.refusals])  # fmt: skip
        results.append(r)
    return results
