"""Metric names: declared once, documented, conventional, and accepted by promtool."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.metrics import METRICS, PREFIX, registry
from driftwatch.state import State

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def exposed_name(name: str) -> str:
    d = METRICS[name]
    return PREFIX + d.name + ("_total" if d.type == "counter" else "")


def test_every_metric_is_documented_and_nothing_else() -> None:
    """docs/metrics.md lists exactly the declared metrics, with their labels."""
    rows = dict(re.findall(r"^\| `(driftwatch_\w+)` \| \w+ \| ([^|]*) \|", DOC.read_text(), re.M))
    assert set(rows) == {exposed_name(n) for n in METRICS}
    for name, d in METRICS.items():
        documented = [lb.strip(" `") for lb in rows[exposed_name(name)].split(",") if lb.strip()]
        assert documented == list(d.labels), name


def test_conventions() -> None:
    """Base units, _total only on counters, no target-label names among ours."""
    for d in METRICS.values():
        assert not d.name.endswith("_total")
        assert set(d.labels).isdisjoint({"env", "environment", "job", "instance"})
        if "timestamp" in d.name or "duration" in d.name:
            assert d.name.endswith("_seconds")


def test_promtool_accepts_the_exposition() -> None:
    """`promtool check metrics` finds no problem in a real exposition."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1":
            pytest.fail("promtool is missing; .ci/run installs Debian's prometheus package")
        pytest.skip("promtool is not installed (CI installs Debian's prometheus package)")
    state = State.initial(["uat", "staging"], [("uat", "staging")])
    text = generate_latest(registry(lambda: state))
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_comparison_info_names_each_comparison_as_the_cli_does() -> None:
    """One driftwatch_comparison_info series per comparison, its name as --comparison spells it."""
    state = State.initial(["uat", "staging", "production"], [("uat", "staging"), ("staging", "production")])
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry(lambda: state))
                                                                  .decode())}  # fmt: skip
    samples = [(s.labels, s.value) for s in families["driftwatch_comparison_info"].samples]
    assert samples == [
        ({"comparison": "uat:staging", "reference": "uat", "target": "staging"}, 1.0),
        ({"comparison": "staging:production", "reference": "staging", "target": "production"}, 1.0),
    ]
