"""The daemon's config sections: `[schedule]`, `[metrics]` and `[state]`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from driftwatch.cron import CronError
from driftwatch.cron import parse as parse_cron
from driftwatch.secrets import Secret
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


SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Where and when alerts go (`[slack]`); `configured` is False when the section is absent."""

    configured: bool = False
    token: Secret | None = None  # a bot token for chat.postMessage ...
    token_source: str | None = None
    webhook_url: Secret | None = None  # ... or an incoming webhook (its URL is a secret too)
    channel: str | None = None
    api_url: str | None = None  # Slack's Web API base URL, overridden for tests and proxies
    remind_every_hours: float = 24.0
    unreachable_after: int = 3
    min_severity: str = "info"
    mention_on_critical: str | None = None
    dashboard_url: str | None = None
    report_base_url: str | None = None


def _secret(s: Section, name: str, environ: Mapping[str, str]) -> tuple[Secret | None, str | None]:
    """`NAME_env` (a variable's name) or `NAME_file` (a path): never the secret itself."""
    var, file = s.get(f"{name}_env", str), s.get(f"{name}_file", str)
    if var and file:
        s.problem(f"{name}_env", f"set {name}_env or {name}_file, not both")
    elif var:
        if var not in environ:
            s.problem(f"{name}_env", f"environment variable {var} is not set; export {var}")
            return None, None
        return Secret(environ[var]), f"${var}"
    elif file:
        try:
            return Secret(Path(file).read_text(encoding="utf-8").strip()), file
        except OSError as e:
            s.problem(f"{name}_file", f"cannot read {file} ({e.strerror})")
    return None, None


def slack(table: Mapping[str, Any] | None, environ: Mapping[str, str], problems: list[str]) -> SlackSettings:
    if table is None:
        return SlackSettings()
    s, d = Section(table, "config.slack", problems), SlackSettings()
    token, token_source = _secret(s, "token", environ)
    webhook, _ = _secret(s, "webhook_url", environ)
    values = SlackSettings(
        True, token, token_source, webhook, s.get("channel", str), s.get("api_url", str),
        float(s.get("remind_every_hours", (int, float), d.remind_every_hours)),
        s.get("unreachable_after", int, d.unreachable_after),
        s.get("min_severity", str, d.min_severity), s.get("mention_on_critical", str),
        s.get("dashboard_url", str), s.get("report_base_url", str),
    )  # fmt: skip
    s.finish()
    if token is None and webhook is None and not any("config.slack.token" in p or
                                                     "config.slack.webhook" in p for p in problems):
        s.problem(None, "set token_env/token_file (a bot token) or webhook_url_env/webhook_url_file")
    if token is not None and not values.channel:
        s.problem("channel", 'a bot token posts to a channel; e.g. channel = "#platform"')
    if values.min_severity not in SEVERITIES:
        s.problem("min_severity", f"one of {', '.join(SEVERITIES)}, got {values.min_severity!r}")
    if values.unreachable_after < 1 or values.remind_every_hours <= 0:
        s.problem("unreachable_after", "unreachable_after and remind_every_hours must be positive")
    return values


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
