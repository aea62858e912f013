"""`driftwatch report`: the maintenance report of a week or a date range, from the daemon's history."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from driftwatch.config import Config
from driftwatch.errors import UserError
from driftwatch.pipeline import Clock, utc_now

if TYPE_CHECKING:
    from driftwatch.report.period import Period

# The history's file name. The report package (and store.py, sqlite3) loads only when a report is
# made: this module is imported by every command for its parser.
HISTORY_FILE = "history.db"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], config_help: str) -> None:
    p = sub.add_parser("report", help="the weekly maintenance report from the daemon's history")
    p.add_argument("--config", type=Path, help=config_help)
    p.add_argument("--week", metavar="YYYY-Www", help=(
        "an ISO week, e.g. 2025-W49 (default: the last complete week in [schedule] timezone)"))
    p.add_argument("--since", metavar="DATE", help="start of the period (included), e.g. 2025-12-01")
    p.add_argument("--until", metavar="DATE", help="end of the period (excluded), e.g. 2025-12-08")
    p.add_argument("--format", choices=("markdown", "html"), default=None,
                   help="default: from -o's extension (.html), else markdown")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of standard output")


def period(args: argparse.Namespace, config: Config, clock: Clock) -> Period:
    """--week, or --since with --until, or the last complete week."""
    from driftwatch.report.period import last_complete_week, parse_range, parse_week  # noqa: PLC0415

    tz = config.schedule.timezone
    if args.week and (args.since or args.until):
        raise UserError("give --week or --since/--until, not both")
    if args.week:
        return parse_week(args.week, tz)
    if args.since or args.until:
        if not (args.since and args.until):
            raise UserError("--since and --until go together, e.g. --since 2025-12-01 --until 2025-12-08")
        return parse_range(args.since, args.until, tz)
    return last_complete_week(clock(), tz)


def run(config: Config, args: argparse.Namespace, out: TextIO, clock: Clock = utc_now) -> int:
    """Print or write the report; exit 0, or 2 with one sentence when it cannot be made."""
    from driftwatch.report import html, markdown  # noqa: PLC0415 - sqlite3 and the renderers only here
    from driftwatch.report.history import build, write_atomic  # noqa: PLC0415
    from driftwatch.store import Store  # noqa: PLC0415

    chosen = period(args, config, clock)
    if chosen.since >= clock():
        raise UserError(f"{chosen.label} has not started yet; report a past week or the current one")
    state_dir = config.state.state_dir
    if not (state_dir / HISTORY_FILE).is_file():
        raise UserError(f"there is no history in {state_dir} (no {HISTORY_FILE}); run `driftwatch run` "
                        "to collect some, or point [state] state_dir at the daemon's folder")  # fmt: skip
    with Store.open(state_dir) as store:
        facts = build(store, config, chosen, clock())
    fmt = args.format or ("html" if args.output and args.output.suffix.lower() in (".html", ".htm")
                          else "markdown")  # fmt: skip
    text = html.render(facts) if fmt == "html" else markdown.render(facts)
    if args.output is None:
        out.write(text)
        return 0
    try:
        write_atomic(args.output, text)
    except OSError as e:
        raise UserError(f"cannot write {args.output} ({e.strerror or e})") from None
    out.write(f"wrote {args.output} ({fmt}, {chosen.label})\n")
    return 0
