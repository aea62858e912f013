"""Prometheus metrics: every name declared here, built fresh from the latest State on each scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from driftwatch import __version__
from driftwatch.model import KINDS
from driftwatch.state import State

PREFIX = "driftwatch_"


@dataclass(frozen=True, slots=True)
class Declared:
    """One metric: its name (without prefix), type, help text and labels."""

    name: str
    type: str
    help: str
    labels: tuple[str, ...]


# The one place metric names live; docs/metrics.md documents each (a test keeps them in step).
# Labels avoid `env`, `environment`, `job` and `instance`: scrape configs attach those as
# target labels and ours would be renamed `exported_*`.
METRICS = {m.name: m for m in (
    Declared("up", "gauge", "1 when the last snapshot of this environment succeeded.", ("env_name",)),
    Declared("in_sync", "gauge", "1 when the target matches its reference (migrations, schema, "
             "critical tables); 0 when it drifts or could not be checked.", ("reference", "target")),
    Declared("missing_migrations", "gauge", "Migrations applied in the reference but not the target.",
             ("reference", "target")),
    Declared("extra_migrations", "gauge", "Migrations applied only in the target (hotfix, or ahead).",
             ("reference", "target")),
    Declared("failed_migrations", "gauge", "Failed or dirty entries in the migration history.",
             ("env_name",)),
    Declared("applied_migrations", "gauge", "Entries in the migration history.", ("env_name",)),
    Declared("schema_differences", "gauge", "Schema differences by object kind.",
             ("reference", "target", "kind")),
    Declared("critical_table_mismatches", "gauge", "Critical tables missing or different.",
             ("reference", "target")),
    Declared("drift_started_timestamp_seconds", "gauge", "When the open drift episode began "
             "(0 while in sync); drift age is time() minus this.", ("reference", "target")),
    Declared("schema_objects", "gauge", "Objects in the environment's schema by kind.",
             ("env_name", "kind")),
    Declared("last_check_timestamp_seconds", "gauge", "When the comparison was last attempted.",
             ("reference", "target")),
    Declared("last_success_timestamp_seconds", "gauge", "When the comparison was last checked "
             "successfully (both sides read).", ("reference", "target")),
    Declared("check_duration_seconds", "histogram", "Duration of whole check runs.", ("schedule",)),
    Declared("snapshot_duration_seconds", "gauge", "Duration of the environment's last snapshot.",
             ("env_name",)),
    Declared("check_errors", "counter", "Environments that could not be read, by reason.",
             ("env_name", "reason")),
    Declared("slack_errors", "counter", "Slack deliveries that failed, by Slack's error code.",
             ("error",)),
    Declared("alerts_pending", "gauge", "Alerts decided but not yet accepted by Slack (kept and "
             "retried every run).", ()),
    Declared("history_write_errors", "counter", "Runs whose results could not be written to the history "
             "(state_dir full or unwritable); their verdicts are not published.", ()),
    Declared("sync_runs", "counter", "Audited `driftwatch sync --apply` runs (by a person or the daemon), "
             "by result.", ("reference", "target", "result")),
    Declared("comparison_info", "gauge", "Always 1 per configured comparison; the comparison label "
             "(uat:staging, as --comparison names it) lets dashboards select comparisons by name.",
             ("comparison", "reference", "target")),
    Declared("build_info", "gauge", "Always 1; the version label says which driftwatch runs.",
             ("version",)),
)}  # fmt: skip


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


def _family(name: str) -> GaugeMetricFamily | CounterMetricFamily:
    d = METRICS[name]
    cls = CounterMetricFamily if d.type == "counter" else GaugeMetricFamily
    return cls(PREFIX + d.name, d.help, labels=list(d.labels))


def _environment_metrics(state: State) -> Iterator[Metric]:
    fams = {n: _family(n) for n in ("up", "failed_migrations", "applied_migrations",
                                    "schema_objects", "snapshot_duration_seconds")}  # fmt: skip
    for env in state.environments.values():
        fams["up"].add_metric([env.name], float(env.up))
        fams["failed_migrations"].add_metric([env.name], env.failed_migrations)
        fams["applied_migrations"].add_metric([env.name], env.applied_migrations)
        fams["snapshot_duration_seconds"].add_metric([env.name], env.snapshot_duration)
        for kind in KINDS:
            fams["schema_objects"].add_metric([env.name, kind], env.schema_objects.get(kind, 0))
    yield from fams.values()


def _comparison_metrics(state: State) -> Iterator[Metric]:
    names = ("in_sync", "missing_migrations", "extra_migrations", "schema_differences",
             "critical_table_mismatches", "drift_started_timestamp_seconds",
             "last_check_timestamp_seconds", "last_success_timestamp_seconds", "comparison_info")  # fmt: skip
    fams = {n: _family(n) for n in names}
    for c in state.comparisons.values():
        labels = [c.reference, c.target]
        fams["comparison_info"].add_metric([c.name, *labels], 1)
        fams["in_sync"].add_metric(labels, float(bool(c.in_sync)))
        fams["missing_migrations"].add_metric(labels, c.missing)
        fams["extra_migrations"].add_metric(labels, c.extra)
        fams["critical_table_mismatches"].add_metric(labels, c.critical_mismatches)
        fams["drift_started_timestamp_seconds"].add_metric(labels, _ts(c.drift_started))
        fams["last_check_timestamp_seconds"].add_metric(labels, _ts(c.last_check))
        fams["last_success_timestamp_seconds"].add_metric(labels, _ts(c.last_success))
        for kind in KINDS:
            fams["schema_differences"].add_metric([*labels, kind], c.differences.get(kind, 0))
    yield from fams.values()


def _run_metrics(state: State) -> Iterator[Metric]:
    errors = _family("check_errors")
    for (env, reason), n in sorted(state.errors.items()):
        errors.add_metric([env, reason], n)
    yield errors
    d = METRICS["check_duration_seconds"]
    hist = HistogramMetricFamily(PREFIX + d.name, d.help, labels=list(d.labels))
    for schedule, h in sorted(state.durations.items()):
        buckets = [(repr(b), float(c)) for b, c in zip(h.bounds, h.counts, strict=True)]
        hist.add_metric([schedule], [*buckets, ("+Inf", float(h.count))], h.total)
    yield hist
    slack_errors = _family("slack_errors")
    for code, n in sorted(state.slack_errors.items()):
        slack_errors.add_metric([code], n)
    yield slack_errors
    pending = _family("alerts_pending")
    pending.add_metric([], state.alerts_pending)
    yield pending
    unrecorded = _family("history_write_errors")
    unrecorded.add_metric([], state.history_write_errors)
    yield unrecorded
    syncs = _family("sync_runs")
    for (reference, target, result), n in sorted(state.sync_runs.items()):
        syncs.add_metric([reference, target, result], n)
    yield syncs
    info = _family("build_info")
    info.add_metric([__version__], 1)
    yield info


class DriftCollector(Collector):
    """Renders the latest State on every scrape; holds no metric objects of its own."""

    def __init__(self, state: Callable[[], State]) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        state = self._state()
        yield from _environment_metrics(state)
        yield from _comparison_metrics(state)
        yield from _run_metrics(state)


def registry(state: Callable[[], State]) -> CollectorRegistry:
    """A fresh registry holding only driftwatch's collector (no process/platform noise)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(DriftCollector(state))
    return reg
