"""The daemon's process: open the history, serve HTTP, schedule checks, stop cleanly on a signal."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

from driftwatch import daemon_lock, logs
from driftwatch.config import Config
from driftwatch.daemon import Daemon
from driftwatch.metrics import registry
from driftwatch.pipeline import Clock, utc_now
from driftwatch.report.weekly import reports_dir
from driftwatch.server import Endpoints, HttpServer
from driftwatch.store import Store

SIGNAL_POLL_SECONDS = 1.0


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM (Kubernetes, systemd) and SIGINT (Ctrl-C) both ask for a clean stop."""

    def handle(signum: int, _: FrameType | None) -> None:
        logs.get().info("daemon.signal", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def serve(
    config: Config,
    stop: threading.Event,
    clock: Clock = utc_now,
    on_ready: Callable[[HttpServer, Daemon], None] | None = None,
) -> int:
    """Run until `stop` is set; returns the exit code (0 after a clean stop)."""
    log = logs.get()
    # The history first (it creates state_dir, or says why it cannot), then the daemon lock: a
    # second daemon on the same state would post every alert twice.
    with Store.open(config.state.state_dir) as store, daemon_lock.held(config.state.state_dir):
        daemon = Daemon(config, store, clock)
        endpoints = Endpoints(registry(daemon.state), daemon.state, daemon.alive, reports_dir(config))
        http = HttpServer(config.metrics.host, config.metrics.port, endpoints).start()
        daemon.start_scheduler()
        log.info("daemon.started", listen=f"{config.metrics.host}:{http.port}",
                 comparisons=[c.name for c in config.comparisons],
                 state_dir=str(config.state.state_dir))  # fmt: skip
        if on_ready is not None:
            on_ready(http, daemon)
        # Wake up every second: the kernel may deliver SIGTERM to any thread, and Python runs the
        # handler only when the main thread next executes, which a bare wait() never lets it do.
        while not stop.wait(SIGNAL_POLL_SECONDS):
            pass
        timeout = config.schedule.shutdown_timeout_seconds
        log.info("daemon.stopping", waiting_seconds=timeout)
        finished = daemon.stop(timeout)
        http.stop()
        if not finished:
            log.warning("daemon.stopped_mid_check", reason=f"a check ran past {timeout} s and "
                        "did not end when its queries were cancelled; it is left unrecorded")  # fmt: skip
        log.info("daemon.stopped")
    if not finished:
        # The stuck run's thread would hold the interpreter's exit (concurrent.futures joins its
        # workers at exit) for as long as it stays stuck. Every committed write is already in the
        # history (SQLite WAL: the SIGKILL test shows any moment is safe), so leave now.
        logging.shutdown()
        os._exit(0)
    return 0
