"""The local control plane is real Kubernetes; `local-cluster up/down` manage the whole stack."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_cluster.binaries import versions
from local_cluster.stack import recorded_servers
from tests.conftest import KubeCluster
from tests.kubectl import Kubectl

pytestmark = pytest.mark.integration


def test_kubectl_lists_namespaces(kube: KubeCluster) -> None:
    names = Kubectl.of(kube.kubeconfig)("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)


def test_server_reports_the_version_it_was_built_from(kube: KubeCluster) -> None:
    reported = Kubectl.of(kube.kubeconfig).json("version")
    assert reported["serverVersion"]["gitVersion"] == f"v{versions()['KUBERNETES_VERSION']}"


# What a node could change on the machine and must not leave changed.
SYSCTLS = (
    "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "net/ipv4/ip_forward",
    "net/bridge/bridge-nf-call-iptables", "net/netfilter/nf_conntrack_max",
)  # fmt: skip
FOLDERS = (
    "/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/var/lib/cni", "/run/netns",
    "/run/containerd", "/etc/cni",
)  # fmt: skip


def machine_state() -> dict[str, object]:
    """Links, routes, the nft ruleset, sysctls, mount points, top-level cgroups and folders."""

    def run(*command: str) -> str:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    links = sorted(line.split()[1] for line in run("ip", "-o", "link", "show").splitlines())
    mounts = sorted(
        line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
    )
    cgroups = sorted(
        str(folder)
        for hierarchy in Path("/sys/fs/cgroup").iterdir()
        if hierarchy.is_dir() and not hierarchy.is_symlink()
        for folder in hierarchy.iterdir()
        if folder.is_dir()
    )
    return {
        "links": links,
        "routes": run("ip", "route", "show", "table", "all"),
        "nft": run("nft", "list", "ruleset"),
        "sysctls": {name: Path("/proc/sys", name).read_text() for name in SYSCTLS},
        "mounts": mounts,
        "cgroups": cgroups,
        "folders": {folder: Path(folder).exists() for folder in FOLDERS},
    }


def test_up_then_down_leaves_the_machine_as_it_found_it(
    servers_root: Path, figures: list[str]
) -> None:
    root = servers_root / "cli-stack"
    command = [sys.executable, "-m", "local_cluster", "--root", str(root), "--without-product"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    before = machine_state()
    started = time.monotonic()
    subprocess.run([*command[:3], "up", *command[3:]], check=True, env=env, timeout=180)
    cold = time.monotonic() - started
    subprocess.run([*command[:3], "down", *command[3:]], check=True, env=env, timeout=60)
    started = time.monotonic()  # second start: the data, certificates and binaries exist
    said = subprocess.run(
        [*command[:3], "up", *command[3:]],
        check=True, env=env, timeout=180, capture_output=True, text=True,
    ).stdout  # fmt: skip
    warm = time.monotonic() - started
    servers = recorded_servers(root)
    env_file = (root / "stack.env").read_text()
    during = machine_state()
    ports = _listening_ports({server.pid for server in servers})
    subprocess.run([*command[:3], "down", *command[3:]], check=True, env=env, timeout=60)
    after = machine_state()
    figures.append(f"local stack up: first start {cold:.1f} s, warm start {warm:.1f} s")
    # It prints the node as `kubectl get nodes -o wide` does: Ready, on containerd.
    node_row = next(line for line in said.splitlines() if " Ready " in line)
    assert "containerd://" in node_row, said
    names = {s.name for s in servers}
    assert names >= {"etcd", "kube-apiserver", "kube-scheduler", "postgres", "s3", "registry"}
    assert names >= {"node-namespace", "containerd", "kubelet", "kube-proxy", "coredns"}
    for name in ("KUBECONFIG", "DATABASE_URL", "S3_ENDPOINT_URL", "EXPORT_BUCKET", "NODE_ADDRESS"):
        assert f"export {name}=" in env_file
    assert during["links"] != before["links"]  # the check sees what a node adds
    assert during["cgroups"] != before["cgroups"]
    assert ports, "the stack listened on no port"
    assert not any(server.is_running() for server in servers)
    assert not _listening_ports({server.pid for server in servers})
    assert after == before


def _listening_ports(pids: set[int]) -> set[int]:
    """TCP ports the given processes (or their children) listen on, read from `ss`."""
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in listing.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            ports.add(int(line.split()[3].rsplit(":", 1)[1]))
    return ports
