"""Guarded sync: apply the target's missing migrations with the team's own tool, only when enabled.

Importing this package is cheap (config.py reads `driftwatch.sync.settings`); the work is
imported when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from driftwatch.config import Config
    from driftwatch.store import Store

__all__ = ["preview"]


def preview(config: Config, comparison: str, store: Store | None, out: TextIO) -> int:
    """Print the dry run of `comparison` ("uat:staging") to `out`, as `driftwatch sync --dry-run` does.

    Reads both environments read-only and, when `store` is given, the history (for the baseline
    check); changes nothing, whether sync is enabled or not. Returns 0 when `--apply` would run or
    has nothing to do, 1 when a precondition would refuse; raises UserError (e.g. CheckError)
    when a side cannot be read.
    """
    from driftwatch.sync import cli  # noqa: PLC0415 - keep importing the package cheap

    return cli.preview(config, comparison, store, out)
