"""The product installed with its chart (as `make up` installs it), attacked through its API.

One installation serves every test of this folder; it is uninstalled at the end, so the chart's own
tests find the namespace as a fresh cluster would have it. Each test that spends a rate limit takes
spaces of its own (`new_space`): a space's budget is its own, so tests never wait for each other.
"""

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from kubernetes import client, config

from export_api.admin import create_space, issue_key
from export_api.auth import Scope
from export_database.generate import generate_companies
from local_cluster.binaries import ensure_binaries
from local_cluster.product import NAMESPACE, RELEASE, install_product
from tests.chart.conftest import Helm
from tests.conftest import KubeCluster
from tests.export_polling import wait_for_export as poll_export

EXPORTS = "/public-api/v1/companies/exports"
COMPANIES = "/public-api/v1/companies"
# The seed's example day; spaces of new_space have companies on it (UTC, to keep sums simple).
ONE_DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}
EXPORT_TIMEOUT_SECONDS = 120


@dataclass
class Product:
    kube: KubeCluster
    api_url: str
    database_url: str
    # Every API key this session issued: none may ever show up in a log or an object.
    issued_keys: list[str] = field(default_factory=list)
    # Keys sent and refused (a real prefix, a wrong secret): not to be logged either.
    refused_keys: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return self.issued_keys + self.refused_keys

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30, **options)

    def metric(self, name: str) -> float:
        """A gauge of the API process from its /metrics (process_* of prometheus_client)."""
        text = httpx.get(f"{self.api_url}/metrics", timeout=10).text
        found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        assert found, f"{name} is not in /metrics"
        return float(found[1])


@dataclass(frozen=True)
class Space:
    id: int
    token: str  # exports:read and exports:write
    companies: int


@pytest.fixture(scope="package")
def product(kube: KubeCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    stack_root = tmp_path_factory.mktemp("abuse-stack")
    added = install_product(stack_root, kube.env)
    installed = Product(kube, added["API_URL"], kube.env["DATABASE_URL"], [added["API_KEY"]])
    yield installed
    _delete_every_export(kube)
    Helm(ensure_binaries().helm).run(
        "uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", kubeconfig=kube.kubeconfig
    )


@pytest.fixture(scope="package")
def new_space(product: Product) -> Callable[..., Space]:
    """Makes a space (UTC, fresh rate-limit budgets, a few companies on ONE_DAY) with a key."""

    def make(companies: int = 50, scopes: tuple[Scope, ...] = tuple(Scope)) -> Space:
        with psycopg.connect(product.database_url, autocommit=True) as conn:
            space_id = create_space(conn, "abuse test space", "UTC")
            generate_companies(
                conn, space_id, companies, first_instant=datetime(2024, 1, 15, tzinfo=UTC),
                spread=timedelta(days=1),
            )  # fmt: skip
            _, token = issue_key(conn, space_id, list(scopes))
        product.issued_keys.append(token)
        return Space(space_id, token, companies)

    return make


def wait_for_export(api: httpx.Client, export_id: int) -> dict[str, Any]:
    return poll_export(api, export_id, timeout=EXPORT_TIMEOUT_SECONDS, interval=1)


def servers_root(kube: KubeCluster) -> Path:
    """The session's server folder: `logs/` of every server, `kubernetes/node/pods/` of Pods."""
    return kube.logs.parent


def _delete_every_export(kube: KubeCluster, timeout: float = 60) -> None:
    """Deletes this folder's exports while the operator still runs to remove files and Jobs."""
    with config.new_client_from_config(str(kube.kubeconfig)) as admin:
        custom = client.CustomObjectsApi(admin)
        coordinates = ("exports.companies.dev", "v1alpha1", NAMESPACE, "companyexports")
        custom.delete_collection_namespaced_custom_object(*coordinates)
        deadline = time.monotonic() + timeout
        while _listed(custom.list_namespaced_custom_object(*coordinates)):
            assert time.monotonic() < deadline, f"exports still there after {timeout:.0f} s"
            time.sleep(0.5)


def _listed(listing: Any) -> list[Any]:
    items: list[Any] = listing["items"]
    return items
