"""The session's node is a real Kubernetes node, contained: what a Pod can and cannot reach, where
the servers listen, and what the kubelet enforces (limits, non-root, read-only root, DNS).

Each Pod here runs the product image (`published`) with another command.
"""

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from local_cluster.node_network import BRIDGE, CONTAINMENT_TABLE
from local_cluster.product import Published
from tests.conftest import KubeCluster
from tests.kubectl import Kubectl
from tests.pod_scripts import INSPECT, REACH

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kubectl(kube: KubeCluster) -> Kubectl:
    return Kubectl.of(kube.kubeconfig)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"node-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def image(published: Published) -> str:
    return published.references["company-exports"]


def test_the_node_is_ready_with_containerd(kube: KubeCluster, kubectl: Kubectl) -> None:
    (node,) = kubectl.json("get", "nodes")["items"]
    info = node["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert info["kubeletVersion"] == "v1.37.2"
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
    assert addresses["InternalIP"] == kube.env["NODE_ADDRESS"]


def test_a_pod_reaches_the_cluster_and_the_servers_and_nothing_else(
    kube: KubeCluster, kubectl: Kubectl, namespace: str, image: str
) -> None:
    network = kube.node.network
    database = kube.env["DATABASE_URL"].rsplit("@", 1)[1].split("/", 1)[0]
    s3 = kube.env["S3_ENDPOINT_URL"].removeprefix("http://")
    # Addresses outside the cluster, none of which anything of ours uses: documentation ranges
    # (public, never routed) and a private one. Were containment broken, a packet for them would
    # still reach no real host.
    outside = ["203.0.113.1:80", "198.51.100.1:443", "198.51.100.53:53", "10.255.255.1:443"]
    names = ["kubernetes.default.svc.cluster.local", "example.com"]
    pod = kubectl.run_pod(namespace, image, ["python", "-c", REACH, database, s3, *outside, *names])
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


def test_the_pod_bridge_keeps_its_mac_as_ports_come_and_go(kube: KubeCluster) -> None:
    """Pods cache the gateway's MAC: were it to follow the bridge's lowest port, a Pod's veth
    going would strand every other Pod's connections. Here a port whose MAC is below every other
    (00:00:5e:00:53:01, a documentation MAC; Pods' veths and the bridge's own are locally
    administered, 02:... and up) joins the bridge and leaves it."""
    node = kube.node

    def bridge_mac() -> str:
        shown = subprocess.run(
            node.inside("ip", "-json", "link", "show", BRIDGE),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return str(json.loads(shown.stdout)[0]["address"])

    port = f"macprobe{uuid.uuid4().hex[:4]}"
    assert bridge_mac() == node.network.bridge_mac
    subprocess.run(
        node.inside("ip", "link", "add", port, "address", "00:00:5e:00:53:01", "type", "veth",
                    "peer", "name", f"{port}p"), check=True,
    )  # fmt: skip
    try:
        subprocess.run(node.inside("ip", "link", "set", port, "master", BRIDGE, "up"), check=True)
        assert bridge_mac() == node.network.bridge_mac
    finally:
        subprocess.run(node.inside("ip", "link", "del", port), check=True)
    assert bridge_mac() == node.network.bridge_mac


def test_a_container_over_its_memory_limit_is_oom_killed(
    kube: KubeCluster, kubectl: Kubectl, namespace: str, image: str
) -> None:
    allocate = "data = b'x' * (200 * 2**20); print(len(data))"
    pod = kubectl.run_pod(namespace, image, ["python", "-c", allocate], memory="64Mi")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)


def test_a_container_runs_as_its_image_user_on_a_read_only_root(
    kube: KubeCluster, kubectl: Kubectl, namespace: str, image: str
) -> None:
    pod = kubectl.run_pod(namespace, image, ["python", "-c", INSPECT])
    uid, _gid, root, _token, _kubeconfig = pod["logs"].split()
    assert (uid, root) == ("65532", "errno-30")  # EROFS: "Read-only file system"
    statuses = pod["status"]["containerStatuses"]
    assert statuses[0]["imageID"].endswith(image.rsplit("@", 1)[1])
