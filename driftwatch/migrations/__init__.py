"""Migration history: read each supported tool's history table and list migration files."""

from __future__ import annotations

from driftwatch.migrations.adapters import (
    ADAPTERS,
    default_table,
    history_table,
    migrate_command,
    read_history,
)
from driftwatch.migrations.files import list_files
from driftwatch.migrations.settings import MigrationSettings

# The supported tools, in the order documentation and error messages list them.
TOOLS: tuple[str, ...] = tuple(ADAPTERS)

__all__ = [
    "TOOLS",
    "MigrationSettings",
    "default_table",
    "history_table",
    "list_files",
    "migrate_command",
    "read_history",
]
