"""Config files for tests: environments from DSNs, the uat → staging comparison, extra sections."""

from __future__ import annotations

from pathlib import Path

CRITICAL = '["users", "wallets", "transactions", "beneficiaries", "beneficiary_service_accounts"]'


def write_config(tmp_path: Path, dsns: dict[str, str], sections: str = "", env_extra: str = "",
                 critical: str = CRITICAL) -> Path:  # fmt: skip
    """driftwatch.toml in `tmp_path`: each environment reads DB_PASSWORD; `sections` is appended."""
    envs = "".join(f'[environments.{name}]\ndsn = "{dsn}"\npassword_env = "DB_PASSWORD"\n{env_extra}\n'
                   for name, dsn in dsns.items())  # fmt: skip
    path = tmp_path / "driftwatch.toml"
    path.write_text(f'{envs}\n[[comparisons]]\nreference = "uat"\ntarget = "staging"\n'
                    f"critical_tables = {critical}\n\n{sections}")  # fmt: skip
    return path
