"""What deploy/prometheus and deploy/grafana hold, read for tests: rules, dashboard targets, tools."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "driftwatch.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "driftwatch.rules.test.yml"
SCRAPE_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "driftwatch.json"
PROVIDER = DEPLOY / "grafana" / "provisioning" / "dashboards" / "driftwatch.yaml"

# Suffixes Prometheus exposes beyond the declared name (counters, histograms).
_SUFFIXES = r"_(bucket|count|sum|total)$"


def tool(name: str) -> str:
    """The path of a Prometheus binary; CI installs Debian's prometheus package, so there it must exist."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1":
            pytest.fail(f"{name} is missing; .ci/run installs Debian's prometheus package")
        pytest.skip(f"{name} is not installed (CI installs Debian's prometheus package)")
    return path


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
