"""A real Kubernetes node: containerd (with runc and the CNI plugins), the kubelet, kube-proxy,
CoreDNS and kube-router's NetworkPolicy firewall, running the chart's Pods as containers of the
cluster registry's images.

All of them run in one mount and network namespace of the node's own, held open by a small process
(`node-namespace`). Why, and what it changes on the machine:

- **Network**: see `node_network`. The node's iptables chains, bridge and forwarding stay inside.
- **Mounts**: the namespace has tmpfs over `/run` (containerd's state, runc's, Pod network
  namespaces), `/var/lib` (the kubelet's fixed `/var/lib/kubelet/device-plugins`, the CNI
  plugins' caches) and `/var/log` (the kubelet's `/var/log/containers` links), and the
  kubelet's volume mounts happen there too: all of it disappears with the namespace.
- **Sysctls**: the kubelet sets `vm.overcommit_memory`, `kernel.panic` and
  `kernel.panic_on_oops` for the whole machine when they differ from what it expects; inside the
  namespace, files holding its expected values are mounted over those three, so it finds nothing
  to change.
- **cgroups**: Pods go under `/company-exports-node<slot>` of each cgroup v1 hierarchy.

`clear_node` (after the processes are stopped) kills whatever containers are left and removes
those cgroups; with the network's removal by its creator (`node_network.remove_node_network`),
`make down` leaves the machine as `make up` found it.
"""

import json
import logging
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config
from kubernetes.client import ApiClient

from local_cluster.binaries import Binaries
from local_cluster.control_plane import ControlPlane
from local_cluster.image_build import build_pause_image
from local_cluster.node_config import (
    COREDNS_READY_PORT,
    KUBE_PROXY_HEALTH_PORT,
    NODE_NAME,
    cgroup_root,
    cni_config,
    containerd_config,
    corefile,
    kube_proxy_config,
    kubelet_config,
    registry_hosts,
)
from local_cluster.node_network import NodeNetwork, attach_node
from local_cluster.pki import issue_certificate
from local_cluster.process import Launcher, Server, pids_in_mount_namespace
from local_cluster.registry import push_image

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
# What the kubelet expects of these machine-wide sysctls; it finds them so inside the namespace.
MASKED_SYSCTLS = {"vm/overcommit_memory": "1", "kernel/panic": "10", "kernel/panic_on_oops": "1"}
NODE_READY_TIMEOUT_SECONDS = 120
# What containerd's CRI logs last before it answers (after recovering its containers).
CRI_READY_LOG_LINE = "Start streaming server"
HIDDEN_IN_NAMESPACE = ("/run", "/var/lib", "/var/log")
# What CoreDNS's kubernetes plugin and kube-router's firewall read (API group -> resources).
DNS_READS = {"": ["services", "pods", "namespaces"], "discovery.k8s.io": ["endpointslices"]}
POLICY_FIREWALL_READS = {
    "": ["nodes", "pods", "namespaces", "services", "endpoints"],
    "discovery.k8s.io": ["endpointslices"],
    "networking.k8s.io": ["networkpolicies"],
}
# The chain kube-router adds to FORWARD once its firewall is in place.
POLICY_CHAIN = "KUBE-ROUTER-FORWARD"
NAMESPACE_SCRIPT = """set -e
mount -t tmpfs -o mode=0755 node-run /run
mount -t tmpfs -o mode=0755 node-var-lib /var/lib
mount -t tmpfs -o mode=0755 node-var-log /var/log
while [ $# -gt 1 ]; do mount --bind "$1" "/proc/sys/$2"; shift 2; done
touch "$1"
exec sleep infinity
"""


class NodeStartError(RuntimeError):
    """The node could not start; the message names the part and its log."""


@dataclass
class Node:
    network: NodeNetwork
    state_dir: Path
    namespace: Server
    servers: list[Server]

    def inside(self, *command: str) -> list[str]:
        """`command` run in the node's namespaces (where `ip` or `nft` see the node's network)."""
        return [*_inside(self.namespace.pid), *command]

    def container_pids(self, container_id: str) -> list[int]:
        """The processes of one container (its id as the Pod's status gives it, without
        `containerd://`), from its cgroup."""
        root = CGROUP_ROOT / "memory" / cgroup_root(self.network).lstrip("/")
        return [
            int(pid)
            for procs in root.glob(f"**/{container_id}/cgroup.procs")
            for pid in procs.read_text().split()
        ]


def start_node(
    launcher: Launcher,
    binaries: Binaries,
    control_plane: ControlPlane,
    registry: str,
    state_dir: Path,
) -> Node:
    """Starts the node's parts in order; returns once the Node is Ready and DNS answers."""
    network = control_plane.network
    if any(state_dir.resolve().is_relative_to(hidden) for hidden in HIDDEN_IN_NAMESPACE):
        raise NodeStartError(
            f"the node's state folder {state_dir} may not be under {', '.join(HIDDEN_IN_NAMESPACE)}"
            " (the node's namespace mounts tmpfs over them): choose another stack folder"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    sandbox_image = _publish_pause_image(binaries, registry)
    namespace = _start_namespace(launcher, state_dir)
    _record(state_dir, network, namespace)
    attach_node(network, namespace.pid)
    inside = _inside(namespace.pid)
    _create_cgroup_root(network)
    containerd = launcher.start(
        "containerd",
        [*inside, "containerd", "--config", _write_containerd_config(state_dir, network, registry,
                                                                     sandbox_image)],
    )  # fmt: skip
    # containerd answers its own API once its socket exists, but its CRI, which the kubelet uses,
    # only after recovering the node's earlier containers (~0.2 s with a few dozen), and a
    # kubelet that asks before exits ("server is not initialized yet"). This line is the CRI's
    # last step before it answers.
    containerd.wait_until(lambda: containerd.has_logged(CRI_READY_LOG_LINE), timeout=30)
    admin = config.new_client_from_config(str(control_plane.admin_kubeconfig))
    api = client.CoreV1Api(admin)
    parts = _Parts(launcher, binaries, control_plane, state_dir, inside, admin)
    _forget_earlier_node(api)
    kubelet = parts.start_kubelet()
    coredns = parts.start_coredns()
    kubelet.wait_until(lambda: _node_is_ready(api), timeout=NODE_READY_TIMEOUT_SECONDS)
    # kube-proxy and kube-router read the Node once, at start: only the registered one will do.
    kube_proxy = parts.start_kube_proxy()
    firewall = parts.start_policy_firewall()
    kube_proxy.wait_until(
        lambda: _http_ok(f"http://{network.node_address}:{KUBE_PROXY_HEALTH_PORT}/healthz"), 60
    )
    coredns.wait_until(
        lambda: _http_ok(f"http://{network.node_address}:{COREDNS_READY_PORT}/ready"), 60
    )
    firewall.wait_until(lambda: _has_chain(inside, POLICY_CHAIN), 60)
    servers = [containerd, kubelet, kube_proxy, coredns, firewall]
    return Node(network, state_dir, namespace, servers)


def clear_node(state_dir: Path) -> None:
    """Removes what a node under `state_dir` left on the machine once its processes are stopped
    (or killed): containers and shims, cgroups. Idempotent. The network is its creator's to
    remove (`remove_node_network`), as it outlives the node between its start and stop."""
    record = state_dir / "node.json"
    if not record.exists():
        return
    recorded = json.loads(record.read_text())
    _kill_namespace(recorded["mount_namespace"])
    _remove_cgroup_root(NodeNetwork(recorded["slot"]))
    record.unlink()


def _start_namespace(launcher: Launcher, state_dir: Path) -> Server:
    masks: list[str] = []
    for name, value in MASKED_SYSCTLS.items():
        holder = state_dir / "sysctl" / name.replace("/", ".")
        holder.parent.mkdir(exist_ok=True)
        holder.write_text(f"{value}\n")
        masks += [str(holder), name]
    ready = state_dir / "namespace.ready"
    ready.unlink(missing_ok=True)
    server = launcher.start(
        "node-namespace",
        ["unshare", "--mount", "--net", "--propagation", "slave", "--", "sh", "-c",
         NAMESPACE_SCRIPT, "node-namespace", *masks, str(ready)],
    )  # fmt: skip
    server.wait_until(ready.exists, timeout=10)
    return server


def _record(state_dir: Path, network: NodeNetwork, namespace: Server) -> None:
    """What `clear_node` needs later, from another process (`make down`)."""
    mount_namespace = str(Path(f"/proc/{namespace.pid}/ns/mnt").readlink())
    (state_dir / "node.json").write_text(
        json.dumps({"slot": network.slot, "mount_namespace": mount_namespace})
    )


def _publish_pause_image(binaries: Binaries, registry: str) -> str:
    image = build_pause_image(binaries.pause, log.info)
    return push_image(registry, image.local_ref, image.name, image.tag)


def _write_containerd_config(
    state_dir: Path, network: NodeNetwork, registry: str, sandbox_image: str
) -> Path:
    folder = state_dir / "containerd"
    hosts = folder / "certs.d" / registry
    hosts.mkdir(parents=True, exist_ok=True)
    (hosts / "hosts.toml").write_text(registry_hosts(registry))
    cni = state_dir / "cni"
    (cni / "net.d").mkdir(parents=True, exist_ok=True)
    (cni / "net.d" / "10-company-exports.conflist").write_text(
        cni_config(network, str(cni / "networks"))
    )
    path = folder / "config.toml"
    path.write_text(
        containerd_config(str(folder), str(cni / "net.d"), str(folder / "certs.d"), sandbox_image)
    )
    return path


@dataclass
class _Parts:
    """What starting each part of the node takes: where to log, the binaries, the control plane
    (certificates, kubeconfigs, RBAC), the node's state folder, and the `nsenter` prefix that runs
    a command in the node's namespaces."""

    launcher: Launcher
    binaries: Binaries
    control_plane: ControlPlane
    state_dir: Path
    inside: list[str]
    admin: ApiClient

    def start_kubelet(self) -> Server:
        network, pki = self.control_plane.network, self.control_plane.pki
        serving = issue_certificate(
            pki, "kubelet", f"system:node:{NODE_NAME}", "system:nodes",
            addresses=(network.node_address,), dns_names=(NODE_NAME,),
        )  # fmt: skip
        kubeconfig = self.control_plane.kubeconfig_for(
            "kubelet-client", f"system:node:{NODE_NAME}", "system:nodes"
        )
        resolv_conf = self.state_dir / "resolv.conf"
        resolv_conf.write_text("")  # Pods on the host's DNS policy get no outside resolver either
        settings = self.state_dir / "kubelet.json"
        settings.write_text(
            kubelet_config(network, str(pki.ca_cert), str(serving.cert), str(serving.key),
                           str(self.state_dir / "pod-logs"), str(resolv_conf))
        )  # fmt: skip
        return self.launcher.start(
            "kubelet",
            [*self.inside, self.binaries.kubelet, f"--config={settings}",
             f"--kubeconfig={kubeconfig}", f"--hostname-override={NODE_NAME}",
             f"--node-ip={network.node_address}", f"--root-dir={self.state_dir / 'kubelet'}",
             "--v=1"],
        )  # fmt: skip

    def start_kube_proxy(self) -> Server:
        kubeconfig = self.control_plane.kubeconfig_for("kube-proxy", "system:kube-proxy")
        settings = self.state_dir / "kube-proxy.json"
        settings.write_text(kube_proxy_config(self.control_plane.network, str(kubeconfig)))
        return self.launcher.start(
            "kube-proxy", [*self.inside, self.binaries.kube_proxy, f"--config={settings}", "--v=1"]
        )

    def start_coredns(self) -> Server:
        self.grant_reader("system:coredns", DNS_READS)
        kubeconfig = self.control_plane.kubeconfig_for("coredns", "system:coredns")
        path = self.state_dir / "Corefile"
        path.write_text(corefile(self.control_plane.network, str(kubeconfig)))
        return self.launcher.start(
            "coredns", [*self.inside, self.binaries.coredns, "-conf", str(path)]
        )

    def start_policy_firewall(self) -> Server:
        """kube-router's NetworkPolicy firewall alone (no routing, no service proxy: kube-proxy
        and the bridge do those). It filters bridged Pod traffic, which `bridge-nf-call-iptables`
        in the node's namespace hands to iptables. No health port: it would listen on every
        address."""
        self.grant_reader("system:kube-router", POLICY_FIREWALL_READS)
        kubeconfig = self.control_plane.kubeconfig_for("kube-router", "system:kube-router")
        service_cidr = self.control_plane.network.service_cidr
        return self.launcher.start(
            "kube-router",
            [*self.inside, self.binaries.kube_router, f"--kubeconfig={kubeconfig}",
             f"--hostname-override={NODE_NAME}", "--run-firewall=true", "--run-router=false",
             "--run-service-proxy=false", f"--service-cluster-ip-range={service_cidr}",
             "--service-node-port-range=30000-32767", "--health-port=0", "--metrics-port=0"],
            env={"NODE_NAME": NODE_NAME},
        )  # fmt: skip

    def grant_reader(self, user: str, reads: dict[str, list[str]]) -> None:
        """A ClusterRole of get, list and watch on `reads` (API group -> resources), bound to
        `user`."""
        rbac = client.RbacAuthorizationV1Api(self.admin)
        role = client.V1ClusterRole(
            metadata=client.V1ObjectMeta(name=user),
            rules=[
                client.V1PolicyRule(
                    api_groups=[group], resources=resources, verbs=["get", "list", "watch"]
                )
                for group, resources in reads.items()
            ],
        )
        binding = client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=user),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=user
            ),
            subjects=[
                client.RbacV1Subject(kind="User", name=user, api_group="rbac.authorization.k8s.io")
            ],
        )
        for create in (
            lambda: rbac.create_cluster_role(role),
            lambda: rbac.create_cluster_role_binding(binding),
        ):
            try:
                create()
            except client.ApiException as error:
                if error.status != 409:  # a restarted stack has them already
                    raise


def _hierarchies() -> list[Path]:
    """The cgroup hierarchies: v1's, and v2's `unified` (no controllers here, but the kubelet
    creates its cgroup root there too)."""
    return [
        folder
        for folder in sorted(CGROUP_ROOT.iterdir())
        if folder.is_dir() and not folder.is_symlink()
    ]


def _create_cgroup_root(network: NodeNetwork) -> None:
    """The kubelet checks that its cgroup root exists in every hierarchy; cpuset needs its CPUs
    and memory nodes copied from the parent before a process may join."""
    for hierarchy in _hierarchies():
        folder = hierarchy / cgroup_root(network).lstrip("/")
        folder.mkdir(exist_ok=True)
        for setting in ("cpuset.cpus", "cpuset.mems"):
            if (hierarchy / setting).exists():
                (folder / setting).write_text((hierarchy / setting).read_text())


def _remove_cgroup_root(network: NodeNetwork) -> None:
    for _ in range(50):
        left = False
        for hierarchy in _hierarchies():
            root = hierarchy / cgroup_root(network).lstrip("/")
            if not root.exists():
                continue
            for folder in sorted(root.glob("**/"), key=lambda path: -len(path.parts)):
                for pid in (folder / "cgroup.procs").read_text().split():
                    with suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                with suppress(OSError):
                    folder.rmdir()
            left = left or root.exists()
        if not left:
            return
        time.sleep(0.1)
    raise NodeStartError(f"cgroups under {cgroup_root(network)} could not be removed")


def _kill_namespace(mount_namespace: str) -> None:
    """SIGKILL to every process left in the node's mount namespace (containerd's shims)."""
    for pid in pids_in_mount_namespace(mount_namespace):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _has_chain(inside: list[str], chain: str) -> bool:
    listed = subprocess.run([*inside, "iptables", "-S", chain], capture_output=True, check=False)
    return listed.returncode == 0


def _inside(namespace_pid: int) -> list[str]:
    return ["nsenter", "--target", str(namespace_pid), "--mount", "--net", "--"]


def _forget_earlier_node(api: client.CoreV1Api) -> None:
    """A restarted stack's Node object may hold another address; the kubelet registers anew
    (and the Pods bound to the old object are recreated by their controllers)."""
    try:
        api.delete_node(NODE_NAME)
    except client.ApiException as error:
        if error.status != 404:
            raise


def _node_is_ready(api: client.CoreV1Api) -> bool:
    node = api.read_node(NODE_NAME)
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
        return bool(response.status == 200)
