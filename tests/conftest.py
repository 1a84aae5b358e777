"""Session fixtures: real servers, started once per test session on free ports, stopped at the end.

- `postgres`: PostgreSQL with an empty `exports` database (`.url` is a libpq URL);
  `empty_database`: the URL of a new database on it, for one test.
- `s3`: SeaweedFS's S3 gateway, one private bucket (`.endpoint_url`, keys, `.bucket`, `.client()`).
- `kube`: etcd, kube-apiserver, kube-controller-manager, the test node agent and an OCI registry;
  `.kubeconfig` is the admin's, `.env` the environment a component of ours needs to reach the
  servers (REGISTRY: where `install_product` pushes the images and the chart).
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from local_cluster.control_plane import ControlPlane
from local_cluster.postgres import Postgres, start_postgres
from local_cluster.process import Launcher
from local_cluster.registry import start_registry
from local_cluster.s3 import S3Server, start_s3
from local_cluster.stack import StackEnvironment, start_kubernetes


@dataclass
class KubeCluster:
    control_plane: ControlPlane
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


@pytest.fixture(scope="session")
def postgres(servers_root: Path) -> Iterator[Postgres]:
    launcher = Launcher(servers_root / "logs")
    try:
        yield start_postgres(launcher, servers_root / "postgres" / "data")
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
def s3(servers_root: Path) -> Iterator[S3Server]:
    launcher = Launcher(servers_root / "logs")
    try:
        yield start_s3(launcher, servers_root / "s3")
    finally:
        launcher.stop_all()


@pytest.fixture(scope="session")
def kube(servers_root: Path, postgres: Postgres, s3: S3Server) -> Iterator[KubeCluster]:
    launcher = Launcher(servers_root / "logs")
    try:
        control_plane = start_kubernetes(launcher, servers_root / "kubernetes")
        registry = start_registry(launcher, servers_root / "registry")
        env = StackEnvironment(
            KUBECONFIG=str(control_plane.admin_kubeconfig),
            DATABASE_URL=postgres.url,
            S3_ENDPOINT_URL=s3.endpoint_url,
            AWS_ACCESS_KEY_ID=s3.access_key,
            AWS_SECRET_ACCESS_KEY=s3.secret_key,
            AWS_DEFAULT_REGION=s3.region,
            EXPORT_BUCKET=s3.bucket,
            REGISTRY=registry.address,
        )
        yield KubeCluster(control_plane, env.as_dict(), servers_root / "logs")
    finally:
        launcher.stop_all()


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
