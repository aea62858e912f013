"""`driftwatch sync`: its arguments, and the command (dry run by default, --apply to change the target)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported when run: cli.py loads this module for its parser only
    from driftwatch.config import Config
    from driftwatch.store import Store
    from driftwatch.sync.plan import Options

EXIT_DONE, EXIT_REFUSED = 0, 1  # 2 (could not run) comes from cli.run's error handling


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], config_help: str) -> None:
    p = sub.add_parser("sync", help="run the target's missing migrations (a dry run unless --apply)",
                       description="Exit codes: 0 done or nothing to do (dry run: --apply would run), "
                       "1 refused or failed, 2 could not run.")  # fmt: skip
    p.add_argument("--config", type=Path, help=config_help)
    p.add_argument("--comparison", required=True, metavar="REF:TARGET")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show what --apply would do (the default)")
    mode.add_argument("--apply", action="store_true", help="run the migrate command on the target "
                      "(needs enabled = true in its [sync] table)")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="apply although the target's schema differs from the reference's baseline")
    p.add_argument("--allow-extra", action="store_true",
                   help="apply although the target has migrations the reference never had")
    p.add_argument("--json", action="store_true", help="print the plan or result as JSON")


def run(config: Config, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from driftwatch import logs  # noqa: PLC0415
    from driftwatch.store import FILENAME, Store  # noqa: PLC0415
    from driftwatch.sync.plan import Options  # noqa: PLC0415

    # Log events go to stderr, warnings only: the terminal already shows the command's output.
    logs.configure("auto", "warning", err)
    options = Options(args.apply, args.force, args.allow_extra)
    if args.apply:
        return _apply(config, args, options, out, err)
    with contextlib.ExitStack() as stack:
        # A dry run does not create a state_dir: without a history it says so.
        exists = (config.state.state_dir / FILENAME).is_file()
        store = stack.enter_context(Store.open(config.state.state_dir)) if exists else None
        return preview(config, args.comparison, store, out, options=options, as_json=args.json)


def preview(config: Config, comparison: str, store: Store | None, out: TextIO, *,
            options: Options | None = None, as_json: bool = False) -> int:  # fmt: skip
    """Print the dry run of `comparison` to `out`; 0 if --apply would run (or has nothing to do), else 1."""
    from driftwatch.sync import render, service  # noqa: PLC0415
    from driftwatch.sync.plan import Options  # noqa: PLC0415

    plan = service.dry_run(config, comparison, store, options or Options())
    out.write(json.dumps(render.plan_document(plan), indent=2) + "\n" if as_json else render.dry_run(plan))
    blocking = [c for c in plan.refusals if c.name != "enabled"]
    return EXIT_REFUSED if blocking and not plan.nothing_to_do else EXIT_DONE


def _apply(config: Config, args: argparse.Namespace, options: Options, out: TextIO, err: TextIO) -> int:
    from driftwatch.daemon import Daemon  # noqa: PLC0415 - the daemon's own re-check, recorded alike
    from driftwatch.store import Store  # noqa: PLC0415
    from driftwatch.sync import render, service  # noqa: PLC0415

    try:
        comparison = service.require_enabled(config, args.comparison)
    except service.SyncDisabled as e:
        err.write(f"driftwatch: {e}\n")
        return EXIT_REFUSED
    stream = err if args.json else out
    with Store.open(config.state.state_dir) as store:
        daemon = Daemon(replace(config, comparisons=(comparison,)), store)
        hooks = service.Hooks(daemon.recheck, daemon.notifier.deliver, lambda line: _echo(stream, line))
        result = service.apply(config, args.comparison, store, options, actor=getpass.getuser(), hooks=hooks)
    text = json.dumps(render.result_document(result), indent=2) + "\n" if args.json else render.result(result)
    out.write(text)
    return EXIT_DONE if result.ok else EXIT_REFUSED


def _echo(stream: TextIO, line: str) -> None:
    stream.write(f"  | {line}\n")
    stream.flush()
