"""Where does `driftwatch diff` spend its time? Phases, server-side SQL time, imports, cProfile.

    PGPASSWORD=... python benchmarks/profile_diff.py REF_DSN TGT_DSN [--top 25] [--out FILE]

Runs the same steps as `driftwatch diff --json` (snapshot both sides, compare, render JSON),
but sequentially in the main thread so that cProfile sees all of it:

1. import time of driftwatch.cli (python -X importtime, in a child process);
2. one unprofiled pass, timing each phase, and splitting each snapshot into time spent
   waiting for and decoding rows (psycopg fetchall) and time building objects from them;
3. the server's own execution time of every catalog query (EXPLAIN (ANALYZE) of the exact
   queries and parameters driftwatch sent, captured from psycopg);
4. a cProfile pass, top N functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg

from driftwatch import catalog, diff, pipeline
from driftwatch.config import Comparison, Config, Environment, SchemaSettings
from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import Snapshot
from driftwatch.render import json as json_report

Queries = list[tuple[bytes, Any]]


@contextmanager
def instrumented(queries: Queries, timers: dict[str, float]) -> Iterator[None]:
    """Record the queries psycopg sends; time spent waiting on the socket, decoding rows, reading.

    `wait` is psycopg's blocking wait for the server (the pipeline's results arrive there);
    `fetchall` counts only the time beyond that wait: turning result rows into dicts.
    """
    execute, fetchall, wait = psycopg.Cursor.execute, psycopg.Cursor.fetchall, psycopg.Connection.wait
    stream = psycopg.Cursor.stream
    read_schema = catalog.read_schema
    for key in ("wait", "fetchall", "read_schema", "depth"):
        timers[key] = 0.0

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start, waited = time.perf_counter(), timers["wait"]
            timers["depth"] += name == "read_schema"
            try:
                return fn(*args, **kwargs)
            finally:
                timers["depth"] -= name == "read_schema"
                elapsed = time.perf_counter() - start
                if name == "fetchall":
                    elapsed -= timers["wait"] - waited  # already counted as waiting
                if name != "wait" or timers["depth"] > 0:  # only waits inside read_schema
                    timers[name] += elapsed

        return wrapper

    def recording_execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        queries.append((query if isinstance(query, bytes) else str(query).encode(), params))
        return execute(self, query, params, **kwargs)

    def recording_stream(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        queries.append((query if isinstance(query, bytes) else str(query).encode(), params))
        return stream(self, query, params, **kwargs)

    psycopg.Cursor.execute = recording_execute  # type: ignore[method-assign] # measuring only
    psycopg.Cursor.stream = recording_stream  # type: ignore[method-assign] # the big kinds
    psycopg.Cursor.fetchall = timed("fetchall", fetchall)  # type: ignore[method-assign]
    psycopg.Connection.wait = timed("wait", wait)  # type: ignore[method-assign]
    catalog.read_schema = timed("read_schema", read_schema)
    try:
        yield
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Cursor.stream = stream  # type: ignore[method-assign]
        psycopg.Cursor.fetchall = fetchall  # type: ignore[method-assign]
        psycopg.Connection.wait = wait  # type: ignore[method-assign]
        catalog.read_schema = read_schema


def run_diff(config: Config, phases: dict[str, float]) -> str:
    """`driftwatch diff --json` without threads; each phase's wall time goes into `phases`."""
    snapshots: list[Snapshot] = []
    for name in ("reference", "target"):
        start = time.perf_counter()
        snapshots.append(pipeline.take_snapshot(config.environments[name], config))
        phases[f"snapshot {name}"] = time.perf_counter() - start
    start = time.perf_counter()
    outcome = diff.compare(snapshots[0], snapshots[1])
    phases["diff"] = time.perf_counter() - start
    start = time.perf_counter()
    text = json_report.dumps(json_report.outcome(outcome))
    phases["render json"] = time.perf_counter() - start
    return text


def server_times(dsn: str, queries: Queries) -> list[tuple[str, float, float, int]]:
    """(catalog query file, planning ms, execution ms, rows) per catalog query."""
    folder = resources.files(catalog.__name__)
    bodies = {
        f.name: f.read_bytes().strip()
        for f in folder.iterdir()
        # The shared CTEs (namespaces, ext_members, index_options) prefix every query.
        if f.name.endswith(".sql") and f.name not in catalog._SHARED_FILES.values()
    }
    found = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for query, params in queries:
            if not query.lstrip().upper().startswith((b"WITH", b"SELECT")):
                continue
            row = conn.execute(b"EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()
            plan = row[0][0] if row else {}
            name = next((f for f, body in bodies.items() if body in query), "other")
            found.append((name, plan.get("Planning Time", 0.0), plan.get("Execution Time", 0.0),
                          int(plan.get("Plan", {}).get("Actual Rows", 0))))  # fmt: skip
    return found


def import_times(top: int) -> tuple[float, list[tuple[float, str]]]:
    """Total import time of driftwatch.cli in ms, and its slowest imports (cumulative ms)."""
    result = subprocess.run([sys.executable, "-P", "-X", "importtime", "-c", "import driftwatch.cli"],
                            capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1000, parts[2].rstrip()))
    total = next((ms for ms, name in rows if name.strip() == "driftwatch.cli"), 0.0)
    tops = [r for r in rows if len(r[1]) - len(r[1].lstrip()) <= 7]  # three levels deep at most
    return total, sorted(tops, reverse=True)[:top]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference")
    p.add_argument("target")
    p.add_argument("--top", type=int, default=25, help="functions to list by cumulative time (25)")
    p.add_argument("--out", help="also write the report to this file")
    args = p.parse_args()
    envs = {"reference": Environment("reference", args.reference, statement_timeout=600),
            "target": Environment("target", args.target, statement_timeout=600)}  # fmt: skip
    config = Config(None, envs, (Comparison("reference", "target"),), MigrationSettings("sequelize"),
                    SchemaSettings())  # fmt: skip
    out = io.StringIO()

    total_import, slow_imports = import_times(12)
    out.write(f"## imports\n\nimport driftwatch.cli: {total_import:.0f} ms; slowest (cumulative):\n")
    out.writelines(f"  {ms:8.1f} ms {name.strip()}\n" for ms, name in slow_imports)

    phases: dict[str, float] = {}
    timers: dict[str, float] = {}
    queries: Queries = []
    start = time.perf_counter()
    with instrumented(queries, timers):
        report = run_diff(config, phases)
    total = time.perf_counter() - start
    counts = json.loads(report)["schema"]["reference_counts"]
    out.write(f"\n## phases (sequential, unprofiled; total {total:.3f} s)\n\nobjects per side: {counts}\n")
    out.writelines(f"  {name:<20} {s:8.3f} s\n" for name, s in phases.items())
    read, wait, decode = timers["read_schema"], timers["wait"], timers["fetchall"]
    out.write(f"  both read_schema calls: {read:.3f} s = waiting for the server (SQL + transfer) "
              f"{wait:.3f} s + rows to dicts {decode:.3f} s + building objects "
              f"{read - wait - decode:.3f} s\n")  # fmt: skip
    out.write(f"  report size: {len(report) / 1e6:.1f} MB of JSON\n")

    half = len(queries) // 2  # the reference's queries, then the target's
    times = server_times(args.reference, queries[:half])
    out.write("\n## server-side execution of the reference's queries (EXPLAIN ANALYZE)\n\n")
    out.writelines(f"  {name:<24} plan {pl:7.1f} ms  exec {ex:8.1f} ms  rows {rows}\n"
                   for name, pl, ex, rows in times)  # fmt: skip
    out.write(f"  total: {sum(t[1] + t[2] for t in times) / 1000:.3f} s for {len(times)} queries\n")

    profiler = cProfile.Profile()
    profiler.enable()
    run_diff(config, {})
    profiler.disable()
    stats_text = io.StringIO()
    pstats.Stats(profiler, stream=stats_text).sort_stats("cumulative").print_stats(args.top)
    out.write(f"\n## cProfile, top {args.top} by cumulative time\n\n")
    out.write(stats_text.getvalue().split("\n", 4)[-1] if "\n" in stats_text.getvalue() else "")
    print(out.getvalue())
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(out.getvalue())


if __name__ == "__main__":
    main()
