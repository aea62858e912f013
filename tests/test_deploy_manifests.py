"""deploy/kubernetes: rendered by kustomize, validated against the API schemas, and checked for sense."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kubernetes_validate
import psycopg.conninfo
import pytest
import yaml

from tests.support.deploy import DEPLOY, ROOT, flatten, load_toml, tool

K8S = DEPLOY / "kubernetes"
Doc = dict[str, Any]
# Native sidecars are on by default from 1.29; the newest schemas the package bundles as well.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
# The pod's copy of config.example.toml may differ from it in these values only (its header says so).
POD_VALUES = {"state.state_dir": "/var/lib/driftwatch"}
# ... and in switching on [slack], with keys the example's commented [slack] block shows.
POD_SECTIONS = ("slack",)


def kustomize(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("kubectl"), "kustomize", str(folder)], capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip


def example_keys(name: str) -> set[str]:
    """The keys of `name` in the example's commented block, e.g. [slack] → token_env, channel, ..."""
    lines = (ROOT / "config.example.toml").read_text().splitlines()
    start = lines.index(f"# [{name}]")
    keys: set[str] = set()
    for line in lines[start + 1:]:
        if line.startswith("# ---") or line.startswith("["):
            break
        if m := re.match(r"#\s*([a-z_]+)\s*=", line):
            keys.add(m[1])
    return keys


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Doc]:
    """`kubectl kustomize` of a copy of deploy/kubernetes, with a secrets.env made from the example."""
    folder = tmp_path_factory.mktemp("k8s") / "kubernetes"
    shutil.copytree(K8S, folder, ignore=shutil.ignore_patterns("secrets.env"))
    keys = [line.split("=", 1)[0] for line in (folder / "secrets.env.example").read_text().splitlines()
            if line and not line.startswith("#")]  # fmt: skip
    (folder / "secrets.env").write_text("".join(f"{k}={secrets.token_hex(8)}\n" for k in keys))
    result = kustomize(folder)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def one(docs: list[Doc], kind: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def pod(docs: list[Doc]) -> Doc:
    spec: Doc = one(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(docs: list[Doc], name: str) -> Doc:
    spec = pod(docs)
    return next(c for c in [*spec["containers"], *spec.get("initContainers", [])] if c["name"] == name)


def pod_config(docs: list[Doc]) -> dict[str, Any]:
    """The driftwatch.toml the pod reads: the ConfigMap mounted at the --config folder."""
    args = container(docs, "driftwatch")["args"]
    config_path = Path(args[args.index("--config") + 1])
    mount = next(m for m in container(docs, "driftwatch")["volumeMounts"]
                 if Path(m["mountPath"]) == config_path.parent)  # fmt: skip
    volume = next(v for v in pod(docs)["volumes"] if v["name"] == mount["name"])
    name = volume["configMap"]["name"]
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name)
    return tomllib.loads(cm["data"][config_path.name])


def port_number(c: Doc, port: int | str) -> int:
    if isinstance(port, int):
        return port
    return int(next(p["containerPort"] for p in c["ports"] if p["name"] == port))


def proxy_listeners(c: Doc) -> set[tuple[str, int]]:
    """(address, port) of each instance a Cloud SQL Auth Proxy v2 container's args open."""
    flags = dict(a.removeprefix("--").split("=", 1) for a in c["args"] if a.startswith("--") and "=" in a)
    address, next_port = flags.get("address", "127.0.0.1"), int(flags.get("port", 5432))
    listeners = set()
    for arg in (a for a in c["args"] if not a.startswith("-")):
        query = parse_qs(urlsplit(f"//x/{arg}").query)
        if "port" in query:
            listeners.add((query.get("address", [address])[0], int(query["port"][0])))
        else:  # without ?port=, instances take --port, --port + 1, ...
            listeners.add((address, next_port))
            next_port += 1
    return listeners


class TestRendering:
    """kustomize renders the folder, and the result is valid Kubernetes."""

    def test_renders_every_resource(self, rendered: list[Doc]) -> None:
        kinds = sorted(d["kind"] for d in rendered)
        assert kinds == ["ConfigMap", "Deployment", "Namespace", "PersistentVolumeClaim", "PrometheusRule",
                         "Secret", "Service", "ServiceAccount", "ServiceMonitor"]  # fmt: skip

    def test_without_secrets_env_kustomize_names_the_file(self, tmp_path: Path) -> None:
        shutil.copytree(K8S, tmp_path / "k", ignore=shutil.ignore_patterns("secrets.env"))
        result = kustomize(tmp_path / "k")
        assert result.returncode != 0
        assert "secrets.env" in result.stderr

    @pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
    def test_valid_against_the_api_schemas(self, rendered: list[Doc], version: str) -> None:
        for doc in rendered:
            # CRDs: TestScraping checks the ServiceMonitor, test_deploy_observability the rules
            if doc["kind"] not in {"ServiceMonitor", "PrometheusRule"}:
                kubernetes_validate.validate(doc, version, strict=True)

    def test_the_validator_knows_native_sidecars(self, rendered: list[Doc]) -> None:
        """Before 1.28 an init container has no restartPolicy: the schemas do tell versions apart."""
        with pytest.raises(kubernetes_validate.ValidationError, match="restartPolicy"):
            kubernetes_validate.validate(one(rendered, "Deployment"), "1.27.0", strict=True)

    def test_secret_values_are_never_committed(self) -> None:
        ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/kubernetes/secrets.env"], cwd=ROOT,
                                 check=False)  # fmt: skip
        assert ignored.returncode == 0, "deploy/kubernetes/secrets.env must be git-ignored"


class TestPod:
    """The Deployment runs one driftwatch the way its code expects."""

    def test_one_replica_replaced_not_rolled(self, rendered: list[Doc]) -> None:
        spec = one(rendered, "Deployment")["spec"]
        assert spec["replicas"] == 1
        assert spec["strategy"]["type"] == "Recreate"

    def test_runs_the_daemon_with_json_logs(self, rendered: list[Doc]) -> None:
        c = container(rendered, "driftwatch")
        assert [*c["command"], *c["args"]][:2] == ["driftwatch", "run"]
        assert c["args"][c["args"].index("--log-format") + 1] == "json"

    def test_probes_use_healthz_and_readyz_on_the_metrics_port(self, rendered: list[Doc]) -> None:
        c = container(rendered, "driftwatch")
        port = int(pod_config(rendered)["metrics"]["listen"].rsplit(":", 1)[1])
        # Liveness must not be /readyz: that is 503 until the first check, and would restart the pod.
        expected = {"livenessProbe": "/healthz", "startupProbe": "/healthz", "readinessProbe": "/readyz"}
        for probe, path in expected.items():
            assert c[probe]["httpGet"]["path"] == path
            assert port_number(c, c[probe]["httpGet"]["port"]) == port

    def test_grace_period_covers_the_shutdown_timeout(self, rendered: list[Doc]) -> None:
        timeout = pod_config(rendered)["schedule"]["shutdown_timeout_seconds"]
        assert pod(rendered)["terminationGracePeriodSeconds"] > timeout

    def test_non_root_read_only_no_capabilities(self, rendered: list[Doc]) -> None:
        spec = pod(rendered)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        for c in [*spec["containers"], *spec["initContainers"]]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc.get("runAsUser", 1) > 0
            assert {"requests", "limits"} <= set(c["resources"])
            assert "memory" in c["resources"]["limits"]

    def test_tmp_is_writable(self, rendered: list[Doc]) -> None:
        mounts = {m["mountPath"]: m["name"] for m in container(rendered, "driftwatch")["volumeMounts"]}
        volume = next(v for v in pod(rendered)["volumes"] if v["name"] == mounts["/tmp"])  # noqa: S108 - the path under test
        assert "emptyDir" in volume

    def test_state_dir_is_the_claim(self, rendered: list[Doc]) -> None:
        state_dir = pod_config(rendered)["state"]["state_dir"]
        mounts = container(rendered, "driftwatch")["volumeMounts"]
        mount = next(m for m in mounts if m["mountPath"] == state_dir)
        volume = next(v for v in pod(rendered)["volumes"] if v["name"] == mount["name"])
        claim = one(rendered, "PersistentVolumeClaim")
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        assert not mount.get("readOnly", False)
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]

    def test_every_secret_the_config_names_comes_from_the_secret(self, rendered: list[Doc]) -> None:
        secret = one(rendered, "Secret")
        env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef")
               for e in container(rendered, "driftwatch")["env"]}  # fmt: skip
        named = [v for k, v in flatten(pod_config(rendered)).items() if k.endswith("_env")]
        assert {"DB_PASSWORD", "PROD_DB_PASSWORD", "SLACK_BOT_TOKEN"} <= set(named)
        for variable in named:
            ref = env[variable]
            assert ref is not None, f"{variable} is not taken from a Secret"
            assert ref["name"] == secret["metadata"]["name"]
            assert ref["key"] in secret["data"]

    def test_the_proxy_is_a_native_sidecar_with_its_health_checks(self, rendered: list[Doc]) -> None:
        proxies = [c for c in pod(rendered)["initContainers"] if "cloud-sql-proxy" in c["image"]]
        assert proxies
        for c in proxies:
            assert c["restartPolicy"] == "Always"
            assert re.fullmatch(r"gcr\.io/cloud-sql-connectors/cloud-sql-proxy:2\.\d+\.\d+", c["image"])
            assert {"--health-check", "--http-address=0.0.0.0", "--exit-zero-on-sigterm"} <= set(c["args"])
            http_port = int(next(a for a in c["args"] if a.startswith("--http-port=")).split("=")[1])
            for probe, path in {"startupProbe": "/startup", "livenessProbe": "/liveness",
                                "readinessProbe": "/readiness"}.items():  # fmt: skip
                assert urlsplit(c[probe]["httpGet"]["path"]).path == path
                assert port_number(c, c[probe]["httpGet"]["port"]) == http_port

    def test_every_dsn_has_a_proxy_listening(self, rendered: list[Doc]) -> None:
        listening = set().union(*(proxy_listeners(c) for c in pod(rendered)["initContainers"]))
        wanted = set()
        for env in pod_config(rendered)["environments"].values():
            params = psycopg.conninfo.conninfo_to_dict(env["dsn"])
            wanted.add((str(params["host"]), int(str(params["port"]))))
        assert wanted == listening == {("127.0.0.1", 5433), ("127.0.0.1", 5434), ("127.0.0.1", 5435)}

    def test_the_image_can_be_overridden(self) -> None:
        images = load_yaml(K8S / "kustomization.yaml")["images"]
        deployment = load_yaml(K8S / "deployment.yaml")
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.rsplit(":", 1)[0] in {i["name"] for i in images}


def load_yaml(path: Path) -> Doc:
    doc: Doc = yaml.safe_load(path.read_text())
    return doc


class TestScraping:
    """The Service exposes the pod's metrics port, and the ServiceMonitor finds it as job driftwatch."""

    def test_service_selects_the_pod_and_its_metrics_port(self, rendered: list[Doc]) -> None:
        service = one(rendered, "Service")
        labels = one(rendered, "Deployment")["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        port = next(p for p in service["spec"]["ports"] if p["name"] == "metrics")
        c = container(rendered, "driftwatch")
        assert port_number(c, port["targetPort"]) == port_number(c, "metrics") == port["port"] == 9632

    def test_service_monitor_selects_the_service(self, rendered: list[Doc]) -> None:
        monitor, service = one(rendered, "ServiceMonitor"), one(rendered, "Service")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        names = {p["name"] for p in service["spec"]["ports"]}
        assert monitor["spec"]["endpoints"]
        assert all(e["port"] in names for e in monitor["spec"]["endpoints"])

    def test_the_job_label_is_driftwatch(self, rendered: list[Doc]) -> None:
        """The alert rules select up{job="driftwatch"}."""
        monitor, service = one(rendered, "ServiceMonitor"), one(rendered, "Service")
        label = monitor["spec"].get("jobLabel")
        job = service["metadata"]["labels"].get(label) if label else service["metadata"]["name"]
        assert job == "driftwatch"


class TestPodConfig:
    """deploy/kubernetes/driftwatch.toml stays a copy of config.example.toml that driftwatch accepts."""

    def test_in_step_with_the_example(self) -> None:
        example = flatten(load_toml(ROOT / "config.example.toml"))
        pod_cfg = flatten(load_toml(K8S / "driftwatch.toml"))
        added = {k for k in pod_cfg if k.split(".", 1)[0] in POD_SECTIONS}
        assert set(pod_cfg) - added == set(example)
        for section in POD_SECTIONS:
            assert {k.split(".", 1)[1] for k in added if k.startswith(f"{section}.")} <= example_keys(section)
        for key, value in example.items():
            assert pod_cfg[key] == POD_VALUES.get(key, value), key

    def test_check_config_accepts_it(self) -> None:
        secret_vars = {"DB_PASSWORD": "x", "PROD_DB_PASSWORD": "y", "SLACK_BOT_TOKEN": "xoxb-z"}
        ok = check_config(secret_vars)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        missing = check_config({})
        assert missing.returncode == 2
        assert all(v in missing.stderr for v in secret_vars)


def check_config(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **extra}
    driftwatch = Path(sys.executable).parent / "driftwatch"
    return subprocess.run([str(driftwatch), "check-config", "--config", str(K8S / "driftwatch.toml")],
                          capture_output=True, text=True, env=env, check=False, timeout=60)  # fmt: skip
