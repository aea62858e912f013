"""Load the TOML configuration into frozen objects, reporting every problem with its location."""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg.conninfo

from driftwatch import daemon_config
from driftwatch.catalog import CatalogOptions
from driftwatch.daemon_config import (
    MetricsSettings,
    ScheduleSettings,
    SlackSettings,
    StateSettings,
)
from driftwatch.migrations.settings import MigrationSettings
from driftwatch.model import KINDS, IgnoreRule
from driftwatch.secrets import Secret
from driftwatch.sync import settings as sync_settings
from driftwatch.sync.settings import SyncSettings
from driftwatch.toml_section import Section, describe

DEFAULT_CONFIG = Path("driftwatch.toml")
MIGRATION_TOOLS = (
    "sequelize", "flyway", "liquibase", "django", "rails", "dbmate", "golang-migrate",
    "knex", "goose", "prisma", "typeorm", "node-pg-migrate", "alembic", "custom",
)  # fmt: skip
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# A read is a handful of catalog queries, each bounded by statement_timeout on the server; four
# of them at their limit is already far past a healthy read (6 s at 20,000 tables).
READ_TIMEOUT_FACTOR = 4


class ConfigError(Exception):
    """The configuration cannot be used; `problems` holds one located sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Environment:
    """One database driftwatch watches (`[environments.NAME]`)."""

    name: str
    dsn: str
    password: Secret | None = None
    password_source: str | None = None  # e.g. "$DB_PASSWORD", named in login errors
    connect_timeout: int = 10
    statement_timeout: float = 30.0
    lock_timeout: float = 5.0
    sslmode: str | None = None
    # A DSN given on the command line (`diff`, `snapshot DSN`): no config keys to point at.
    from_command_line: bool = False
    read_timeout: float | None = None  # None: READ_TIMEOUT_FACTOR x statement_timeout

    @property
    def read_deadline(self) -> float:
        """Seconds one read (every query after connecting) may take before the connection is closed."""
        return self.read_timeout or READ_TIMEOUT_FACTOR * self.statement_timeout


@dataclass(frozen=True, slots=True)
class Comparison:
    """A target environment checked against its reference (`[[comparisons]]`)."""

    reference: str
    target: str
    critical_tables: tuple[str, ...] = ()
    slack_channel: str | None = None  # overrides [slack] channel for this comparison

    @property
    def name(self) -> str:
        return f"{self.reference}:{self.target}"


@dataclass(frozen=True, slots=True)
class SchemaSettings:
    """Which schemas and objects take part in the comparison (`[schema]`)."""

    include_schemas: tuple[str, ...] = ()
    exclude_schemas: tuple[str, ...] = ()
    ignore: tuple[IgnoreRule, ...] = ()
    # Opt-ins for what differs between environments on purpose, or belongs to an extension.
    include_extension_objects: bool = False
    compare_owners: bool = False
    compare_grants: bool = False
    compare_comments: bool = False

    def catalog_options(self) -> CatalogOptions:
        return CatalogOptions(self.include_schemas, self.exclude_schemas,
                              self.include_extension_objects, self.compare_owners,
                              self.compare_grants, self.compare_comments)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, validated."""

    path: Path | None
    environments: Mapping[str, Environment]
    comparisons: tuple[Comparison, ...]
    migrations: MigrationSettings = field(default_factory=MigrationSettings)
    schema: SchemaSettings = field(default_factory=SchemaSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    state: StateSettings = field(default_factory=StateSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    sync: Mapping[str, SyncSettings] = field(default_factory=dict)  # comparison name -> settings

    def comparison(self, name: str) -> Comparison | None:
        """The comparison called `reference:target`, if configured."""
        return next((c for c in self.comparisons if c.name == name), None)

    def sync_for(self, comparison: str) -> SyncSettings:
        """The comparison's `[sync]` settings; without a table, sync is disabled (the defaults)."""
        if comparison in self.sync:
            return self.sync[comparison]
        folder = self.path.parent if self.path is not None else Path()
        return SyncSettings(comparison, workdir=folder,
                            command=sync_settings.default_command(self.migrations.tool))


def load(
    path: Path, environ: Mapping[str, str] | None = None, offline: frozenset[str] = frozenset()
) -> Config:
    """Read and validate `path`; raise ConfigError listing every problem found.

    Environments named in `offline` are read from snapshot files this time, so their
    password need not be available (the point of comparing a production snapshot offline).
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file; copy config.example.toml there or pass --config FILE"]
        ) from None
    except OSError as e:
        raise ConfigError([f"{path}: cannot be read ({e.strerror})"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from None
    return parse(data, path, os.environ if environ is None else environ, offline)


def parse(
    data: Mapping[str, Any], path: Path | None, environ: Mapping[str, str],
    offline: frozenset[str] = frozenset(),
) -> Config:
    """Validate already-parsed TOML; all problems are collected before raising."""
    problems: list[str] = []
    prefix = f"{path}: " if path else ""
    top = Section(data, "config", problems)
    envs = _environments(top.get("environments", dict, {}), environ, problems, offline)
    comparisons = _comparisons(top.get("comparisons", list, []), envs, problems)
    migrations = _migrations(top.get("migrations", dict, {}), path, problems)
    schema = _schema(top.get("schema", dict, {}), problems)
    schedule = daemon_config.schedule(top.get("schedule", dict, {}), problems)
    metrics = daemon_config.metrics(top.get("metrics", dict, {}), problems)
    state = daemon_config.state(top.get("state", dict, {}), path, problems)
    slack = daemon_config.slack(top.get("slack", dict), environ, problems)
    sync = sync_settings.parse(top.get("sync", dict, {}), {c.name for c in comparisons}, migrations.tool,
                               path, problems)  # fmt: skip
    top.finish()
    if problems:
        raise ConfigError([prefix + p.removeprefix("config.") for p in problems])
    return Config(path, envs, comparisons, migrations, schema, schedule, metrics, state, slack, sync)


def _environments(
    tables: Mapping[str, Any], environ: Mapping[str, str], problems: list[str],
    offline: frozenset[str],
) -> dict[str, Environment]:
    if not tables:
        problems.append("config.environments: at least one [environments.NAME] table is needed")
    envs: dict[str, Environment] = {}
    for name, table in tables.items():
        where = f"config.environments.{name}"
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table, got {describe(table)}")
            continue
        env = _environment(name, Section(table, where, problems), {} if name in offline else environ,
                           name in offline)
        if env is not None:
            envs[name] = env
    return envs


def _environment(
    name: str, s: Section, environ: Mapping[str, str], offline: bool = False
) -> Environment | None:
    dsn = s.get("dsn", str)
    password_env = s.get("password_env", str)
    password_file = s.get("password_file", str)
    connect_timeout = s.get("connect_timeout", int, 10)
    statement_timeout = s.get("statement_timeout", (int, float), 30.0)
    lock_timeout = s.get("lock_timeout", (int, float), 5.0)
    read_timeout = s.get("read_timeout", (int, float))
    sslmode = s.get("sslmode", str)
    s.finish()
    if dsn is None:
        s.problem("dsn", 'missing; e.g. dsn = "postgresql://app@127.0.0.1:5433/mydb"')
        return None
    _check_dsn(dsn, s)
    if sslmode is not None and sslmode not in SSLMODES:
        s.problem("sslmode", f"must be one of {', '.join(SSLMODES)}, got {sslmode!r}")
    for key, value in (("connect_timeout", connect_timeout), ("statement_timeout",
                       statement_timeout), ("lock_timeout", lock_timeout)):  # fmt: skip
        if value <= 0:
            s.problem(key, f"must be a positive number of seconds, got {value}")
    _check_read_timeout(read_timeout, statement_timeout, s)
    password, source = (None, None) if offline else _password(password_env, password_file, s, environ)
    return Environment(
        name, dsn, password, source, connect_timeout, float(statement_timeout),
        float(lock_timeout), sslmode,
        read_timeout=None if read_timeout is None else float(read_timeout),
    )  # fmt: skip


def _check_read_timeout(value: float | None, statement_timeout: float, s: Section) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value <= 0:
        s.problem("read_timeout", f"must be a positive number of seconds, got {value}")
    elif math.isfinite(statement_timeout) and value < statement_timeout:
        s.problem("read_timeout", f"must be at least statement_timeout ({statement_timeout:g} s), "
                  f"since one catalog query may take that long; got {value:g}")  # fmt: skip


def _check_dsn(dsn: str, s: Section) -> None:
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        # The parser's message would echo the DSN, password and all; say it in our words.
        s.problem("dsn", "is not a valid libpq URI or key=value connection string")
        return
    if params.get("password"):
        s.problem("dsn", "contains a password; remove it and set password_env or password_file")


def _password(
    password_env: str | None, password_file: str | None, s: Section, environ: Mapping[str, str]
) -> tuple[Secret | None, str | None]:
    if password_env and password_file:
        s.problem("password_env", "set password_env or password_file, not both")
        return None, None
    if password_env:
        if password_env not in environ:
            s.problem("password_env", f"environment variable {password_env} is not set; "
                      f"export {password_env} before starting driftwatch")  # fmt: skip
            return None, None
        return Secret(environ[password_env]), f"${password_env}"
    if password_file:
        try:
            text = Path(password_file).read_text(encoding="utf-8")
        except OSError as e:
            s.problem("password_file", f"cannot read {password_file} ({e.strerror})")
            return None, None
        return Secret(text.rstrip("\r\n")), password_file
    return None, None


def _comparisons(
    items: list[Any], envs: Mapping[str, Environment], problems: list[str]
) -> tuple[Comparison, ...]:
    if not items:
        problems.append('config.comparisons: at least one [[comparisons]] entry is needed, '
                        'e.g. reference = "uat", target = "staging"')  # fmt: skip
    result: list[Comparison] = []
    for i, item in enumerate(items):
        where = f"config.comparisons[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a table, got {describe(item)}")
            continue
        s = Section(item, where, problems)
        reference, target = s.get("reference", str), s.get("target", str)
        critical = s.strings("critical_tables")
        channel = s.get("slack_channel", str)
        s.finish()
        for key, value in (("reference", reference), ("target", target)):
            if value is None:
                s.problem(key, "missing; name an environment")
            elif value not in envs and value not in _declared(problems):
                known = ", ".join(sorted(envs)) or "none"
                s.problem(key, f"names unknown environment {value!r} (configured: {known})")
        if reference and reference == target:
            s.problem("target", "is the same environment as the reference")
        if reference and target:
            result.append(Comparison(reference, target, critical, channel))
    _check_duplicates(result, problems)
    return tuple(result)


def _declared(problems: list[str]) -> set[str]:
    # An environment with its own errors is still declared: don't also call it unknown.
    return {p.split(":")[0].split(".")[2] for p in problems if p.startswith("config.environments.")}


def _check_duplicates(comparisons: list[Comparison], problems: list[str]) -> None:
    seen: set[str] = set()
    for c in comparisons:
        if c.name in seen:
            problems.append(f"config.comparisons: {c.name} is configured twice")
        seen.add(c.name)


def _migrations(table: Mapping[str, Any], path: Path | None, problems: list[str]) -> MigrationSettings:
    s = Section(table, "config.migrations", problems)
    tool = s.get("tool", str, "sequelize")
    values = {k: s.get(k, str) for k in ("schema", "table", "id_column", "order_column")}
    directory = s.get("directory", str)
    s.finish()
    if tool not in MIGRATION_TOOLS:
        s.problem("tool", f"unknown tool {tool!r}; one of {', '.join(MIGRATION_TOOLS)}")
    if tool == "custom" and not (values["table"] and values["id_column"]):
        s.problem("tool", 'custom needs table and id_column, e.g. table = "schema_history"')
    folder = None
    if directory is not None:
        # Relative paths are relative to the config file, so the daemon's cwd does not matter.
        folder = Path(directory) if path is None else path.parent / directory
        if not folder.is_dir():
            s.problem("directory", f"{folder} is not a directory")
    return MigrationSettings(tool, directory=folder, **values)


def _schema(table: Mapping[str, Any], problems: list[str]) -> SchemaSettings:
    s = Section(table, "config.schema", problems)
    include, exclude = s.strings("include_schemas"), s.strings("exclude_schemas")
    rules = tuple(_ignore_rules(s.get("ignore", list, []), problems))
    flags = [bool(s.get(key, bool, False)) for key in ("include_extension_objects",
             "compare_owners", "compare_grants", "compare_comments")]  # fmt: skip
    s.finish()
    return SchemaSettings(include, exclude, rules, *flags)


def _ignore_rules(items: list[Any], problems: list[str]) -> Iterator[IgnoreRule]:
    """`"glob"` for every kind, or `{ pattern = "glob", kinds = ["table", ...] }`."""
    for i, item in enumerate(items):
        where = f"config.schema.ignore[{i}]"
        if isinstance(item, str):
            yield IgnoreRule(item)
            continue
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a glob string or a table, got {describe(item)}")
            continue
        s = Section(item, where, problems)
        pattern, kinds = s.get("pattern", str), s.strings("kinds")
        s.finish()
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            s.problem("kinds", f"unknown kind {unknown[0]!r}; one of {', '.join(KINDS)}")
        if pattern is None:
            s.problem("pattern", 'missing; e.g. pattern = "public.events_*"')
        else:
            yield IgnoreRule(pattern, kinds)
