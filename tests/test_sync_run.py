"""The sync's subprocess edge: every line the tool wrote reaches the caller before execute() returns."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from driftwatch.sync import run

DETAIL = 'ERROR DETAIL: Key ("walletId")=(WAL-1) already exists.'
# sequelize-cli's way of failing: progress on stdout, the error on stderr, then exit 1 at once.
FAILING_TOOL = (
    "import sys\n"
    "for i in range(20): print(f'== migration {i}: migrated', flush=True)\n"
    "sys.stderr.write('ERROR: Validation error\\n')\n"
    f"sys.stderr.write({DETAIL!r} + '\\n')\n"
    "sys.exit(1)\n"
)


def _execute(argv: list[str], on_line: Callable[[str], None], timeout: float = 60) -> run.Execution:
    return run.execute(argv, Path.cwd(), dict(os.environ), timeout=timeout, on_line=on_line,
                       redact=lambda line: line)  # fmt: skip


class TestExecute:
    """run.execute against real processes."""

    def test_colours_are_taken_out_of_what_is_streamed_and_kept(self) -> None:
        """sequelize-cli colours its ERROR lines whenever CI is set: the text arrives without escapes."""
        tool = ("import sys\n"
                "print('\\x1b[4mSequelize CLI\\x1b[24m', flush=True)\n"
                "sys.stderr.write('\\x1b[31mERROR:\\x1b[39m Validation error\\r\\n')\n"
                f"sys.stderr.write('\\x1b]8;;http://x\\x07{DETAIL}\\x1b]8;;\\x07\\n')\n")  # fmt: skip
        seen: list[str] = []
        result = _execute([sys.executable, "-c", tool], seen.append)
        assert seen == ["Sequelize CLI", "ERROR: Validation error", DETAIL]
        assert result.output == "Sequelize CLI\nERROR: Validation error\n" + DETAIL + "\n"

    def test_a_slow_consumer_still_gets_the_last_lines_before_the_result(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A terminal or log slower than the tool: the ERROR DETAIL is streamed and kept, not dropped."""
        monkeypatch.setattr(run, "KILL_GRACE_SECONDS", 0.2)  # the old reader.join gave up after this
        seen: list[str] = []

        def slow(line: str) -> None:
            time.sleep(0.05)  # 22 lines: about a second, five times the grace
            seen.append(line)

        done = _execute([sys.executable, "-c", FAILING_TOOL], slow)
        assert done.exit_code == 1
        assert seen[-1] == DETAIL
        assert len(seen) == 22
        assert done.output.endswith(DETAIL + "\n")  # the audit and the Slack tail have it too

    def test_output_closed_but_the_tool_still_running_times_out(self) -> None:
        """A tool that closes its output and hangs is still stopped at the timeout."""
        hang = "import os, time; print('closing', flush=True); os.close(1); os.close(2); time.sleep(60)"
        t0 = time.monotonic()
        done = _execute([sys.executable, "-c", hang], lambda line: None, timeout=1)
        assert done.timed_out
        assert done.exit_code is None
        assert done.output == "closing\n"
        assert time.monotonic() - t0 < 10

    def test_a_background_child_holding_the_output_does_not_hold_the_sync(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The tool exits 0 but left a process on its output: the lines so far, then on after the grace."""
        monkeypatch.setattr(run, "KILL_GRACE_SECONDS", 0.3)
        t0 = time.monotonic()
        done = _execute(["sh", "-c", "sleep 3 & echo migrated"], lambda line: None)
        assert (done.exit_code, done.timed_out, done.output) == (0, False, "migrated\n")
        assert time.monotonic() - t0 < 2.5
