"""The daemon's latest results: immutable values, replaced whole after every run, read by scrapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from driftwatch.connect import REASONS
from driftwatch.model import KINDS, CheckFailure, Drift, Outcome, Snapshot

if TYPE_CHECKING:  # the history's row types bring sqlite3, which check and diff never load
    from driftwatch.store_rows import CheckRow, EnvironmentCheck

# Check durations range from a second (cheap path) to many minutes (20k tables, slow links).
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True, slots=True)
class Histogram:
    """Cumulative histogram data, as Prometheus exposes it."""

    bounds: tuple[float, ...] = DURATION_BUCKETS
    counts: tuple[int, ...] = (0,) * len(DURATION_BUCKETS)  # observations <= each bound
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> Histogram:
        counts = tuple(c + (value <= b) for c, b in zip(self.counts, self.bounds, strict=True))
        return Histogram(self.bounds, counts, self.total + value, self.count + 1)


@dataclass(frozen=True, slots=True)
class EnvState:
    """What the last run learned about one environment."""

    name: str
    up: bool = False
    applied_migrations: int = 0
    failed_migrations: int = 0
    schema_objects: Mapping[str, int] = field(default_factory=dict)  # kind -> count
    snapshot_duration: float = 0.0


@dataclass(frozen=True, slots=True)
class ComparisonState:
    """What the last run concluded about one comparison."""

    reference: str
    target: str
    in_sync: bool | None = None  # None: not checked yet, or could not be checked
    missing: int = 0
    extra: int = 0
    differences: Mapping[str, int] = field(default_factory=dict)  # kind -> count
    critical_mismatches: int = 0
    drift_started: datetime | None = None
    last_check: datetime | None = None
    last_success: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.reference}:{self.target}"


@dataclass(frozen=True, slots=True)
class State:
    """Everything /metrics, /readyz and `status` show, as of the last completed run."""

    environments: Mapping[str, EnvState]
    comparisons: Mapping[str, ComparisonState]
    errors: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (env, reason) -> n
    durations: Mapping[str, Histogram] = field(default_factory=dict)  # schedule -> histogram
    ready: bool = False  # a check has completed since start
    slack_errors: Mapping[str, int] = field(default_factory=dict)  # Slack error code -> count
    alerts_pending: int = 0  # alerts decided but not yet accepted by Slack
    sync_runs: Mapping[tuple[str, str, str], int] = field(default_factory=dict)  # (ref, target, result) -> n
    history_write_errors: int = 0  # runs whose results the history could not take (state_dir full)

    @classmethod
    def initial(cls, environments: Iterable[str], comparisons: Iterable[tuple[str, str]]) -> State:
        """Every series that will exist, at zero, so none appears late."""
        names = list(environments)
        return cls(
            {name: EnvState(name) for name in names},
            {f"{r}:{t}": ComparisonState(r, t) for r, t in comparisons},
            errors={(name, reason): 0 for name in names for reason in REASONS},
            durations={"check": Histogram(), "weekly": Histogram()},
        )


def env_state(name: str, snapshot: Snapshot | None, duration: float) -> EnvState:
    """An environment's state after a snapshot attempt (None: it failed)."""
    if snapshot is None:
        return EnvState(name, up=False, snapshot_duration=duration)
    history = snapshot.migrations
    applied = len(history.applied) if history else 0
    failed = sum(not m.success for m in history.applied) if history else 0
    counts = {kind: len(snapshot.of_kind(kind)) for kind in KINDS}
    return EnvState(name, True, applied, failed, counts, duration)


def comparison_state(
    previous: ComparisonState, outcome: Outcome, at: datetime, drift_started: datetime | None
) -> ComparisonState:
    """Fold one outcome into a comparison's state; a failure keeps the last verdict's numbers."""
    if isinstance(outcome, CheckFailure):
        return replace(previous, last_check=at)
    return _from_drift(previous, outcome, at, drift_started)


def _from_drift(
    previous: ComparisonState, drift: Drift, at: datetime, drift_started: datetime | None
) -> ComparisonState:
    m = drift.migrations
    by_kind = dict.fromkeys(KINDS, 0)
    for d in drift.schema.differences:
        by_kind[d.kind] += 1
    return replace(
        previous,
        in_sync=drift.in_sync,
        missing=len(m.missing) if m else 0,
        extra=len(m.extra) if m else 0,
        differences=by_kind,
        critical_mismatches=sum(t.status != "ok" for t in drift.critical_tables),
        drift_started=None if drift.in_sync else drift_started,
        last_check=at,
        last_success=at,
    )



# --- after a restart: what the last process knew, from the history ------------------------------


def restored_env(row: EnvironmentCheck) -> EnvState:
    """An environment as its last recorded read left it."""
    return EnvState(row.env, row.ok, row.applied_migrations or 0, row.failed_migrations or 0,
                    dict(row.schema_counts or {}), row.duration_seconds)  # fmt: skip


def restored_comparison(previous: ComparisonState, latest: CheckRow, verdict: CheckRow | None,
                        drift_started: datetime | None) -> ComparisonState:  # fmt: skip
    """A comparison as the last process left it: the last verdict's numbers, the last attempt's time.

    The same fold as a live failed check: an attempt that could not compare keeps the numbers
    of the verdict before it.
    """
    state = replace(previous, last_check=latest.finished_at, drift_started=drift_started)
    if verdict is None:
        return state
    report = verdict.report_document()
    migrations = report.get("migrations") or {}
    by_kind = dict.fromkeys(KINDS, 0)
    for d in (report.get("schema") or {}).get("differences", ()):
        by_kind[d["kind"]] += 1
    return replace(
        state,
        in_sync=verdict.in_sync,
        missing=len(migrations.get("missing", ())),
        extra=len(migrations.get("extra", ())),
        differences=by_kind,
        critical_mismatches=sum(t["status"] != "ok" for t in report.get("critical_tables", ())),
        drift_started=None if verdict.in_sync else drift_started,
        last_success=verdict.finished_at,
    )
