"""The command line: parse arguments, run a command, return its exit code (0 sync, 1 drift, 2 error)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from driftwatch import __version__, pipeline
from driftwatch.config import (
    MIGRATION_TOOLS,
    Comparison,
    Config,
    ConfigError,
    Environment,
    SchemaSettings,
)
from driftwatch.config import load as load_config
from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import Drift, Outcome
from driftwatch.render import json as json_report
from driftwatch.render.terminal import Style, render
from driftwatch.secrets import redact_text

EXIT_IN_SYNC, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="driftwatch", description=(
        "Compare PostgreSQL environments (UAT → Staging → Production) for migration and "
        "schema drift. Exit codes: 0 in sync, 1 drift found, 2 could not check."))  # fmt: skip
    p.add_argument("--version", action="version", version=f"driftwatch {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config_help = "config file (default: $DRIFTWATCH_CONFIG or ./driftwatch.toml)"
    check = sub.add_parser("check", help="check every configured comparison (or one)")
    check.add_argument("--config", type=Path, help=config_help)
    check.add_argument("--comparison", metavar="REF:TARGET", help="only this comparison")
    _output_flags(check)

    diff = sub.add_parser("diff", help="compare two databases given by DSN, no config file")
    diff.add_argument("reference", help="libpq URI or key=value DSN of the reference")
    diff.add_argument("target", help="libpq URI or key=value DSN of the target")
    diff.add_argument("--migrations-tool", default="sequelize", choices=MIGRATION_TOOLS)
    diff.add_argument("--critical-table", action="append", default=[], metavar="TABLE",
                      help="a table that must match exactly (repeatable)")  # fmt: skip
    _output_flags(diff)

    cfg = sub.add_parser("check-config", help="validate the config file without connecting")
    cfg.add_argument("--config", type=Path, help=config_help)
    return p


def _output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the JSON report instead")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def _config_path(arg: Path | None) -> Path:
    return arg or Path(os.environ.get("DRIFTWATCH_CONFIG", "driftwatch.toml"))


def _exit_code(outcomes: Sequence[Outcome]) -> int:
    if any(not isinstance(o, Drift) for o in outcomes):
        return EXIT_ERROR  # could not check wins over drift
    return EXIT_IN_SYNC if all(o.in_sync for o in outcomes if isinstance(o, Drift)) else EXIT_DRIFT


def _emit(outcomes: Sequence[Outcome], args: argparse.Namespace, out: TextIO, single: bool) -> int:
    if args.json:
        doc = (json_report.outcome(outcomes[0]) if single
               else json_report.check_document(outcomes))  # fmt: skip
        out.write(json_report.dumps(doc) + "\n")
    else:
        color = args.color == "always" or (args.color == "auto" and out.isatty())
        out.write(render(outcomes, Style(color)))
    return _exit_code(outcomes)


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = load_config(_config_path(args.config))
    comparisons = config.comparisons
    if args.comparison:
        chosen = config.comparison(args.comparison)
        if chosen is None:
            names = ", ".join(c.name for c in config.comparisons)
            err.write(f"driftwatch: no comparison {args.comparison} in the config "
                      f"(configured: {names})\n")  # fmt: skip
            return EXIT_ERROR
        comparisons = (chosen,)
    return _emit(pipeline.check_all(config, comparisons), args, out, single=False)


def _diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # libpq itself reads PGPASSWORD and ~/.pgpass when the URI holds no password.
    envs = {name: Environment(name, dsn) for name, dsn in
            (("reference", args.reference), ("target", args.target))}  # fmt: skip
    comparison = Comparison("reference", "target", tuple(args.critical_table))
    config = Config(None, envs, (comparison,), MigrationSettings(args.migrations_tool),
                    SchemaSettings())  # fmt: skip
    return _emit(pipeline.check_all(config, (comparison,)), args, out, single=True)


def _check_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _config_path(args.config)
    config = load_config(path)
    out.write(f"{path}: OK — {len(config.environments)} environments "
              f"({', '.join(config.environments)}), comparisons: "
              f"{', '.join(c.name for c in config.comparisons)}\n")  # fmt: skip
    return EXIT_IN_SYNC


COMMANDS = {"check": _check, "diff": _diff, "check-config": _check_config}


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """Run one command; every user error ends as a message on `err` and exit code 2."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed usage or --help already
        return EXIT_ERROR if e.code not in (0, None) else EXIT_IN_SYNC
    try:
        return COMMANDS[args.command](args, out, err)
    except ConfigError as e:
        err.write("driftwatch: the configuration has problems:\n")
        err.write("".join(f"  - {p}\n" for p in e.problems))
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write("driftwatch: interrupted\n")
        return 130
    except Exception as e:
        err.write(f"driftwatch: unexpected error ({type(e).__name__}): "
                  f"{redact_text(str(e))}\n")  # fmt: skip
        return EXIT_ERROR


def main() -> None:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
