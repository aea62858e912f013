"""What a new daemon process takes over from the history: cached snapshots and the last verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from driftwatch import snapshot_file
from driftwatch.model import Snapshot
from driftwatch.state import ComparisonState, State, restored_comparison, restored_env
from driftwatch.store import Store


@dataclass(frozen=True, slots=True)
class Cached:
    """The last full snapshot of an environment, for the cheap path."""

    snapshot: Snapshot
    server_fingerprint: str
    full_at: datetime
    fingerprint: str  # of `snapshot`: hashing a big schema takes seconds, so it is kept


def cached_snapshots(store: Store, environments: Iterable[str]) -> dict[str, Cached]:
    """Each environment's last stored full snapshot that the cheap path can start from."""
    cache = {}
    for name in environments:
        stored = store.latest_snapshot(name)
        if stored is not None and stored.server_fingerprint:
            snap = snapshot_file.from_document(json.loads(stored.document), f"stored {name}")
            cache[name] = Cached(snap, stored.server_fingerprint, stored.taken_at,
                                 stored.fingerprint)  # from_document has verified it
    return cache


def last_verdicts(store: Store, state: State) -> State:
    """`state` with each environment's last read and each comparison's last verdict and episode.

    So a restart neither zeroes the gauges (resetting every alert's `for:`) nor reports a
    comparison as never checked until its first run ends.
    """
    envs = {name: restored_env(row) for name in state.environments
            if (row := store.latest_environment(name)) is not None}  # fmt: skip
    comparisons = {name: _comparison(store, c) for name, c in state.comparisons.items()}
    return replace(state, environments={**state.environments, **envs}, comparisons=comparisons)


def _comparison(store: Store, c: ComparisonState) -> ComparisonState:
    episode = store.open_episode(c.name)
    started = episode.opened_at if episode else None
    latest = store.latest_check(c.name)
    if latest is None:
        return replace(c, drift_started=started)
    return restored_comparison(c, latest, store.latest_verdict(c.name), started)
