"""The daemon's commands: `run` (serve until stopped) and `status` (read the history)."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime
from typing import TextIO

from driftwatch import logs
from driftwatch.config import Config
from driftwatch.render import json as json_report
from driftwatch.render.status import ComparisonStatus, document, render_text
from driftwatch.store import Store


def run(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """Serve until SIGTERM or SIGINT; the exit code is 0 after a clean stop."""
    from driftwatch.service import install_signal_handlers, serve  # noqa: PLC0415 - APScheduler only here

    logs.configure(args.log_format, args.log_level, out)
    stop = threading.Event()
    install_signal_handlers(stop)
    return serve(config, stop)


def _status(store: Store, reference: str, target: str) -> ComparisonStatus:
    name = f"{reference}:{target}"
    latest = store.latest_check(name)
    if latest is None:
        return ComparisonStatus(reference, target, None, None, None, None)
    report = latest.report_document()
    migrations = report.get("migrations") or {}
    episode = store.open_episode(name)
    since = episode.opened_at if episode else _in_sync_since(store, name)
    return ComparisonStatus(
        reference, target, latest.in_sync, since if latest.in_sync is not None else None,
        latest.started_at, store.last_success(name),
        tuple(migrations.get("missing", ())), tuple(migrations.get("extra", ())),
        len((report.get("schema") or {}).get("differences", ())), latest.error_message,
    )  # fmt: skip


def _in_sync_since(store: Store, comparison: str) -> datetime | None:
    """When the last drift episode was resolved (None if it never drifted while watched)."""
    far_past = datetime(1970, 1, 1, tzinfo=UTC)
    resolved = [e.resolved_at for e in store.episodes(far_past, datetime.now(UTC), comparison)
                if e.resolved_at is not None]  # fmt: skip
    return max(resolved, default=None)


def status(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """Print what the history says; exit 0 all in sync, 1 drift, 2 unknown or unreadable."""
    with Store.open(config.state.state_dir) as store:
        statuses = [_status(store, c.reference, c.target) for c in config.comparisons]
    if args.json:
        out.write(json_report.dumps(document(statuses)) + "\n")
    else:
        out.write(render_text(statuses, datetime.now(UTC)))
    if any(s.in_sync is None for s in statuses):
        return 2
    return 0 if all(s.in_sync for s in statuses) else 1


def notify_test(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Send a test message and say plainly whether Slack accepted it."""
    from driftwatch.render.slack import Alert, build_message  # noqa: PLC0415 - slack-sdk only here
    from driftwatch.slack import DeliveryError, Sender  # noqa: PLC0415

    if not config.slack.configured:
        err.write("driftwatch: there is no [slack] section in the config; add one with "
                  "token_env and channel, or webhook_url_env (see config.example.toml)\n")  # fmt: skip
        return 2
    alert = Alert("test", "info", "driftwatch", "driftwatch", datetime.now(UTC),
                  text="driftwatch can post here. Drift alerts will look like this channel's next "
                       "message.")  # fmt: skip
    channel = args.channel or config.slack.channel
    try:
        Sender(config.slack).send(build_message(alert).payload(), channel)
    except DeliveryError as e:
        err.write(f"driftwatch: Slack did not accept the test message: {e.sentence}\n")
        return 2
    where = f" in {channel}" if channel and config.slack.token is not None else ""
    out.write(f"Slack accepted the test message{where}.\n")
    return 0


def notify_preview(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Check one comparison now and print the Slack message it would produce, without sending."""
    from driftwatch import pipeline  # noqa: PLC0415
    from driftwatch.alerts import preview_alert  # noqa: PLC0415
    from driftwatch.model import Drift  # noqa: PLC0415
    from driftwatch.render.slack import build_message  # noqa: PLC0415

    comparison = config.comparison(args.comparison)
    if comparison is None:
        names = ", ".join(c.name for c in config.comparisons)
        err.write(f"driftwatch: no comparison {args.comparison} in the config (configured: {names})\n")
        return 2
    (outcome,) = pipeline.check_all(config, (comparison,))
    if not isinstance(outcome, Drift):
        err.write(f"driftwatch: could not check {comparison.name}: {outcome.message}\n")
        return 2
    if outcome.in_sync:
        out.write(f"{comparison.target} is in sync with {comparison.reference}: no alert would be sent.\n")
        return 0
    report = json_report.report(outcome)
    alert = preview_alert(comparison.reference, comparison.target, report, datetime.now(UTC),
                          config.slack)  # fmt: skip
    message = build_message(alert)
    out.write(json_report.dumps({"text": message.text, "blocks": list(message.blocks)}) + "\n")
    out.write("\n--- plain-text fallback ---\n" + message.text + "\n")
    return 1
