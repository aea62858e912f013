"""The daemon's Slack edge: turn each check into alert decisions, queue them, deliver them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftwatch import logs
from driftwatch.alerts import (
    ComparisonFacts,
    Decision,
    EnvironmentFacts,
    comparison_decisions,
    environment_decisions,
)
from driftwatch.config import Comparison, Config
from driftwatch.outbox import Outbox
from driftwatch.pipeline import Clock
from driftwatch.render.slack import build_message
from driftwatch.slack import DeliveryError, Sender, flush
from driftwatch.store import Store
from driftwatch.store_rows import EpisodeChange

NOTICE_KINDS = ("opened", "changed", "reminder")


class Notifier:
    """Decides and queues alerts after each check; delivers the queue at the end of a run."""

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.settings, self.clock = config.slack, clock
        self.outbox = Outbox(store)
        self.store = store
        self.sender = Sender(self.settings) if self.settings.configured else None
        self.errors: dict[str, int] = {}  # Slack error code -> count, for the metric
        self._reported: set[str] = set()  # codes logged since the last success (log once)
        self._degraded: set[str] = set()  # refused history look-ups, warned about once per process
        self.log = logs.get()

    def after_check(self, comparison: Comparison, change: EpisodeChange,
                    report: Mapping[str, Any]) -> None:  # fmt: skip
        if self.sender is None or change.episode is None:
            return
        episode_prefix = f"episode:{change.episode.id}:"
        last = self.outbox.last(comparison.name, NOTICE_KINDS)
        facts = ComparisonFacts(
            comparison.reference, comparison.target, change, report,
            last.created_at if last and last.dedupe_key.startswith(episode_prefix) else None,
            self.outbox.has_prefix(episode_prefix), comparison.slack_channel,
        )  # fmt: skip
        self._queue(comparison_decisions(facts, self.clock(), self.settings))

    def after_environment(self, name: str, ok: bool, error: str | None) -> None:
        if self.sender is None:
            return
        last = self.outbox.last(f"env:{name}", ("unreachable", "reachable"))
        facts = EnvironmentFacts(name, ok, self.store.consecutive_failures(name),
                                 last.kind if last else None, last.id if last else None, error)  # fmt: skip
        self._queue(environment_decisions(facts, self.clock(), self.settings))

    def _queue(self, decisions: list[Decision]) -> None:
        for d in decisions:
            payload = build_message(d.alert).payload()
            if self.outbox.enqueue(d.key, comparison=d.subject, kind=d.alert.kind,
                                   severity=d.alert.severity, at=self.clock(), payload=payload,
                                   channel=d.channel):  # fmt: skip
                self.log.info("alert.queued", key=d.key, kind=d.alert.kind, severity=d.alert.severity)

    def deliver(self) -> int:
        """Send what is queued; a failure keeps it queued for the next run."""
        if self.sender is None:
            return 0
        try:
            sent = flush(self.outbox, self.sender, self.clock, self._failed, self._lookup_refused)
        except Exception as e:  # the history failed mid-flush (disk full ...): the run still ends
            self._failed(DeliveryError("delivery_failed", f"delivering alerts failed ({type(e).__name__}); "
                                       "they stay queued and are retried next cycle"))  # fmt: skip
            return 0
        if sent:
            self._reported.clear()  # the next failure is news again
            self.log.info("alerts.sent", count=sent)
        return sent

    def _failed(self, error: DeliveryError) -> None:
        self.errors[error.code] = self.errors.get(error.code, 0) + 1
        if error.code not in self._reported:
            self._reported.add(error.code)
            self.log.error("slack.undelivered", error=error.code, fix=error.sentence)

    def _lookup_refused(self, error: DeliveryError) -> None:
        if error.code not in self._degraded:
            self._degraded.add(error.code)
            self.log.warning("slack.lookup_unavailable", error=error.code, fix=error.sentence)

    def pending(self) -> int:
        return len(self.outbox.pending()) if self.sender is not None else 0
