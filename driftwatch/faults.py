"""Test-only crash points: DRIFTWATCH_FAULT_POINT=<name> makes the process SIGKILL itself at <name>."""

from __future__ import annotations

import os
import signal

# Unset in every real deployment; the crash tests set it for one daemon process, so that a
# SIGKILL lands exactly between two steps instead of somewhere near them.
VARIABLE = "DRIFTWATCH_FAULT_POINT"


def point(name: str) -> None:
    """Die here, as an OOM kill would, when the variable names this point; otherwise do nothing."""
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
