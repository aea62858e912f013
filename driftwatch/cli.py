"""The command line: parse arguments, run a command, return its exit code (0 sync, 1 drift, 2 error)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from driftwatch import __version__, cli_report, pipeline, snapshot_file
from driftwatch.config import (
    MIGRATION_TOOLS,
    Comparison,
    Config,
    ConfigError,
    Environment,
    SchemaSettings,
)
from driftwatch.config import load as load_config
from driftwatch.errors import UserError
from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import KINDS, PLURALS, CheckFailure, Drift, Outcome, Snapshot
from driftwatch.render import json as json_report
from driftwatch.render.terminal import Recheck, Style, check_command, render
from driftwatch.render.visible import visible
from driftwatch.secrets import redact_text
from driftwatch.sync import cli as sync_cli

EXIT_IN_SYNC, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


class UsageError(UserError):
    """A mistake in the command line; the message is the one sentence shown."""


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
    check.add_argument("--snapshot", action="append", default=[], metavar="ENV=FILE",
                       help="read ENV from a snapshot file instead of connecting (repeatable)")  # fmt: skip
    _output_flags(check)

    diff = sub.add_parser("diff", help="compare two databases given by DSN, no config file")
    diff.add_argument("reference", help="libpq URI, key=value DSN or snapshot .json file")
    diff.add_argument("target", help="libpq URI, key=value DSN or snapshot .json file")
    diff.add_argument("--migrations-tool", choices=MIGRATION_TOOLS,
                      help="default: the snapshot file's tool, else sequelize")  # fmt: skip
    diff.add_argument("--critical-table", action="append", default=[], metavar="TABLE",
                      help="a table that must match exactly (repeatable)")  # fmt: skip
    _output_flags(diff)

    _snapshot_parser(sub, config_help)
    _daemon_parsers(sub, config_help)
    cli_report.add_parser(sub, config_help)
    _demo_parser(sub)
    sync_cli.add_parser(sub, config_help)
    cfg = sub.add_parser("check-config", help="validate the config file without connecting")
    cfg.add_argument("--config", type=Path, help=config_help)
    return p


def _daemon_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], config_help: str) -> None:
    run_ = sub.add_parser("run", help="the daemon: check on a schedule, serve /metrics, keep history")
    run_.add_argument("--config", type=Path, help=config_help)
    run_.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                      help="auto: readable on a terminal, JSON lines otherwise")  # fmt: skip
    run_.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    status = sub.add_parser("status", help="what the daemon's history says, per comparison")
    status.add_argument("--config", type=Path, help=config_help)
    status.add_argument("--json", action="store_true", help="print a driftwatch.status/v1 document")
    notify = sub.add_parser("notify", help="Slack: send a test message, or preview an alert")
    actions = notify.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = actions.add_parser("test", help="send a test message and say whether Slack accepted it")
    test.add_argument("--config", type=Path, help=config_help)
    test.add_argument("--channel", help="override [slack] channel for this test")
    preview = actions.add_parser("preview", help="check a comparison now and print its alert")
    preview.add_argument("--config", type=Path, help=config_help)
    preview.add_argument("--comparison", required=True, metavar="REF:TARGET")


def _snapshot_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], config_help: str) -> None:
    snap = sub.add_parser("snapshot", help="save one database's schema and migrations to a file")
    snap.add_argument("source", metavar="ENV_OR_DSN", help=(
        "an environment of the config, or a libpq URI / key=value DSN "
        "(then no config is read and the snapshot is named after FILE)"))  # fmt: skip
    snap.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    snap.add_argument("--config", type=Path, help=config_help)
    snap.add_argument("--migrations-tool", choices=MIGRATION_TOOLS, help=(
        "with a DSN: default sequelize; with an ENV: overrides [migrations] tool"))  # fmt: skip


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="the whole loop on an embedded PostgreSQL (needs the demo extra)")
    demo.add_argument("--serve", action="store_true",
                      help="keep the daemon and its HTTP port running until Ctrl-C")  # fmt: skip
    demo.add_argument("--keep", action="store_true",
                      help="leave the databases running and print their DSNs and config")  # fmt: skip
    demo.add_argument("--metrics-port", type=int, default=9632, metavar="PORT",
                      help="HTTP port for /metrics (another is picked if taken; default 9632)")  # fmt: skip
    demo.add_argument("--report-dir", type=Path, default=Path("driftwatch-demo-reports"), metavar="DIR",
                      help="where the weekly report goes (default ./driftwatch-demo-reports)")  # fmt: skip
    demo.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def _output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the JSON report instead")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--limit", type=int, default=50, metavar="N",
                   help="entries listed per list on the terminal (0: all; default 50)")


def _config_path(arg: Path | None) -> Path:
    return arg or Path(os.environ.get("DRIFTWATCH_CONFIG", "driftwatch.toml"))


def _exit_code(outcomes: Sequence[Outcome]) -> int:
    if any(not isinstance(o, Drift) for o in outcomes):
        return EXIT_ERROR  # could not check wins over drift
    return EXIT_IN_SYNC if all(o.in_sync for o in outcomes if isinstance(o, Drift)) else EXIT_DRIFT


def _emit(outcomes: Sequence[Outcome], args: argparse.Namespace, out: TextIO, err: TextIO,
          *, single: bool, recheck: Recheck = check_command) -> int:
    if args.json:
        doc = (json_report.outcome(outcomes[0]) if single
               else json_report.check_document(outcomes))  # fmt: skip
        out.write(json_report.dumps(doc) + "\n")
        # The JSON goes to a file or a pipe; the CI log still gets the one sentence.
        for o in outcomes:
            if isinstance(o, CheckFailure):
                err.write(f"driftwatch: could not check {o.reference}:{o.target}: {o.message}\n")
    else:
        color = args.color == "always" or (args.color == "auto" and out.isatty())
        out.write(render(outcomes, Style(color, args.limit), recheck))
    return _exit_code(outcomes)


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Environments read from --snapshot files need no password this time.
    offline = frozenset(spec.partition("=")[0] for spec in args.snapshot)
    config = load_config(_config_path(args.config), offline=offline)
    comparisons = config.comparisons
    if args.comparison:
        chosen = config.comparison(args.comparison)
        if chosen is None:
            names = ", ".join(c.name for c in config.comparisons)
            err.write(f"driftwatch: no comparison {args.comparison} in the config "
                      f"(configured: {names})\n")  # fmt: skip
            return EXIT_ERROR
        comparisons = (chosen,)
    overrides = _overrides(args.snapshot, config)
    outcomes = pipeline.check_all(config, comparisons, overrides=overrides)
    return _emit(outcomes, args, out, err, single=False, recheck=_check_command(args))


def _check_command(args: argparse.Namespace) -> Recheck:
    """`check` again for one comparison, with the --config and --snapshot this run was given."""
    words = ["driftwatch", "check"]
    if args.config:
        words += ["--config", str(args.config)]
    for spec in args.snapshot:
        words += ["--snapshot", spec]
    return lambda drift: shlex.join([*words, "--comparison",
                                     f"{drift.reference.name}:{drift.target.name}"])


def _overrides(specs: Sequence[str], config: Config) -> dict[str, Snapshot]:
    """The `--snapshot ENV=FILE` arguments, read."""
    overrides = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        if not path:
            raise UsageError(f"--snapshot {spec}: expected ENV=FILE, e.g. --snapshot production=prod.json")
        if name not in config.environments:
            raise UsageError(f"--snapshot names unknown environment {name!r} "
                             f"(configured: {', '.join(config.environments)})")  # fmt: skip
        overrides[name] = snapshot_file.read(path)
    return overrides


def _is_dsn(text: str) -> bool:
    return "://" in text or "=" in text


def _is_snapshot_file(arg: str) -> bool:
    # A DSN can end in .json too (dbname=x.json); an existing file wins, a DSN next.
    return arg.endswith(".json") and (Path(arg).is_file() or not _is_dsn(arg))


def _diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # libpq itself reads PGPASSWORD and ~/.pgpass when the URI holds no password.
    sides = {"reference": args.reference, "target": args.target}
    files = {name: snapshot_file.read(arg) for name, arg in sides.items() if _is_snapshot_file(arg)}
    envs = {name: Environment(name, arg, from_command_line=True) for name, arg in sides.items()}
    # A flyway snapshot compared with a live database means flyway on the live side too.
    tool = args.migrations_tool or next(
        (f.migrations.tool for f in files.values() if f.migrations), "sequelize")
    comparison = Comparison("reference", "target", tuple(args.critical_table))
    config = Config(None, envs, (comparison,), MigrationSettings(tool), SchemaSettings())
    outcomes = pipeline.check_all(config, (comparison,), overrides=files)
    command = _diff_command(args)
    return _emit(outcomes, args, out, err, single=True, recheck=lambda _drift: command)


def _diff_command(args: argparse.Namespace) -> str:
    """This `diff` again, as its next steps name it: passwords masked, arguments quoted."""
    words = ["driftwatch", "diff", redact_text(args.reference), redact_text(args.target)]
    if args.migrations_tool:
        words += ["--migrations-tool", args.migrations_tool]
    for table in args.critical_table:
        words += ["--critical-table", table]
    return shlex.join(words)


def _snapshot_source(args: argparse.Namespace) -> tuple[Config, Environment]:
    if _is_dsn(args.source):
        env = Environment(args.output.stem, args.source, from_command_line=True)
        settings = MigrationSettings(args.migrations_tool or "sequelize")
        return Config(None, {env.name: env}, (), settings, SchemaSettings()), env
    config = load_config(_config_path(args.config))
    named = config.environments.get(args.source)
    if named is None:
        raise UsageError(f"no environment {args.source!r} in {config.path} "
                         f"(configured: {', '.join(config.environments)}); or give a DSN")  # fmt: skip
    if args.migrations_tool:
        config = dataclasses.replace(
            config, migrations=dataclasses.replace(config.migrations, tool=args.migrations_tool))
    return config, named


def _summary(snapshot: Snapshot) -> str:
    # Tables and columns lead, as in the terminal report: they are what the runbook counts.
    kinds = sorted(KINDS, key=lambda k: k not in ("table", "column"))
    counts = [f"{n} {(k if n == 1 else PLURALS[k]).replace('_', ' ')}"
              for k in kinds if (n := len(snapshot.of_kind(k)))]  # fmt: skip
    history = snapshot.migrations
    if history is not None:
        counts.append(f"{len(history.applied)} {history.tool} migrations" if history.found
                      else f"no migration table {history.table}")  # fmt: skip
    return (f"{snapshot.environment} {snapshot.database} PostgreSQL {snapshot.server_version}, "
            f"{', '.join(counts) or 'no objects'}, "
            f"fingerprint {snapshot_file.fingerprint(snapshot).removeprefix('sha256:')[:12]}")  # fmt: skip


def _snapshot(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config, env = _snapshot_source(args)
    snapshot = pipeline.take_snapshot(env, config)
    try:
        snapshot_file.write(snapshot, args.output)
    except OSError as e:
        raise UsageError(f"cannot write {args.output} ({e.strerror})") from None
    out.write(f"wrote {args.output}: {visible(_summary(snapshot))}\n")  # the database's name
    return EXIT_IN_SYNC


def _check_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _config_path(args.config)
    config = load_config(path)
    out.write(f"{path}: OK — {len(config.environments)} environments "
              f"({', '.join(config.environments)}), comparisons: "
              f"{', '.join(c.name for c in config.comparisons)}\n")  # fmt: skip
    return EXIT_IN_SYNC


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from driftwatch import cli_daemon  # noqa: PLC0415 - keeps APScheduler out of check and diff

    return cli_daemon.run(load_config(_config_path(args.config)), args, err)


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from driftwatch import cli_daemon  # noqa: PLC0415 - keeps the daemon's modules out of check

    return cli_daemon.status(load_config(_config_path(args.config)), args, out)


def _notify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from driftwatch import cli_daemon  # noqa: PLC0415 - keeps slack-sdk out of check and diff

    config = load_config(_config_path(args.config))
    handler = cli_daemon.notify_test if args.action == "test" else cli_daemon.notify_preview
    return handler(config, args, out, err)


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cli_report.run(load_config(_config_path(args.config)), args, out)


def _demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from driftwatch.demo import run as demo  # noqa: PLC0415 - the daemon's modules, only here

    color = args.color == "always" or (args.color == "auto" and out.isatty())
    return demo.run(out, demo.Options(args.serve, args.keep, color, args.metrics_port, args.report_dir))


def _sync(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return sync_cli.run(load_config(_config_path(args.config)), args, out, err)


COMMANDS = {"check": _check, "diff": _diff, "snapshot": _snapshot, "check-config": _check_config,
            "run": _run, "status": _status, "notify": _notify, "report": _report, "demo": _demo,
            "sync": _sync}  # fmt: skip


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
    except UserError as e:
        # Each carries one sentence that is safe to show (CheckError's is its .message).
        err.write(f"driftwatch: {e}\n")
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
