"""deploy/prometheus and deploy/grafana as files: promtool's checks and unit tests, the dashboard's shape."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from driftwatch.metrics import METRICS
from tests.support.deploy import (
    DASHBOARD,
    DEPLOY,
    PROVIDER,
    RULE_TESTS,
    RULES,
    SCRAPE_CONFIG,
    dashboard,
    metric_names,
    panels,
    rules,
    targets,
    tool,
)

# What issue 8 asks the rules to cover, by the alert that covers it.
REQUIRED_ALERTS = {
    "DriftwatchDriftOpenTooLong", "DriftwatchMissingMigrations", "DriftwatchTargetAhead",
    "DriftwatchCriticalTableMismatch", "DriftwatchFailedMigration", "DriftwatchEnvironmentUnreachable",
    "DriftwatchChecksStale", "DriftwatchDown",
}  # fmt: skip


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, check=False, cwd=DEPLOY)


class TestRules:
    """The alerting rules and the scrape config."""

    def test_promtool_checks_the_rules_and_the_scrape_config(self) -> None:
        """`promtool check rules` and `check config` (which loads the rules too) both pass."""
        rules_check = promtool("check", "rules", str(RULES))
        assert rules_check.returncode == 0, rules_check.stdout + rules_check.stderr
        assert f"SUCCESS: {len(rules())} rules found" in rules_check.stdout
        config_check = promtool("check", "config", str(SCRAPE_CONFIG))
        assert config_check.returncode == 0, config_check.stdout + config_check.stderr

    def test_promtool_unit_tests_pass_and_cover_every_alert(self) -> None:
        """`promtool test rules` passes, and its file tests each alert both quiet and firing."""
        result = promtool("test", "rules", str(RULE_TESTS))
        assert result.returncode == 0, result.stdout + result.stderr
        doc: dict[str, Any] = yaml.safe_load(RULE_TESTS.read_text())
        cases = [c for t in doc["tests"] for c in t["alert_rule_test"]]
        for rule in rules():
            mine = [c for c in cases if c["alertname"] == rule.alert]
            assert any(c["exp_alerts"] for c in mine), f"{rule.alert} is never shown firing"
            assert any(not c["exp_alerts"] for c in mine), f"{rule.alert} is never shown quiet"

    def test_the_issue_s_alerts_exist_with_severity_and_a_next_step(self) -> None:
        """Every required alert is there; each has a severity, a summary and a description."""
        alerts = {r.alert: r for r in rules()}
        assert set(alerts) >= REQUIRED_ALERTS
        for rule in alerts.values():
            assert rule.labels["severity"] in {"warning", "critical"}, rule.alert
            assert rule.annotations["summary"], rule.alert
            assert rule.annotations["description"], rule.alert
            assert rule.duration != "0s", f"{rule.alert} has no for: and would fire on one bad sample"

    def test_comparison_alerts_name_the_comparison_and_its_command(self) -> None:
        """An alert on a comparison says which one and the driftwatch command to run for it."""
        for rule in rules():
            text = rule.annotations["description"]
            if {"missing_migrations", "extra_migrations", "critical_table_mismatches",
                    "drift_started_timestamp_seconds"} & metric_names(rule.expr):  # fmt: skip
                assert "--comparison {{ $labels.reference }}:{{ $labels.target }}" in text, rule.alert

    def test_the_operator_s_prometheusrule_carries_the_same_groups(self) -> None:
        """deploy/kubernetes/prometheusrule.yaml is the rules file, group for group, for the Operator."""
        rule: dict[str, Any] = yaml.safe_load((DEPLOY / "kubernetes" / "prometheusrule.yaml").read_text())
        assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
        assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]

    def test_rules_read_only_declared_metrics(self) -> None:
        """Rules use the names in driftwatch/metrics.py (and Prometheus' own `up`) only."""
        for rule in rules():
            assert metric_names(rule.expr) <= set(METRICS), rule.alert
            assert metric_names(rule.expr) or "up{" in rule.expr, rule.alert


class TestDashboard:
    """The Grafana dashboard JSON and its provisioning file."""

    def test_provisioning_file_is_a_file_provider(self) -> None:
        """apiVersion 1, one provider of type file with a path to load dashboards from."""
        doc: dict[str, Any] = yaml.safe_load(PROVIDER.read_text())
        assert doc["apiVersion"] == 1
        (provider,) = doc["providers"]
        assert provider["type"] == "file"
        assert provider["options"]["path"].startswith("/")
        assert provider["name"]

    def test_works_provisioned_and_imported(self) -> None:
        """No __inputs/${DS_...}: every query names its Prometheus through the datasource variable."""
        doc = dashboard()
        text = DASHBOARD.read_text()
        assert "__inputs" not in doc
        assert "${DS_" not in text
        variables = {v["name"]: v for v in doc["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for title, target in targets(doc):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
        for panel in panels(doc):
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert doc["uid"]
        assert doc["title"] == "driftwatch — schema drift"
        assert doc["id"] is None  # a fixed id would clash with dashboards already in Grafana

    def test_comparison_variable_filters_every_comparison_panel(self) -> None:
        """The comparison variable lists comparison_info; every comparison query is filtered by it."""
        doc = dashboard()
        variables = {v["name"]: v for v in doc["templating"]["list"]}
        comparison = variables["comparison"]
        assert comparison["definition"] == "label_values(driftwatch_comparison_info, comparison)"
        assert comparison["query"] == comparison["definition"]  # the string form every Grafana reads
        assert comparison["includeAll"]
        assert comparison["multi"]
        per_comparison = {n for n, d in METRICS.items() if "reference" in d.labels} - {"sync_runs"}
        for title, target in targets(doc):
            if metric_names(target["expr"]) & per_comparison:
                assert 'comparison=~"$comparison"' in target["expr"], title
                assert "{{comparison}}" in target["legendFormat"], title

    def test_panels_cover_the_issue_and_use_only_documented_metrics(self) -> None:
        """In sync, missing over time, differences by kind, drift age, up/down, last success, duration."""
        doc = dashboard()
        used = {m for _, t in targets(doc) for m in metric_names(t["expr"])}
        assert used <= set(METRICS)
        for needed in ("in_sync", "missing_migrations", "schema_differences",
                       "drift_started_timestamp_seconds", "up", "last_success_timestamp_seconds",
                       "check_duration_seconds"):  # fmt: skip
            assert needed in used, needed
        by_title = {p["title"]: p for p in panels(doc)}
        assert by_title["Missing and extra migrations"]["type"] == "timeseries"
        (by_kind,) = by_title["Schema differences by kind"]["targets"]
        assert by_kind["expr"].startswith("sum by (comparison, kind)")
        links = [link["url"] for link in doc["links"]]
        assert "${reports_url}" in links
        assert re.fullmatch(r"https?://.+/reports/", variables_of(doc)["reports_url"]["query"])

    def test_layout_has_unique_ids_and_no_overlaps(self) -> None:
        """Panel ids are unique and no two panels share a grid cell (24 columns)."""
        doc = dashboard()
        cells: dict[tuple[int, int], str] = {}
        ids = [p["id"] for p in panels(doc)]
        assert len(ids) == len(set(ids))
        for panel in panels(doc):
            g = panel["gridPos"]
            assert g["x"] + g["w"] <= 24, panel["title"]
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                    cells[(x, y)] = panel["title"]
        for title, target in targets(doc):
            assert target["refId"], title
            assert target["expr"], title


def variables_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in doc["templating"]["list"]}
