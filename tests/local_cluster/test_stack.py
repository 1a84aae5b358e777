"""The local control plane is real Kubernetes; `local-cluster up/down` manage the whole stack."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_cluster.binaries import Binaries, versions
from local_cluster.process import port_is_open
from local_cluster.stack import recorded_servers
from tests.conftest import KubeCluster

pytestmark = pytest.mark.integration


def _kubectl(kube: KubeCluster, *arguments: str) -> str:
    kubectl = Binaries(Path()).kubectl
    completed = subprocess.run(
        [str(kubectl), f"--kubeconfig={kube.kubeconfig}", *arguments],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return completed.stdout


def test_kubectl_lists_namespaces(kube: KubeCluster) -> None:
    names = _kubectl(kube, "get", "namespaces", "-o", "name").split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)


def test_server_reports_the_version_it_was_built_from(kube: KubeCluster) -> None:
    reported = json.loads(_kubectl(kube, "version", "-o", "json"))
    assert reported["serverVersion"]["gitVersion"] == f"v{versions()['KUBERNETES_VERSION']}"


def test_up_then_down_leaves_no_process_and_no_port(servers_root: Path, figures: list[str]) -> None:
    root = servers_root / "cli-stack"
    command = [sys.executable, "-m", "local_cluster", "--root", str(root), "--without-product"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    subprocess.run([*command[:3], "up", *command[3:]], check=True, env=env, timeout=180)
    cold = time.monotonic() - started
    subprocess.run([*command[:3], "down", *command[3:]], check=True, env=env, timeout=60)
    started = time.monotonic()  # second start: the data, certificates and binaries exist
    subprocess.run([*command[:3], "up", *command[3:]], check=True, env=env, timeout=180)
    warm = time.monotonic() - started
    servers = recorded_servers(root)
    env_file = (root / "stack.env").read_text()
    ports = _listening_ports({server.pid for server in servers})
    subprocess.run([*command[:3], "down", *command[3:]], check=True, env=env, timeout=60)
    figures.append(f"local stack up: first start {cold:.1f} s, warm start {warm:.1f} s")
    assert {s.name for s in servers} >= {"etcd", "kube-apiserver", "postgres", "s3", "node-agent"}
    for name in ("KUBECONFIG", "DATABASE_URL", "S3_ENDPOINT_URL", "EXPORT_BUCKET"):
        assert f"export {name}=" in env_file
    assert ports, "the stack listened on no port"
    assert not any(server.is_running() for server in servers)
    assert not [port for port in ports if port_is_open(port)]


def _listening_ports(pids: set[int]) -> set[int]:
    """TCP ports the given processes (or their children) listen on, read from `ss`."""
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in listing.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            ports.add(int(line.split()[3].rsplit(":", 1)[1]))
    return ports
