"""The whole local stack: control plane, a real node, PostgreSQL, S3 and an OCI registry, started
and stopped as one.

`up` returns when every server is ready; the environment a client needs is `Stack.env` and, for
shells, `<root>/stack.env`. The processes outlive the Python process that started them (for
`make up`): `<root>/stack.json` records them so that `down` stops them later.
"""

import json
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from local_cluster.binaries import ensure_binaries
from local_cluster.control_plane import ControlPlane, start_control_plane
from local_cluster.node import Node, clear_node, start_node
from local_cluster.node_network import NodeNetwork, create_node_network, remove_node_network
from local_cluster.node_requirements import check_node_requirements
from local_cluster.pki import create_pki
from local_cluster.postgres import Postgres, start_postgres
from local_cluster.process import Launcher, Server
from local_cluster.registry import Registry, start_registry
from local_cluster.s3 import S3Server, start_s3
from local_cluster.webhook_receiver import receiver_pki


@dataclass(frozen=True)
class StackEnvironment:
    """What a client of the stack needs; the names are the environment variables' names."""

    KUBECONFIG: str
    DATABASE_URL: str
    S3_ENDPOINT_URL: str
    AWS_ACCESS_KEY_ID: str
    AWS_SECRET_ACCESS_KEY: str
    AWS_DEFAULT_REGION: str
    EXPORT_BUCKET: str
    # HOST:PORT of the stack's OCI registry (images and the chart).
    REGISTRY: str
    # The node's InternalIP, where NodePort Services answer (the API's, on the local stack).
    NODE_ADDRESS: str
    # The machine's address on the node's link: the stack's servers listen here, and so does a
    # webhook receiver that the dispatcher's Pod should reach (the chart allows this address).
    HOST_ADDRESS: str
    # The CA of such receivers (local_cluster.webhook_receiver), which the dispatcher trusts.
    WEBHOOK_CA_BUNDLE: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def as_shell(self) -> str:
        return "".join(
            f"export {key}={shlex.quote(value)}\n" for key, value in asdict(self).items()
        )


@dataclass
class Stack:
    root: Path
    launcher: Launcher
    control_plane: ControlPlane
    node: Node
    postgres: Postgres
    s3: S3Server
    registry: Registry
    started_in_seconds: float

    @property
    def env(self) -> StackEnvironment:
        return StackEnvironment(
            KUBECONFIG=str(self.control_plane.admin_kubeconfig),
            DATABASE_URL=self.postgres.url,
            S3_ENDPOINT_URL=self.s3.endpoint_url,
            AWS_ACCESS_KEY_ID=self.s3.access_key,
            AWS_SECRET_ACCESS_KEY=self.s3.secret_key,
            AWS_DEFAULT_REGION=self.s3.region,
            EXPORT_BUCKET=self.s3.bucket,
            REGISTRY=self.registry.address,
            NODE_ADDRESS=self.node.network.node_address,
            HOST_ADDRESS=self.node.network.host_address,
            WEBHOOK_CA_BUNDLE=str(receiver_pki(receiver_folder(self.root)).ca_cert),
        )

    def stop(self) -> None:
        self.launcher.stop_all()
        _clear_machine(self.root)
        (self.root / "stack.json").unlink(missing_ok=True)


def up(root: Path) -> Stack:
    """Starts everything under `root`, which keeps data, certificates and identities between runs.

    On any failure, stops whatever had started, removes what it set up on the machine and
    re-raises: nothing is left running.
    """
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    launcher = Launcher(root / "logs")
    check_node_requirements()
    # The slot of the last run, so the node keeps its addresses (and its Node object its IP).
    last_slot = root / "last-slot"
    network = create_node_network(int(last_slot.read_text()) if last_slot.exists() else None)
    last_slot.write_text(str(network.slot))
    network.save(root / "network.json")
    host = network.host_address
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            # PostgreSQL and S3 start while Kubernetes does; each takes seconds. The node pulls
            # its sandbox image from the registry, so that one comes first.
            postgres_started = pool.submit(
                start_postgres,
                launcher,
                root / "postgres" / "data",
                host=host,
                clients=network.link_cidr,
            )
            s3_started = pool.submit(start_s3, launcher, root / "s3", host=host)
            registry = start_registry(launcher, root / "registry", host=host)
            control_plane, node = start_kubernetes(launcher, root, network, registry.address)
            postgres, s3 = postgres_started.result(), s3_started.result()
    except BaseException:
        launcher.stop_all()
        _clear_machine(root)
        raise
    elapsed = time.monotonic() - started
    stack = Stack(root, launcher, control_plane, node, postgres, s3, registry, elapsed)
    _record(stack)
    return stack


def start_kubernetes(
    launcher: Launcher, root: Path, network: NodeNetwork, registry: str
) -> tuple[ControlPlane, Node]:
    """The control plane and the node, with state under `root`; the node pulls from `registry`."""
    binaries = ensure_binaries()
    control_plane = start_control_plane(launcher, binaries, create_pki(root / "pki"), network, root)
    return control_plane, start_node(launcher, binaries, control_plane, registry, root / "node")


def recorded_servers(root: Path) -> list[Server]:
    """The servers a previous `up` under `root` started, in the order they started."""
    record = root / "stack.json"
    if not record.exists():
        return []
    return [
        Server(entry["name"], entry["pid"], Path(entry["log_path"]))
        for entry in json.loads(record.read_text())["servers"]
    ]


def down(root: Path) -> list[str]:
    """Stops what `up` recorded under `root`; returns the names of the servers it stopped."""
    servers = recorded_servers(root)
    for server in reversed(servers):
        server.stop()
    _clear_machine(root)
    (root / "stack.json").unlink(missing_ok=True)
    return [server.name for server in servers]


def _clear_machine(root: Path) -> None:
    """What the node left on the machine (containers, cgroups), then its network."""
    clear_node(root / "node")
    recorded = root / "network.json"
    if recorded.exists():
        remove_node_network(NodeNetwork.load(recorded))
        recorded.unlink()


def receiver_folder(root: Path) -> Path:
    """Where the CA of the stack's webhook receivers lives (the chart's dispatcher trusts it)."""
    return root / "webhook-receiver"


def host_address(root: Path) -> str:
    """The machine's address on the node's link of the stack under `root`."""
    return NodeNetwork.load(root / "network.json").host_address


def env_file(root: Path) -> Path:
    """The shell environment of the stack under `root`, for `source`."""
    return root / "stack.env"


def _record(stack: Stack) -> None:
    servers = [
        {"name": server.name, "pid": server.pid, "log_path": str(server.log_path)}
        for server in stack.launcher.servers
    ]
    (stack.root / "stack.json").write_text(json.dumps({"servers": servers}, indent=2))
    path = env_file(stack.root)
    path.write_text(stack.env.as_shell())
    path.chmod(0o600)
