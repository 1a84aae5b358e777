"""The node's network: a network namespace of its own, joined to the machine by one veth pair.

Everything Kubernetes does to a network (the Pod bridge, kube-proxy's and the kubelet's iptables
chains, `ip_forward`, the CNI plugins' NAT) happens inside the node's namespace, so the machine's
own rules, routes and sysctls stay as they were, and two clusters (`make up` beside `make test`)
never meet. Each cluster takes a free *slot* N (the kernel allocates it: creating the veth whose
name carries N fails when another cluster holds it) and uses:

    10.200.N.1/30  the machine's end of the link: kube-apiserver, PostgreSQL, S3 and the registry
                   listen here (and PostgreSQL on 127.0.0.1 too), never on 0.0.0.0
    10.200.N.2/30  the node's end: the node's InternalIP (kubelet, NodePorts)
    10.201.0.0/24  Pods, on the bridge `cni0`; 10.201.0.1 is the bridge and the cluster DNS
    10.202.0.0/24  Services (10.202.0.1 is `kubernetes.default`)

The Pod and Service ranges exist only inside each node's namespace, so every cluster has the same
ones: a restarted stack that gets another slot keeps its Services' addresses (stored in etcd).

Containment: the node's namespace has no default route, so a Pod reaches only the cluster's own
CIDRs and the machine's end of the link; a forward rule drops anything else a Pod sends, and the
machine holds `unreachable` routes for the link and the Pod and Service ranges (one per cluster,
told apart by their metric), so no packet for them can leave through the machine's default route:
not even once the node's namespace is gone, which takes the whole veth pair, the machine's end and
its address too, with it (a client still dialling 10.200.N.1 then hears "no route to host").
The link is the slot's lock, so a slot whose link is gone is free: the next cluster to take it
takes over the routes a killed run left there, and a holder whose link went first tears down
nothing of a cluster that has taken the slot since (the link's kernel index tells them apart).
"""

import ipaddress
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

SLOTS = range(256)
BRIDGE = "cni0"
NODE_LINK = "uplink"
CONTAINMENT_TABLE = "company_exports_containment"
POD_CIDR = "10.201.0.0/24"
SERVICE_CIDR = "10.202.0.0/24"
ROUTE_METRIC_BASE = 4000


class NodeNetworkError(RuntimeError):
    """The node's network could not be set up; the message says what to check."""


@dataclass(frozen=True)
class NodeNetwork:
    slot: int
    # The kernel's index of the machine's end of the link: which link of the slot's name is ours
    # once our node's namespace has taken the link with it and another cluster has the slot
    # (None in a record written before it was kept: the link of the slot's name is taken for ours).
    link_index: int | None = None

    @property
    def host_link(self) -> str:
        """The machine's end of the veth pair (its name is the slot's lock)."""
        return f"cexp{self.slot}"

    @property
    def host_address(self) -> str:
        return f"10.200.{self.slot}.1"

    @property
    def node_address(self) -> str:
        return f"10.200.{self.slot}.2"

    @property
    def link_cidr(self) -> str:
        return f"10.200.{self.slot}.0/30"

    @property
    def pod_cidr(self) -> str:
        return POD_CIDR

    @property
    def pod_gateway(self) -> str:
        """The bridge's address: the Pods' default gateway, and where cluster DNS answers."""
        return str(ipaddress.ip_network(POD_CIDR)[1])

    @property
    def bridge_mac(self) -> str:
        """The bridge's fixed, locally administered MAC: 02:00 and the gateway's four octets."""
        octets = ipaddress.ip_address(self.pod_gateway).packed
        return ":".join(f"{byte:02x}" for byte in (2, 0, *octets))

    @property
    def service_cidr(self) -> str:
        return SERVICE_CIDR

    @property
    def contained_cidrs(self) -> tuple[str, str, str]:
        """What the machine's unreachable routes cover: the link, the Pods and the Services."""
        return (self.link_cidr, self.pod_cidr, self.service_cidr)

    @property
    def route_metric(self) -> str:
        """This cluster's metric on the machine's unreachable routes (others have their own)."""
        return str(ROUTE_METRIC_BASE + self.slot)

    @property
    def kubernetes_service_address(self) -> str:
        return str(ipaddress.ip_network(self.service_cidr)[1])

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> "NodeNetwork":
        return cls(**json.loads(path.read_text()))


def create_node_network(preferred: int | None = None) -> NodeNetwork:
    """Takes the `preferred` slot when free (a restarted stack keeps its addresses), else the
    first free one: its veth pair and the machine's unreachable routes."""
    order = [preferred] if preferred in SLOTS else []
    for slot in [*order, *SLOTS]:
        network = NodeNetwork(slot)
        created = subprocess.run(
            ["ip", "link", "add", network.host_link, "type", "veth", "peer", "name",
             f"{network.host_link}n"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if created.returncode == 0:
            break
        if "File exists" not in created.stderr:
            raise NodeNetworkError(
                f"cannot create a veth link ({created.stderr.strip()}): the real node needs root "
                "and veth support; on a machine without them, use the kind path (see README)"
            )
    else:
        raise NodeNetworkError(f"all {len(SLOTS)} node slots are taken: run `make down` first")
    network = NodeNetwork(network.slot, _link_index(network.host_link))
    try:
        _ip("addr", "add", f"{network.host_address}/30", "dev", network.host_link)
        _ip("link", "set", network.host_link, "up")
        for cidr in network.contained_cidrs:
            # `replace`: a run killed before its teardown leaves its routes behind; the slot's
            # link being ours, no live holder has them, and we take them over.
            _ip("route", "replace", "unreachable", cidr, "metric", network.route_metric)
    except BaseException:
        remove_node_network(network)
        raise
    return network


def attach_node(network: NodeNetwork, namespace_pid: int) -> None:
    """Moves the node's end of the link into the namespace of `namespace_pid` and configures it:
    link address, the Pod bridge, forwarding inside the namespace only, the containment rule."""
    _ip("link", "set", f"{network.host_link}n", "netns", str(namespace_pid))
    inside = ["nsenter", "--target", str(namespace_pid), "--net", "--"]
    for command in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", f"{network.host_link}n", "name", NODE_LINK],
        ["ip", "addr", "add", f"{network.node_address}/30", "dev", NODE_LINK],
        ["ip", "link", "set", NODE_LINK, "up"],
        # A bridge without a MAC of its own takes the lowest of its ports' and changes it when
        # that Pod's veth goes: the other Pods' cached gateway MAC then names no one, their
        # frames are flooded instead of routed, and their connections hang until ARP expires
        # (~1 export in 10 stalled ~30 s). A MAC set at creation never changes.
        ["ip", "link", "add", BRIDGE, "address", network.bridge_mac, "type", "bridge"],
        ["ip", "addr", "add", f"{network.pod_gateway}/24", "dev", BRIDGE],
        ["ip", "link", "set", BRIDGE, "up"],
        ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
        ["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"],
        ["nft", "-f", "-"],
    ):
        _run([*inside, *command], stdin=containment_rules(network) if command[0] == "nft" else "")


def containment_rules(network: NodeNetwork) -> str:
    """The node namespace's forward rule: a Pod's packet goes to the cluster or the machine's end
    of the link, or nowhere."""
    allowed = ", ".join((network.pod_cidr, network.service_cidr, f"{network.host_address}/32"))
    return f"""table ip {CONTAINMENT_TABLE} {{
  chain forward {{
    type filter hook forward priority filter - 10; policy accept;
    ip saddr {network.pod_cidr} ip daddr != {{ {allowed} }} counter drop
  }}
}}
"""


def remove_node_network(network: NodeNetwork) -> None:
    """Deletes what `create_node_network` added to the machine (the namespace's side goes with
    the namespace); tolerates what is gone already.

    When the node's namespace went first (taking the link with it), another cluster may hold the
    slot by now: a link of the slot's name that is not ours means the link and the routes are its
    own, and they stay."""
    index = _link_index(network.host_link)
    if index is not None and network.link_index not in (None, index):
        return
    subprocess.run(["ip", "link", "del", network.host_link], capture_output=True, check=False)
    for cidr in network.contained_cidrs:
        subprocess.run(
            ["ip", "route", "del", "unreachable", cidr, "metric", network.route_metric],
            capture_output=True,
            check=False,
        )


def _link_index(name: str) -> int | None:
    """The kernel's index of the link `name`, or None when there is none."""
    shown = subprocess.run(
        ["ip", "-json", "link", "show", name], capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        return None
    return int(json.loads(shown.stdout)[0]["ifindex"])


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _run(command: list[str], stdin: str = "") -> None:
    completed = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise NodeNetworkError(f"`{' '.join(command)}` failed: {completed.stderr.strip()}")
