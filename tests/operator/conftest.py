"""Fixtures of the operator's tests: sample objects, and a namespace with an operator."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from kubernetes import client, config
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from export_contracts.resource import CompanyExportSpec
from export_database.generate import create_space, generate_companies
from export_database.migrate import migrate
from export_operator.jobs import Owner
from export_operator.settings import OperatorSettings
from local_cluster.image_program import ImageProgram
from local_cluster.product import Published
from tests.kubectl import Kubectl
from tests.operator.operator_harness import CRD_FILE, EXPORTER_IMAGE, PEERING_CRD_FILE, Harness


@pytest.fixture
def operator_settings() -> OperatorSettings:
    return OperatorSettings(bucket="exports", s3_endpoint_url="http://127.0.0.1:8333")


@pytest.fixture
def spec() -> CompanyExportSpec:
    return CompanyExportSpec.model_validate(
        {
            "exportId": 42,
            "spaceId": 3,
            "requested": {
                "startDate": "2024-01-15 00:00:00",
                "endDate": "2024-01-15 23:59:59",
                "timezone": "Europe/Berlin",
            },
            "range": {"start": "2024-01-14T23:00:00Z", "end": "2024-01-15T23:00:00Z"},
        }
    )


@pytest.fixture
def owner() -> Owner:
    return Owner(namespace="tenant-a", name="export-42", uid="uid-42")


@pytest.fixture(scope="session")
def kube_api(kube: Any) -> ApiClient:
    api: ApiClient = config.new_client_from_config(str(kube.kubeconfig))
    return api


def _install_crd(api: client.ApiextensionsV1Api, manifest: Any) -> None:
    try:
        api.create_custom_resource_definition(manifest)
    except ApiException as error:
        if error.status != 409:
            raise
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        crd = api.read_custom_resource_definition(manifest["metadata"]["name"]).to_dict()
        conditions = crd["status"].get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise AssertionError(f"the CRD {manifest['metadata']['name']} was not Established in 30 s")


@pytest.fixture(scope="session")
def export_crd(kube_api: ApiClient) -> None:
    """The CRDs from crds/ (CompanyExport, kopf's peering), installed and Established."""
    api = client.ApiextensionsV1Api(kube_api)
    for path in (CRD_FILE, PEERING_CRD_FILE):
        for manifest in yaml.safe_load_all(path.read_text()):
            _install_crd(api, manifest)


@pytest.fixture(scope="session")
def exporter_image_on_node(kube: Any, published: Published) -> None:
    """The node holds the exporter image before the first test: the tests give a Pod 8 s to start
    (EXPORT_OPERATOR_STARTUP_TIMEOUT_SECONDS), which a first pull of the image may exceed."""
    image = published.references[EXPORTER_IMAGE]
    pod = Kubectl.of(kube.kubeconfig).run_pod("default", image, ["python", "-c", "pass"])
    assert pod["status"]["phase"] == "Succeeded", pod["status"]


@pytest.fixture
def harness(
    kube: Any,
    kube_api: ApiClient,
    export_crd: None,
    exporter_image_on_node: None,
    published: Published,
    app_program: ImageProgram,
    tmp_path: Path,
) -> Iterator[Harness]:
    """A fresh namespace with the exporter's Secrets; operators started in it stop at the end."""
    harness = Harness(kube, kube_api, published, app_program, tmp_path)
    harness.create_namespace()
    yield harness
    harness.close()


@dataclass(frozen=True)
class CompanySpace:
    """A space with generated companies, all created on the days `first`..`last` (UTC)."""

    space_id: int
    companies: int
    first: date
    last: date


@pytest.fixture(scope="session")
def company_space(postgres: Any) -> CompanySpace:
    """A space with 2,000 companies spread over 30 days, in the database the Jobs' Pods use."""
    migrate(postgres.url)
    first = datetime(2024, 3, 1, tzinfo=UTC)
    with psycopg.connect(postgres.url) as conn:
        space_id = create_space(conn, f"operator-tests-{time.time_ns()}", "UTC")
        count = generate_companies(
            conn, space_id, 2_000, seed=7, first_instant=first, spread=timedelta(days=30)
        )
    return CompanySpace(space_id, count, first.date(), (first + timedelta(days=30)).date())
