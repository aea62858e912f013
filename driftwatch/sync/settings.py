"""The `[sync."REF:TARGET"]` tables: whether, how and how long driftwatch may migrate a target."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwatch.migrations import migrate_command
from driftwatch.toml_section import Section, describe

DEFAULT_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How one comparison's target is synced; disabled unless the config says `enabled = true`."""

    comparison: str
    enabled: bool = False
    command: tuple[str, ...] = ()  # argv; empty means the migration tool's own command
    workdir: Path = Path()
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    auto: bool = False  # the daemon syncs by itself only when enabled and auto are both true

    @property
    def automatic(self) -> bool:
        return self.enabled and self.auto


def default_command(tool: str) -> tuple[str, ...]:
    """The tool's usual migrate command as argv; one that needs a shell variable runs in `sh -c`."""
    command = migrate_command(tool)
    # golang-migrate's is written with "$DATABASE_URL": only a shell expands it.
    return ("sh", "-c", command) if "$" in command else tuple(shlex.split(command))


def parse(tables: Mapping[str, Any], comparisons: set[str], tool: str, path: Path | None,
          problems: list[str]) -> dict[str, SyncSettings]:  # fmt: skip
    """Every `[sync."REF:TARGET"]` table; each must name a configured comparison."""
    result: dict[str, SyncSettings] = {}
    for name, table in tables.items():
        where = f'config.sync."{name}"'
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table, got {describe(table)}")
            continue
        if name not in comparisons:
            known = ", ".join(sorted(comparisons)) or "none"
            problems.append(f"{where}: names no configured comparison (configured: {known}); sync runs "
                            "only in a configured direction, reference to target")  # fmt: skip
        result[name] = _one(name, Section(table, where, problems), tool, path)
    return result


def _one(name: str, s: Section, tool: str, path: Path | None) -> SyncSettings:
    enabled, auto = s.get("enabled", bool, False), s.get("auto", bool, False)
    raw_command = s.get("command", (str, list))
    workdir = s.get("workdir", str)
    timeout = s.get("timeout", (int, float), DEFAULT_TIMEOUT_SECONDS)
    s.finish()
    if timeout <= 0:
        s.problem("timeout", f"must be a positive number of seconds, got {timeout}")
    # Relative to the config file, like every other path in it; by default the config's folder.
    base = path.parent if path is not None else Path()
    folder = (base if workdir is None else base / workdir).resolve()  # an absolute workdir replaces base
    if not folder.is_dir():
        s.problem("workdir", f"{folder} is not a directory")
    if enabled and raw_command is None and tool == "custom":
        s.problem("command", "the custom migration tool has no default command; set command")
    if auto and not enabled:
        s.problem("auto", "auto = true needs enabled = true as well (two opt-ins for a daemon that migrates)")
    command = _command(raw_command, tool, s)
    return SyncSettings(name, bool(enabled), command, folder, float(timeout), bool(auto))


def _command(raw: str | list[Any] | None, tool: str, s: Section) -> tuple[str, ...]:
    if raw is None:
        return default_command(tool)
    if isinstance(raw, list):
        if not raw or not all(isinstance(a, str) for a in raw):
            s.problem("command", 'expected a non-empty list of strings, e.g. ["alembic", "upgrade", "head"]')
            return ()
        return tuple(raw)
    try:
        argv = tuple(shlex.split(raw))
    except ValueError as e:
        s.problem("command", f"cannot be split into arguments ({e})")
        return ()
    if not argv:
        s.problem("command", 'is empty; e.g. command = "npx sequelize-cli db:migrate"')
    return argv
