"""Configuration loading: the example is valid, and every mistake is reported with its location."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from driftwatch.cli import run
from driftwatch.config import ConfigError, load, parse

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
ENV = {"DB_PASSWORD": "pw-uat", "PROD_DB_PASSWORD": "pw-prod"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "driftwatch.toml"
    path.write_text(text)
    return path


class TestExample:
    """The shipped example reproduces the runbook's setup."""

    def test_example_loads(self) -> None:
        """The example has UAT on 5433, Staging on 5434, Production after Staging."""
        config = load(EXAMPLE, ENV)
        assert list(config.environments) == ["uat", "staging", "production"]
        assert "127.0.0.1:5433" in config.environments["uat"].dsn
        assert "127.0.0.1:5434" in config.environments["staging"].dsn
        assert [c.name for c in config.comparisons] == ["uat:staging", "staging:production"]
        assert config.comparisons[0].critical_tables == (
            "users", "wallets", "transactions", "beneficiaries", "beneficiary_service_accounts")
        assert config.migrations.tool == "sequelize"

    def test_password_comes_from_the_variable_and_never_prints(self) -> None:
        """The password is read from DB_PASSWORD and its repr hides it."""
        env = load(EXAMPLE, ENV).environments["uat"]
        assert env.password is not None
        assert env.password.reveal() == "pw-uat"
        assert "pw-uat" not in repr(env)
        assert env.password_source == "$DB_PASSWORD"

    def test_every_key_is_commented(self) -> None:
        """Each key set in the example has a comment line right above it or in its block."""
        lines = EXAMPLE.read_text().splitlines()
        for i, line in enumerate(lines):
            if "=" in line and not line.startswith(("#", "[")):
                block = lines[max(0, i - 12): i]
                assert any(b.startswith("#") for b in block), line


class TestProblems:
    """Bad input is reported all at once, each problem with its location."""

    def test_all_problems_together(self, tmp_path: Path) -> None:
        """Unknown key, wrong type, unknown environment and unset variable: four located lines."""
        path = write(tmp_path, """
[environments.uat]
dsn = "postgresql://app@127.0.0.1:5433/db"
password_env = "NOT_SET_ANYWHERE"
conect_timeout = 5

[environments.staging]
dsn = "postgresql://app@127.0.0.1:5434/db"
statement_timeout = "30s"

[[comparisons]]
reference = "uat"
target = "stagging"
""")
        with pytest.raises(ConfigError) as info:
            load(path, {})
        problems = info.value.problems
        assert len(problems) == 4, problems
        text = "\n".join(problems)
        assert f"{path}: environments.uat.conect_timeout: unknown key" in text
        assert "environments.uat.password_env: environment variable NOT_SET_ANYWHERE is not set" in text
        assert "environments.staging.statement_timeout: expected an integer or a number" in text
        assert "comparisons[0].target: names unknown environment 'stagging'" in text

    def test_password_in_dsn_is_refused_without_echoing_it(self, tmp_path: Path) -> None:
        """A DSN with a password is an error, and the error does not repeat the password."""
        path = write(tmp_path, """
[environments.a]
dsn = "postgresql://app:hunter2@h:1/db"
[environments.b]
dsn = "host=h dbname=db password=hunter3"
[[comparisons]]
reference = "a"
target = "b"
""")
        with pytest.raises(ConfigError) as info:
            load(path, {})
        assert len(info.value.problems) == 2
        assert "hunter" not in str(info.value)
        assert "contains a password" in info.value.problems[0]

    def test_toml_syntax_error_names_the_line(self, tmp_path: Path) -> None:
        """A TOML syntax error names the file and the line."""
        path = write(tmp_path, "[environments.uat\ndsn = 1\n")
        with pytest.raises(ConfigError) as info:
            load(path, {})
        assert str(path) in info.value.problems[0]
        assert "line 1" in info.value.problems[0]

    def test_booleans_are_not_numbers(self) -> None:
        """`connect_timeout = true` is a type error, not a timeout of one second."""
        data = {"environments": {"a": {"dsn": "host=h", "connect_timeout": True},
                                 "b": {"dsn": "host=h"}},
                "comparisons": [{"reference": "a", "target": "b"}]}
        with pytest.raises(ConfigError, match="connect_timeout: expected an integer"):
            parse(data, None, {})

    def test_unknown_tool_and_custom_without_table(self) -> None:
        """The migration tool must be known; custom needs its table and id column."""
        base = {"environments": {"a": {"dsn": "host=h"}, "b": {"dsn": "host=h"}},
                "comparisons": [{"reference": "a", "target": "b"}]}
        with pytest.raises(ConfigError, match="unknown tool 'sequalize'"):
            parse({**base, "migrations": {"tool": "sequalize"}}, None, {})
        with pytest.raises(ConfigError, match="custom needs table and id_column"):
            parse({**base, "migrations": {"tool": "custom"}}, None, {})

    def test_password_file(self, tmp_path: Path) -> None:
        """password_file is read without its trailing newline; a missing file is located."""
        secret = tmp_path / "pw"
        secret.write_text("s3cret\n")
        data = {"environments": {"a": {"dsn": "host=h", "password_file": str(secret)},
                                 "b": {"dsn": "host=h", "password_file": str(tmp_path / "no")}},
                "comparisons": [{"reference": "a", "target": "b"}]}
        with pytest.raises(ConfigError) as info:
            parse(data, None, {})
        assert info.value.problems == [
            f"environments.b.password_file: cannot read {tmp_path / 'no'} (No such file or directory)"]
        del data["environments"]["b"]["password_file"]  # type: ignore[index]
        config = parse(data, None, {})
        assert config.environments["a"].password is not None
        assert config.environments["a"].password.reveal() == "s3cret"


class TestCheckConfigCommand:
    """`driftwatch check-config` validates without connecting."""

    def test_valid_example(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The example validates with exit 0 (nothing listens on its ports here)."""
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
        out, err = io.StringIO(), io.StringIO()
        assert run(["check-config", "--config", str(EXAMPLE)], out, err) == 0
        assert "OK" in out.getvalue()
        assert "uat:staging" in out.getvalue()

    def test_invalid_config_exits_2_without_traceback(self, tmp_path: Path) -> None:
        """Problems go to stderr as a list, exit code 2, no Python traceback."""
        path = write(tmp_path, "[environments.uat]\ndsn = 5\n")
        out, err = io.StringIO(), io.StringIO()
        assert run(["check-config", "--config", str(path)], out, err) == 2
        assert "environments.uat.dsn: expected a string" in err.getvalue()
        assert "Traceback" not in err.getvalue()

    def test_missing_file(self, tmp_path: Path) -> None:
        """A config file that does not exist says so and how to make one."""
        out, err = io.StringIO(), io.StringIO()
        assert run(["check-config", "--config", str(tmp_path / "nope.toml")], out, err) == 2
        assert "no such file; copy config.example.toml" in err.getvalue()


class TestDaemonSections:
    """[schedule], [metrics] and [state] are validated like the rest."""

    def test_defaults_and_example(self) -> None:
        """The example's schedule is hourly plus Monday 06:00; state_dir is relative to the file."""
        config = load(EXAMPLE, ENV)
        assert (config.schedule.check, config.schedule.weekly) == ("0 * * * *", "0 6 * * 1")
        assert (config.metrics.host, config.metrics.port) == ("0.0.0.0", 9632)  # noqa: S104
        assert config.state.state_dir == EXAMPLE.parent / "driftwatch-state"

    def test_bad_values_are_located(self) -> None:
        """A bad cron line, time zone, listen address and retention are each named."""
        data = {"environments": {"a": {"dsn": "host=h"}, "b": {"dsn": "host=h"}},
                "comparisons": [{"reference": "a", "target": "b"}],
                "schedule": {"check": "0 * * *", "timezone": "Mars/Olympus"},
                "metrics": {"listen": "localhost"}, "state": {"retention_days": 0}}
        with pytest.raises(ConfigError) as info:
            parse(data, None, {})
        text = "\n".join(info.value.problems)
        assert "schedule.check: '0 * * *' has 4 fields" in text
        assert "schedule.timezone: unknown time zone 'Mars/Olympus'" in text
        assert "metrics.listen: expected HOST:PORT or :PORT, got 'localhost'" in text
        assert "state.retention_days: must be positive" in text
