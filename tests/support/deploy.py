"""Helpers for the deploy/ tests: the repository's paths, the external tools, rules and dashboard targets."""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# CI sets this: a machine without a tool fails instead of testing less.
REQUIRE_ALL = os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1"
RULES = DEPLOY / "prometheus" / "rules" / "driftwatch.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "driftwatch.rules.test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "driftwatch.json"
PROVIDER = DEPLOY / "grafana" / "provisioning" / "dashboards" / "driftwatch.yaml"

# Suffixes Prometheus exposes beyond the declared name (counters, histograms).
_SUFFIXES = r"_(bucket|count|sum|total)$"


def tool(name: str) -> str:
    """The path of `name` on PATH; when it is missing, skip the test locally and fail it in CI."""
    found = shutil.which(name)
    if found is None:
        if REQUIRE_ALL:
            pytest.fail(f"{name} is needed for the deploy/ tests and is not on PATH; .ci/run installs it")
        pytest.skip(f"{name} is not installed on this machine")
    return found


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


@dataclass(frozen=True, slots=True)
class Rule:
    """One alerting rule as the rules file states it."""

    group: str
    alert: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]
    duration: str


def rules() -> list[Rule]:
    doc: dict[str, Any] = yaml.safe_load(RULES.read_text())
    return [Rule(g["name"], r["alert"], r["expr"], r.get("labels", {}), r.get("annotations", {}),
                 r.get("for", "0s"))
            for g in doc["groups"] for r in g["rules"]]  # fmt: skip


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def panels(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' collapsed children included."""
    for panel in doc["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(panel title, target) for every query of every panel."""
    for panel in panels(doc):
        for target in panel.get("targets", []):
            yield panel["title"], target


def metric_names(expr: str) -> set[str]:
    """The driftwatch metric names an expression reads, as declared (suffixes taken off)."""
    found = re.findall(r"\bdriftwatch_([a-z_]+)", expr)
    return {re.sub(_SUFFIXES, "", name) for name in found}


def interpolate(expr: str, variables: dict[str, str]) -> str:
    """What Grafana sends for a query: each $name (or ${name}) replaced by its value."""
    for name, value in sorted(variables.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


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
