"""Helpers for the deploy/ tests: the repository's paths and the external tools they need."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# CI sets this: a machine without kubectl or systemd-analyze fails instead of testing less.
REQUIRE_ALL = os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1"


def tool(name: str) -> str:
    """The path of `name` on PATH; skip the test locally, fail it in CI, when it is missing."""
    found = shutil.which(name)
    if found is None:
        if REQUIRE_ALL:
            pytest.fail(f"{name} is needed for the deploy/ tests and is not on PATH")
        pytest.skip(f"{name} is not installed on this machine")
    return found


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a.b.c": value} for every leaf; a list of tables is flattened by index (a.0.b)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out |= flatten(item, f"{name}.{i}.")
        else:
            out[name] = value
    return out
