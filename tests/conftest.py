"""Session fixtures: real servers, started once per test session on free ports, stopped at the end.

- `node_network`: the node's network namespace link (see local_cluster.node_network); every server
  below listens on its machine-side address, where the node's Pods reach them.
- `postgres`: PostgreSQL with an empty `exports` database (`.url` is a libpq URL);
  `empty_database`: the URL of a new database on it, for one test.
- `s3`: SeaweedFS's S3 gateway, one private bucket (`.endpoint_url`, keys, `.bucket`, `.client()`).
- `receiver`: an HTTPS webhook receiver (local_cluster.webhook_receiver) on the node link's
  machine-side address, where the node's Pods reach it, and on 127.0.0.1; its CA is the one the
  chart installed by `kube`'s tests trusts; `dispatcher`: starts `export-webhooks` processes
  against `postgres`, trusting that CA.
- `kube`: an OCI registry, etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a real
  node (containerd, kubelet, kube-proxy, CoreDNS); `.kubeconfig` is the admin's, `.env` the
  environment a component of ours needs to reach the servers (REGISTRY: where `install_product`
  pushes the images and the chart; NODE_ADDRESS: where NodePort Services answer).
"""

import logging
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql

from export_database.migrate import migrate
from local_cluster.binaries import ensure_binaries
from local_cluster.control_plane import ControlPlane
from local_cluster.image_program import ImageProgram, shipped_program
from local_cluster.node import Node, clear_node
from local_cluster.node_network import NodeNetwork, create_node_network, remove_node_network
from local_cluster.postgres import Postgres, start_postgres
from local_cluster.process import Launcher, Server, stop_servers_on_termination
from local_cluster.product import Published, publish
from local_cluster.registry import start_registry
from local_cluster.s3 import S3Server, start_s3
from local_cluster.stack import StackEnvironment, start_kubernetes
from local_cluster.webhook_receiver import Receiver, receiver_pki, running_receiver

log = logging.getLogger(__name__)
# Webhook retries fast enough that a test sees several attempts in seconds.
FAST_WEBHOOKS = {
    "WEBHOOK_BACKOFF_SECONDS": "0.2",
    "WEBHOOK_BACKOFF_MAX_SECONDS": "0.5",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "WEBHOOK_POLL_SECONDS": "0.2",
    "METRICS_PORT": "0",
}
Dispatch = Callable[..., Server]


@dataclass
class KubeCluster:
    control_plane: ControlPlane
    node: Node
    env: dict[str, str]
    logs: Path

    @property
    def kubeconfig(self) -> Path:
        return self.control_plane.admin_kubeconfig


@pytest.fixture(scope="session")
def servers_root() -> Iterator[Path]:
    """A folder for the servers' state and logs; kept (and printed) when the session fails."""
    root = Path(tempfile.mkdtemp(prefix="company-exports-tests-"))
    root.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its data folder
    yield root
    if os.environ.get("KEEP_TEST_SERVERS_ROOT") != "1":
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def held_node_network() -> Iterator[NodeNetwork]:
    """A node network in a free slot for the block, removed at its end."""
    network = create_node_network()
    try:
        yield network
    finally:
        remove_node_network(network)


@pytest.fixture(scope="session")
def node_network() -> Iterator[NodeNetwork]:
    with held_node_network() as network:
        yield network


@pytest.fixture(scope="session")
def postgres(servers_root: Path, node_network: NodeNetwork) -> Iterator[Postgres]:
    launcher = Launcher(servers_root / "logs")
    try:
        yield start_postgres(
            launcher,
            servers_root / "postgres" / "data",
            host=node_network.host_address,
            clients=node_network.link_cidr,
        )
    finally:
        launcher.stop_all()


@pytest.fixture
def empty_database(postgres: Postgres) -> Iterator[str]:
    """The URL of a new database that nothing else uses; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin_url = postgres.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def s3(servers_root: Path, node_network: NodeNetwork) -> Iterator[S3Server]:
    launcher = Launcher(servers_root / "logs")
    try:
        yield start_s3(launcher, servers_root / "s3", host=node_network.host_address)
    finally:
        launcher.stop_all()


@pytest.fixture(scope="session")
def kube(
    servers_root: Path, node_network: NodeNetwork, postgres: Postgres, s3: S3Server
) -> Iterator[KubeCluster]:
    launcher = Launcher(servers_root / "logs")
    root = servers_root / "kubernetes"
    try:
        registry = start_registry(
            launcher, servers_root / "registry", host=node_network.host_address
        )
        control_plane, node = start_kubernetes(launcher, root, node_network, registry.address)
        env = StackEnvironment(
            KUBECONFIG=str(control_plane.admin_kubeconfig),
            DATABASE_URL=postgres.url,
            S3_ENDPOINT_URL=s3.endpoint_url,
            AWS_ACCESS_KEY_ID=s3.access_key,
            AWS_SECRET_ACCESS_KEY=s3.secret_key,
            AWS_DEFAULT_REGION=s3.region,
            EXPORT_BUCKET=s3.bucket,
            REGISTRY=registry.address,
            NODE_ADDRESS=node_network.node_address,
            HOST_ADDRESS=node_network.host_address,
            WEBHOOK_CA_BUNDLE=str(receiver_pki(servers_root / "webhook-receiver").ca_cert),
        )
        yield KubeCluster(control_plane, node, env.as_dict(), servers_root / "logs")
    finally:
        launcher.stop_all()
        clear_node(root / "node")


@pytest.fixture(scope="session")
def app_program() -> Iterator[ImageProgram]:
    """The app image (built, or found by its content hash), its files mounted: for the tests that
    start its programs as processes of this machine (local_cluster.image_program)."""
    with shipped_program(Path(__file__).parents[1], "company-exports", log.info) as program:
        yield program


@pytest.fixture(scope="session")
def published(kube: KubeCluster, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The images built from our Dockerfile and the chart, pushed to the cluster's registry once
    per session (`publish`, as `make up` does)."""
    work_dir = tmp_path_factory.mktemp("publish")
    return publish(ensure_binaries().helm, kube.env["REGISTRY"], work_dir)


def pytest_configure(config: pytest.Config) -> None:
    # The session's servers run in sessions of their own: a run killed by SIGTERM or SIGHUP (a CI
    # job's timeout, a closed terminal) would leave them all running. It ends as Ctrl-C ends it
    # instead, its fixtures' teardowns stopping them.
    stop_servers_on_termination(_end_the_run)


def _end_the_run(signum: int) -> NoReturn:
    pytest.exit(f"stopped by {signal.Signals(signum).name}", returncode=128 + signum)


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here rather than in tests/kind/conftest.py: pytest knows a sub-folder's options only when
    # that folder is named on the command line, and `pytest --kind` should work from the root.
    parser.addoption(
        "--kind",
        action="store_true",
        default=False,
        help="also run tests/kind: build the images, load them into a kind cluster, install the "
        "chart and run the export flow there (needs Docker, kind and the 'kind' extra)",
    )


_FIGURES: list[str] = []


@pytest.fixture(scope="session")
def figures() -> list[str]:
    """Measurements a test reports (`figures.append("what: value")`), printed after the run."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def receiver(servers_root: Path, node_network: NodeNetwork) -> Iterator[Receiver]:
    pki = receiver_pki(servers_root / "webhook-receiver")
    with running_receiver(pki, (node_network.host_address, "127.0.0.1")) as receiver:
        yield receiver


@pytest.fixture
def dispatcher(postgres: Postgres, receiver: Receiver, tmp_path: Path) -> Iterator[Dispatch]:
    """Starts `export-webhooks` processes (stopped after the test) on the migrated database:
    `allowed` networks besides public ones (default: the receiver's address), more settings as
    keyword arguments."""
    migrate(postgres.url)
    launcher = Launcher(tmp_path / "logs")

    def start(allowed: str = f"{receiver.host}/32", **settings: str) -> Server:
        env = {
            "DATABASE_URL": postgres.url,
            "WEBHOOK_CA_BUNDLE": str(receiver.ca_cert),
            "WEBHOOK_ALLOWED_NETWORKS": allowed,
            **FAST_WEBHOOKS,
            **settings,
        }
        program = Path(sys.executable).parent / "export-webhooks"
        return launcher.start(f"dispatcher-{len(launcher.servers)}", [program], env=env)

    yield start
    launcher.stop_all()
