"""Slack messages: what each alert says, and that any size of drift still fits Slack's limits."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.web import WebClient

from driftwatch.model import KINDS
from driftwatch.render.slack import (
    IDS_SHOWN,
    PER_KIND,
    Alert,
    SlackMessage,
    build_message,
    payload_size,
)
from driftwatch.render.slack_blocks import MAX_PAYLOAD, fit
from tests.support.slack_server import TOKEN, SlackServer, limit_error

AT = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
RUNBOOK_IDS = [
    "20251202_01_enforce_e164_beneficiaries.js",
    "20251202_02_backfill_beneficiaries_msisdn_to_e164.js",
    "20251202_03_backfill_service_accounts_msisdn_to_e164.js",
    "20251202_04_walletid_depii.js",
]
DASHBOARD = "https://grafana.example.com/d/driftwatch?var-comparison=uat:staging&from=now-7d"
REPORT_URL = "https://driftwatch.example.com/reports/"
MENTION = "<!subteam^S0123ABC>"
MORE = re.compile(r"… and ([\d,]+) more")


def diff(kind: str, name: str, change: str = "changed") -> dict[str, Any]:
    before, after = ({"type": "integer"}, {"type": "bigint"}) if change == "changed" else ({}, None)
    return {"kind": kind, "name": name, "change": change, "reference": before, "target": after}


def report(missing: Sequence[str] = (), extra: Sequence[str] = (), failed: Sequence[str] = (),
           differences: Sequence[Mapping[str, Any]] = (),
           critical: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:  # fmt: skip
    return {
        "format": "driftwatch.report/v1", "in_sync": False,
        "migrations": {"tool": "sequelize", "table": 'public."SequelizeMeta"', "reference_found": True,
                       "target_found": True, "missing": list(missing), "extra": list(extra),
                       "failed": list(failed), "reference_failed": [], "checksum_mismatches": []},
        "schema": {"differences": list(differences)},
        "critical_tables": [{"name": n, "status": s} for n, s in critical],
    }  # fmt: skip


def opened(rep: Mapping[str, Any], severity: str = "warning", **extra: Any) -> SlackMessage:
    return build_message(Alert("opened", severity, "uat", "staging", AT, report=rep, **extra))  # type: ignore[arg-type]


def texts(message: SlackMessage, mrkdwn_only: bool = False) -> Iterator[str]:
    for block in message.blocks:
        if mrkdwn_only and block["type"] == "header":
            continue
        if "text" in block:
            yield block["text"]["text"]
        yield from (e["text"] for e in block.get("elements", ()))


def body(message: SlackMessage) -> str:
    return "\n".join(texts(message))


def assert_within_limits(message: SlackMessage) -> None:
    """Every Slack limit, and well-formed mrkdwn: whole entities, links and code fences."""
    assert 0 < len(message.text) <= 3000
    assert len(message.blocks) <= 50
    assert message.blocks[0]["type"] == "header"
    assert len(message.blocks[0]["text"]["text"]) <= 150
    for text in texts(message, mrkdwn_only=True):  # a header is plain_text: shown as is, never escaped
        assert 0 < len(text) <= 3000
        assert text.count("```") % 2 == 0
        assert all(t.startswith(("<!", "<http")) for t in re.findall(r"<[^>]*>", text))
        assert not re.search(r"&(?!amp;|lt;|gt;)", text)
    assert payload_size(message.payload()) <= MAX_PAYLOAD
    assert limit_error(message.payload()) is None


def accounted(message: SlackMessage) -> int:
    """Items listed, plus every "… and N more": each item of each list is counted exactly once."""
    lines = body(message).splitlines()
    listed = sum(1 for line in lines if re.match(r"(• |\d+\. )", line))
    return listed + sum(int(n.replace(",", "")) for n in MORE.findall(body(message)))


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


def post(server: SlackServer, message: SlackMessage) -> None:
    client = WebClient(token=TOKEN, base_url=server.url, timeout=5)
    assert client.chat_postMessage(channel="#drift", **message.payload())["ok"] is True


class TestOpened:
    """A new drift episode."""

    def test_runbook_drift(self) -> None:
        """The runbook's four missing migrations: header, ids in order, the sync command."""
        message = opened(report(RUNBOOK_IDS))
        assert message.blocks[0]["text"]["text"] == ":red_circle: Staging is behind UAT"
        text = body(message)
        positions = [text.index(f"{i}. `{m}`") for i, m in enumerate(RUNBOOK_IDS, 1)]
        assert positions == sorted(positions)
        assert "*4 migrations in UAT missing in Staging*" in text
        assert "```driftwatch sync --comparison uat:staging --dry-run```" in text
        assert message.text.startswith(":red_circle: Staging is behind UAT: 4 migrations missing in Staging")

    def test_links_only_when_configured(self) -> None:
        """Dashboard and report links appear only with URLs, with & escaped inside the link."""
        assert "<http" not in body(opened(report(RUNBOOK_IDS)))
        text = body(opened(report(RUNBOOK_IDS), dashboard_url=DASHBOARD, report_url=REPORT_URL))
        assert f"<{DASHBOARD.replace('&', '&amp;')}|:bar_chart: Grafana dashboard>" in text
        assert f"<{REPORT_URL}|:page_facing_up: Full report>" in text

    def test_mention_only_when_critical(self) -> None:
        """A warning never mentions; a critical alert mentions in the blocks and the fallback."""
        assert MENTION not in body(opened(report(RUNBOOK_IDS), mention=MENTION))
        message = opened(report(RUNBOOK_IDS, extra=["20251203_hotfix.js"]), "critical", mention=MENTION)
        assert message.blocks[0]["text"]["text"] == ":rotating_light: Staging has diverged from UAT"
        assert message.text.startswith(MENTION)
        assert f"{MENTION} :rotating_light: *Critical:* migrations only in Staging" in body(message)
        assert "*Only in Staging*" in body(message)

    def test_differences_grouped_by_kind(self) -> None:
        """Kinds in contract order, each with its count, its first few described, then how many more."""
        diffs = [diff("index", f"public.i{i}", "missing") for i in range(3)]
        diffs += [diff("column", f"public.users.c{i}") for i in range(PER_KIND + 7)]
        text = body(opened(report(differences=diffs)))
        columns, indexes = "*Schema: columns* (12 differences)", "*Schema: indexes* (3 differences)"
        assert text.index(columns) < text.index(indexes)
        assert "• `public.users.c0`: type integer → bigint" in text
        assert f"public.users.c{PER_KIND}:" not in text
        assert "_… and 7 more_" in text
        assert "• `public.i0`: in UAT, missing in Staging" in text

    def test_critical_tables(self) -> None:
        """Critical tables that do not match are listed with what is wrong."""
        rep = report(critical=[("public.users", "ok"), ("public.wallets", "missing_in_target")])
        text = body(opened(rep, "critical"))
        assert "• `public.wallets`: missing in Staging" in text
        assert "public.users`" not in text

    def test_names_are_escaped(self) -> None:
        """&, < and > in names are escaped; unicode, spaces and quotes pass through."""
        message = opened(report(['2025_<b>&"ünï cødé" 🚀.js']))
        assert '`2025_&lt;b&gt;&amp;"ünï cødé" 🚀.js`' in body(message)
        assert_within_limits(message)


class TestOtherKinds:
    """Changed, reminder, resolved, environment, test and weekly alerts."""

    def test_changed(self) -> None:
        """What is new and what is no longer drifting, in words."""
        added = {"missing": RUNBOOK_IDS[3:], "differences": ["column public.my table.a b changed"]}
        removed = {"missing": RUNBOOK_IDS[:2], "critical": ["public.users different"]}
        alert = Alert("changed", "warning", "uat", "staging", AT, report=report(RUNBOOK_IDS[2:]),
                      added=added, removed=removed)  # fmt: skip
        message = build_message(alert)
        assert message.blocks[0]["text"]["text"] == ":warning: Drift changed: UAT → Staging"
        text = body(message)
        assert "*New since the last alert* (2)" in text
        assert f"• migration `{RUNBOOK_IDS[3]}` missing in Staging" in text
        assert "• column `public.my table.a b` changed" in text
        assert "*No longer drifting* (3)" in text
        assert f"• migration `{RUNBOOK_IDS[0]}` now applied in Staging" in text
        assert "• critical table `public.users` matches again" in text
        assert "--dry-run" in text

    def test_reminder(self) -> None:
        """A reminder says how long the drift has been open."""
        alert = Alert("reminder", "warning", "uat", "staging", AT, report=report(RUNBOOK_IDS),
                      drift_started=AT - timedelta(days=2, hours=3))  # fmt: skip
        message = build_message(alert)
        header = message.blocks[0]["text"]["text"]
        assert header == ":hourglass_flowing_sand: Still drifting (2 days 3 h): Staging is behind UAT"
        assert "Drifting for *2 days 3 h*" in body(message)

    def test_resolved(self) -> None:
        """Back in sync, with how long the drift lasted, and no command to run."""
        alert = Alert("resolved", "info", "uat", "staging", AT, report=report(),
                      drift_started=AT - timedelta(hours=5, minutes=12), dashboard_url=DASHBOARD)  # fmt: skip
        message = build_message(alert)
        assert message.blocks[0]["text"]["text"] == ":white_check_mark: Staging is back in sync with UAT"
        assert "Drift lasted *5 h 12 min*" in body(message)
        assert "```" not in body(message)
        assert "Grafana dashboard" in body(message)

    def test_unreachable_and_back(self) -> None:
        """Unreachable names the environment, the failed checks and the reason; then back again."""
        down = Alert("unreachable", "critical", "production", "production", AT, environment="production",
                     error="connection refused by 127.0.0.1:5435", failures=3, mention=MENTION)  # fmt: skip
        message = build_message(down)
        assert message.blocks[0]["text"]["text"] == ":electric_plug: Production unreachable (3 checks)"
        assert "for 3 checks in a row: connection refused by 127.0.0.1:5435" in body(message)
        assert message.text.startswith(MENTION)
        up = build_message(Alert("reachable", "info", "production", "production", AT,
                                 environment="production"))  # fmt: skip
        assert up.blocks[0]["text"]["text"] == ":large_green_circle: Production is reachable again"

    def test_test_message(self) -> None:
        """The test message carries the given text."""
        message = build_message(Alert("test", "info", "driftwatch", "driftwatch", AT, text="Hello & welcome"))
        assert message.blocks[0]["text"]["text"] == ":wave: driftwatch test message"
        assert "Hello &amp; welcome" in body(message)

    def test_weekly_spills_over_sections(self) -> None:
        """A long weekly text uses several sections, then says how many lines did not fit."""
        lines = [f"line {i}: " + "é" * 80 for i in range(2000)]
        message = build_message(Alert("weekly", "info", "x", "x", AT, text="\n".join(lines)))
        sections = [b for b in message.blocks if b["type"] == "section"]
        assert len(sections) > 2
        assert_within_limits(message)
        shown = sum(1 for line in body(message).splitlines() if line.startswith("line "))
        more = sum(int(n.replace(",", "")) for n in MORE.findall(body(message)))
        assert shown + more == 2000

    def test_long_environment_names(self) -> None:
        """Huge environment names still give a header within 150 characters."""
        message = build_message(Alert("opened", "warning", "ü" * 500, "s" * 500, AT, report=report(["a"])))
        assert_within_limits(message)


SIZES = [(m, d) for m in (0, 1, 10, 400, 5000) for d in (0, 30, 2000, 20000)]


class TestLimits:
    """Any size of drift gives a message Slack accepts, with the right "… and N more"."""

    @pytest.mark.parametrize(("missing", "differences"), SIZES)
    def test_sizes(self, slack: SlackServer, missing: int, differences: int) -> None:
        """Every limit holds, every item is listed or counted once, and the stand-in accepts it."""
        ids = [f"2025{i:06d}_migration_with_a_long_descriptive_name_{i}.js" for i in range(missing)]
        diffs = [diff(KINDS[i % len(KINDS)], f"public.t{i}.column_ünïcødé_{i}") for i in range(differences)]
        message = opened(report(ids, differences=diffs, critical=[("public.users", "different")]), "critical",
                         mention=MENTION, dashboard_url=DASHBOARD, report_url=REPORT_URL)  # fmt: skip
        assert_within_limits(message)
        assert accounted(message) == missing + differences + 1
        assert "--dry-run" in body(message)
        assert "Grafana dashboard" in body(message)
        post(slack, message)

    def test_400_missing_says_375_more(self) -> None:
        """400 missing migrations list the first 25 in order and say 375 more."""
        ids = [f"m{i:03d}.js" for i in range(400)]
        text = body(opened(report(ids)))
        assert f"{IDS_SHOWN}. `m{IDS_SHOWN - 1:03d}.js`" in text
        assert f"`m{IDS_SHOWN:03d}.js`" not in text
        assert "_… and 375 more_" in text

    def test_long_unicode_names(self, slack: SlackServer) -> None:
        """Names thousands of characters long, full of entities and emoji, are clipped whole."""
        name = "&<>🚀ü\"' " * 800
        diffs = [diff(kind, f"{name}{i}") for i, kind in enumerate(KINDS * 4)]
        message = opened(report([name] * 60, extra=[name] * 60, failed=[name] * 3, differences=diffs,
                                critical=[(name, "different")] * 40), "critical")  # fmt: skip
        assert_within_limits(message)
        assert accounted(message) == 60 + 60 + 3 + len(diffs) + 40
        post(slack, message)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        missing=st.lists(st.text(min_size=1, max_size=400), max_size=80),
        names=st.lists(st.tuples(st.sampled_from(KINDS), st.text(min_size=1, max_size=400),
                                 st.sampled_from(["missing", "extra", "changed"])), max_size=200),
        env=st.text(min_size=1, max_size=200),
    )  # fmt: skip
    def test_any_drift_fits(self, missing: list[str], names: list[tuple[str, str, str]], env: str) -> None:
        """Arbitrary names, counts and environment names: every limit holds, every item is counted."""
        rep = report(missing, differences=[diff(k, n, c) for k, n, c in names])
        message = build_message(Alert("opened", "warning", env, "staging", AT, report=rep))
        assert_within_limits(message)
        assert accounted(message) == len(missing) + len(names)


@given(st.text(max_size=300), st.integers(min_value=2, max_value=200))
def test_fit_never_splits_an_entity(raw: str, limit: int) -> None:
    """fit() stays within the limit and never leaves half of &amp;, &lt; or &gt;."""
    out = fit(raw, limit)
    assert len(out) <= limit
    assert not re.search(r"&(?!amp;|lt;|gt;)", out)
    assert out == fit(raw, 10_000) or out.endswith("…")
