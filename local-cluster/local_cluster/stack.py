"""The whole local stack: control plane, node agent, PostgreSQL, S3 and an OCI registry, started
and stopped as one.

`up` returns when every server is ready; the environment a client needs is `Stack.env` and, for
shells, `<root>/stack.env`. The processes outlive the Python process that started them (for
`make up`): `<root>/stack.json` records them so that `down` stops them later.
"""

import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from kubernetes import client, config

from local_cluster.binaries import ensure_binaries
from local_cluster.control_plane import ControlPlane, start_control_plane
from local_cluster.pki import create_pki
from local_cluster.postgres import Postgres, start_postgres
from local_cluster.process import Launcher, Server
from local_cluster.registry import Registry, start_registry
from local_cluster.s3 import S3Server, start_s3

NODE_NAME = "local-node"


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
        )

    def stop(self) -> None:
        self.launcher.stop_all()
        (self.root / "stack.json").unlink(missing_ok=True)


def up(root: Path) -> Stack:
    """Starts everything under `root`, which keeps data, certificates and identities between runs.

    On any failure, stops whatever had started and re-raises: nothing is left running.
    """
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    launcher = Launcher(root / "logs")
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            # PostgreSQL, S3 and the registry start while the control plane does; each takes
            # seconds.
            postgres_started = pool.submit(start_postgres, launcher, root / "postgres" / "data")
            s3_started = pool.submit(start_s3, launcher, root / "s3")
            registry_started = pool.submit(start_registry, launcher, root / "registry")
            control_plane = start_kubernetes(launcher, root)
            postgres, s3 = postgres_started.result(), s3_started.result()
            registry = registry_started.result()
    except BaseException:
        launcher.stop_all()
        raise
    elapsed = time.monotonic() - started
    stack = Stack(root, launcher, control_plane, postgres, s3, registry, elapsed)
    _record(stack)
    return stack


def start_kubernetes(launcher: Launcher, root: Path) -> ControlPlane:
    """etcd, kube-apiserver, kube-controller-manager and the node agent, with state under `root`."""
    pki = create_pki(root / "pki")
    control_plane = start_control_plane(launcher, ensure_binaries(), pki, root)
    start_node_agent(launcher, control_plane.admin_kubeconfig, root / "node")
    return control_plane


def start_node_agent(launcher: Launcher, kubeconfig: Path, work_dir: Path) -> Server:
    """The test node agent (plays kubelet); ready once its Node reports Ready."""
    agent = launcher.start(
        "node-agent",
        [sys.executable, "-m", "local_cluster.node_agent", "--kubeconfig", str(kubeconfig),
         "--node-name", NODE_NAME, "--work-dir", str(work_dir)],
    )  # fmt: skip
    api = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    agent.wait_until(lambda: _node_is_ready(api), timeout=30)
    return agent


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
    (root / "stack.json").unlink(missing_ok=True)
    return [server.name for server in servers]


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


def _node_is_ready(api: client.CoreV1Api) -> bool:
    node = api.read_node(NODE_NAME)
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)
