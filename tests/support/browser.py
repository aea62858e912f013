"""Headless Chromium (Debian's `chromium` package) for the report tests: screenshot, DOM, console."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

# CI sets this so that a machine without Chromium fails instead of quietly testing less.
REQUIRE_ALL = os.environ.get("DRIFTWATCH_REQUIRE_ALL_SERVERS") == "1"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")  # fmt: skip
# What Chromium logs when a page misbehaves: a console message, a blocked or failed load.
PROBLEMS = ("CONSOLE", "Refused to", "Failed to load resource", "Uncaught")


def chromium() -> str:
    """The browser's path; a skip (or, in CI, a failure) when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if REQUIRE_ALL:
            pytest.fail("chromium is not installed (apt-get install chromium); .ci/run installs it")
        pytest.skip("chromium is not installed on this machine")
    return found


@dataclass(frozen=True, slots=True)
class Png:
    """What the test needs to know about a screenshot."""

    width: int
    height: int
    distinct_bytes: int  # of the decompressed pixel rows: a blank page has two or three


def read_png(path: Path) -> Png:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += length + 12
    return Png(width, height, len(set(zlib.decompress(idat))))


@dataclass(frozen=True, slots=True)
class Rendered:
    """One page as Chromium showed it."""

    png: Png
    dom: str
    problems: list[str]  # log lines that say the page had an error


def _run(browser: str, url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=90, check=False)  # fmt: skip


def render(url: str, shot: Path, size: str = "1200,2400") -> Rendered:
    """Screenshot `url` and dump its DOM, each in a fresh profile; collect logged page errors."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="dw-chromium-") as tmp:
        taken = _run(browser, url, Path(tmp) / "a", f"--screenshot={shot}", f"--window-size={size}")
        dumped = _run(browser, url, Path(tmp) / "b", "--dump-dom")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists(), taken.stderr[-2000:]
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    logs = (taken.stderr + dumped.stderr).splitlines()
    return Rendered(read_png(shot), dumped.stdout, [x for x in logs if any(p in x for p in PROBLEMS)])
