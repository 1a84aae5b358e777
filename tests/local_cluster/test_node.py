"""The session's node is a real Kubernetes node, contained: what a Pod can and cannot reach, where
the servers listen, and what the kubelet enforces (limits, non-root, read-only root, DNS).

Each Pod here runs the product image (`published`) with another command.
"""

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_cluster.node_network import CONTAINMENT_TABLE
from local_cluster.product import Published
from tests.conftest import KubeCluster

pytestmark = pytest.mark.integration

KUBECTL = Path(sys.executable).with_name("kubectl")
# Run in a Pod: for each HOST:PORT, whether a TCP connection opens within 3 s (or the error);
# for each NAME, what it resolves to (or the error).
PROBE = """
import json, socket, sys
result = {}
for target in sys.argv[1:]:
    try:
        if ":" in target:
            host, port = target.rsplit(":", 1)
            socket.create_connection((host, int(port)), timeout=3).close()
            result[target] = "open"
        else:
            result[target] = socket.gethostbyname(target)
    except OSError as error:
        result[target] = type(error).__name__
print(json.dumps(result))
"""


# Run in a Pod: its uid, and the errno of a write to the root filesystem.
WRITE_TO_ROOT = """
import os
try:
    open("/written-by-a-test", "w")
except OSError as error:
    print(os.getuid(), error.errno)
"""


@pytest.fixture(scope="module")
def namespace(kube: KubeCluster) -> Iterator[str]:
    name = f"node-{uuid.uuid4().hex[:6]}"
    kubectl(kube, "create", "namespace", name)
    yield name
    kubectl(kube, "delete", "namespace", name, "--wait=false")


def kubectl(kube: KubeCluster, *arguments: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        [str(KUBECTL), f"--kubeconfig={kube.kubeconfig}", *arguments],
        input=stdin, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def run_pod(
    kube: KubeCluster, namespace: str, image: str, command: list[str], memory: str = "128Mi"
) -> dict[str, Any]:
    """Runs a Pod as the chart runs its containers (non-root, read-only root, no capabilities,
    RuntimeDefault seccomp, a memory limit) to its end; returns the Pod."""
    name = f"probe-{uuid.uuid4().hex[:6]}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "command": command,
                    "resources": {"limits": {"memory": memory, "cpu": "500m"}},
                    "securityContext": {
                        "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    kubectl(kube, "apply", "-f", "-", stdin=json.dumps(pod))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current: dict[str, Any] = json.loads(
            kubectl(kube, "get", "pod", name, "-n", namespace, "-o", "json")
        )
        if current["status"].get("phase") in ("Succeeded", "Failed"):
            current["logs"] = kubectl(kube, "logs", name, "-n", namespace)
            return current
        time.sleep(0.5)
    raise AssertionError(f"pod {name} did not finish in 120 s")


@pytest.fixture(scope="module")
def image(published: Published) -> str:
    return published.references["company-exports"]


def test_the_node_is_ready_with_containerd(kube: KubeCluster) -> None:
    (node,) = json.loads(kubectl(kube, "get", "nodes", "-o", "json"))["items"]
    info = node["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert info["kubeletVersion"] == "v1.37.2"
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == kube.env["NODE_ADDRESS"]


def test_a_pod_reaches_the_cluster_and_the_servers_and_nothing_else(
    kube: KubeCluster, namespace: str, image: str
) -> None:
    network = kube.node.network
    database = kube.env["DATABASE_URL"].rsplit("@", 1)[1].split("/", 1)[0]
    s3 = kube.env["S3_ENDPOINT_URL"].removeprefix("http://")
    outside = ["192.0.2.1:80", "10.0.0.1:443", "1.1.1.1:443", "8.8.8.8:53"]
    names = ["kubernetes.default.svc.cluster.local", "example.com"]
    pod = run_pod(kube, namespace, image, ["python", "-c", PROBE, database, s3, *outside, *names])
    reached = json.loads(pod["logs"])
    assert reached[database] == "open"
    assert reached[s3] == "open"
    assert reached["kubernetes.default.svc.cluster.local"] == network.kubernetes_service_address
    # Nothing outside the cluster answers, and outside names do not resolve.
    assert {reached[target] for target in outside} <= {"OSError", "TimeoutError"}
    assert reached["example.com"] == "gaierror"


def test_containment_routes_rules_and_listen_addresses(kube: KubeCluster) -> None:
    network, node = kube.node.network, kube.node
    unreachable = subprocess.run(
        ["ip", "route", "show", "type", "unreachable"], capture_output=True, text=True, check=True
    ).stdout
    assert network.pod_cidr in unreachable
    assert network.service_cidr in unreachable
    inside_routes = subprocess.run(
        node.inside("ip", "route"), capture_output=True, text=True, check=True
    ).stdout
    assert "default" not in inside_routes
    rules = subprocess.run(
        node.inside("nft", "list", "table", "ip", CONTAINMENT_TABLE),
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"ip saddr {network.pod_cidr}" in rules
    assert "drop" in rules
    listening = subprocess.run(
        ["ss", "-ltnpH"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    servers = ("postgres", "weed", "registry", "kube-apiserver", "etcd")
    addresses = {
        line.split()[3].rsplit(":", 1)[0]
        for line in listening
        if any(f'(("{server}"' in line for server in servers)
    }
    assert addresses
    assert addresses <= {"127.0.0.1", network.host_address}


def test_a_container_over_its_memory_limit_is_oom_killed(
    kube: KubeCluster, namespace: str, image: str
) -> None:
    allocate = "data = b'x' * (200 * 2**20); print(len(data))"
    pod = run_pod(kube, namespace, image, ["python", "-c", allocate], memory="64Mi")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)


def test_a_container_runs_as_its_image_user_on_a_read_only_root(
    kube: KubeCluster, namespace: str, image: str
) -> None:
    check = WRITE_TO_ROOT
    pod = run_pod(kube, namespace, image, ["python", "-c", check])
    assert pod["logs"].split() == ["65532", "30"]  # uid 65532; EROFS
    statuses = pod["status"]["containerStatuses"]
    assert statuses[0]["imageID"].endswith(image.rsplit("@", 1)[1])
