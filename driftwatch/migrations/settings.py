"""The `[migrations]` settings: which tool's history table to read and where migration files live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class MigrationSettings:
    """Which migration tool an environment uses; None means the tool's own default."""

    tool: str = "sequelize"
    schema: str | None = None
    table: str | None = None
    id_column: str | None = None
    order_column: str | None = None
    directory: Path | None = None
