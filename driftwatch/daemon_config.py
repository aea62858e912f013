"""The daemon's config sections: `[schedule]`, `[metrics]` and `[state]`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from driftwatch.cron import CronError
from driftwatch.cron import parse as parse_cron
from driftwatch.toml_section import Section

DEFAULT_PORT = 9632


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When the daemon checks (standard crontab meaning: `0 6 * * 1` is Monday)."""

    check: str = "0 * * * *"
    weekly: str = "0 6 * * 1"
    timezone: str = "UTC"
    run_on_start: bool = True
    full_snapshot_every_hours: float = 24.0  # even when the catalog fingerprint is unchanged
    misfire_grace_seconds: int = 900  # a check due while the host slept still runs this late
    max_parallel: int = 4  # environments read at once
    shutdown_timeout_seconds: float = 60.0  # how long SIGTERM waits for a running check


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Where the HTTP port (/metrics, /healthz, /readyz) listens."""

    host: str = "0.0.0.0"  # noqa: S104 - Prometheus and kubelet probes must reach it
    port: int = DEFAULT_PORT


@dataclass(frozen=True, slots=True)
class StateSettings:
    """Where the history lives and for how long."""

    state_dir: Path = Path("driftwatch-state")
    retention_days: int = 90


def schedule(table: Mapping[str, Any], problems: list[str]) -> ScheduleSettings:
    s = Section(table, "config.schedule", problems)
    d = ScheduleSettings()
    values = ScheduleSettings(
        s.get("check", str, d.check), s.get("weekly", str, d.weekly),
        s.get("timezone", str, d.timezone), s.get("run_on_start", bool, d.run_on_start),
        float(s.get("full_snapshot_every_hours", (int, float), d.full_snapshot_every_hours)),
        s.get("misfire_grace_seconds", int, d.misfire_grace_seconds),
        s.get("max_parallel", int, d.max_parallel),
        float(s.get("shutdown_timeout_seconds", (int, float), d.shutdown_timeout_seconds)),
    )  # fmt: skip
    s.finish()
    for key in ("check", "weekly"):
        try:
            parse_cron(getattr(values, key))
        except CronError as e:
            s.problem(key, str(e))
    try:
        ZoneInfo(values.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        s.problem("timezone", f"unknown time zone {values.timezone!r}; e.g. \"Africa/Johannesburg\"")
    for key in ("full_snapshot_every_hours", "misfire_grace_seconds", "max_parallel",
                "shutdown_timeout_seconds"):  # fmt: skip
        if getattr(values, key) <= 0:
            s.problem(key, "must be positive")
    return values


def metrics(table: Mapping[str, Any], problems: list[str]) -> MetricsSettings:
    s = Section(table, "config.metrics", problems)
    listen = s.get("listen", str, f":{DEFAULT_PORT}")
    s.finish()
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        s.problem("listen", f"expected HOST:PORT or :PORT, got {listen!r}")
        return MetricsSettings()
    return MetricsSettings(host.strip("[]") or MetricsSettings().host, int(port))


def state(table: Mapping[str, Any], path: Path | None, problems: list[str]) -> StateSettings:
    s = Section(table, "config.state", problems)
    d = StateSettings()
    directory = s.get("state_dir", str, str(d.state_dir))
    retention = s.get("retention_days", int, d.retention_days)
    s.finish()
    if retention <= 0:
        s.problem("retention_days", "must be positive")
    # Relative to the config file, so where the daemon is started from does not matter.
    folder = Path(directory)
    if not folder.is_absolute() and path is not None:
        folder = path.parent / folder
    return StateSettings(folder, retention)
