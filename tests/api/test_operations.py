"""Health, readiness, metrics and the OpenAPI contract of a running API."""

import itertools
import re
import socket
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from kubernetes.client import ApiClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from export_api.openapi import document
from local_cluster.s3 import S3Server
from tests.api.conftest import ApiServer, Space, api_settings, running_api
from tests.conftest import KubeCluster

pytestmark = pytest.mark.integration


def test_healthz(api: ApiServer) -> None:
    with api.client() as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_the_kubernetes_api_and_the_cache(api: ApiServer) -> None:
    with api.client() as http:
        response = http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "kubernetes": "ok", "export_cache": "ok"},
    }


def test_metrics_count_requests_by_route(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        http.get("/public-api/v1/companies/exports")
        text = http.get("/metrics").text
    assert 'export_api_request_duration_seconds_count{code="200",method="GET",' in text
    assert 'route="/public-api/v1/companies/exports"' in text
    # One registry per process, and the tests run several caches in theirs: at least one list.
    lists = re.search(r"^export_api_cache_lists_total (\S+)$", text, re.MULTILINE)
    assert lists is not None
    assert float(lists[1]) >= 1
    assert "export_api_cached_exports " in text


def test_served_document_is_the_contract(api: ApiServer) -> None:
    with api.client() as http:
        assert http.get("/openapi.json").json() == document()


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: ApiServer) -> None:
    with api.client() as http:
        missing = http.get("/public-api/v1/nothing")
        wrong = http.put("/public-api/v1/companies/exports")
    assert missing.status_code == 404
    assert wrong.status_code == 405
    assert set(missing.json()) == set(wrong.json()) == {"error"}


def test_a_database_that_does_not_answer_is_a_503_not_a_500(
    kube: KubeCluster, kube_api: ApiClient, s3: S3Server, space: Space
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"postgresql://api:pw@127.0.0.1:{closed.getsockname()[1]}/exports"
    settings = api_settings(kube, nowhere, s3, database_timeout_seconds=1)
    with running_api(settings, kube_api) as replica, replica.client(space.token) as http:
        polled = http.get("/public-api/v1/companies/exports/1")
        ready = http.get("/readyz")
    assert polled.status_code == 503
    assert polled.headers["Retry-After"] == "5"
    assert polled.json()["error"].startswith("Temporarily unavailable")
    assert polled.headers["X-Request-ID"] in polled.json()["error"]
    # Ready all the same (its cache is synced): a database blip must not empty the Service.
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["database"] == "unavailable"


@pytest.fixture(scope="module")
def roomy_api(
    kube: KubeCluster, kube_api: ApiClient, api_database: str, s3: S3Server
) -> Iterator[ApiServer]:
    """A second replica with limits high enough that fuzzing is not all 429s."""
    limits = {"create_limit": 100_000, "status_limit": 100_000, "list_companies_limit": 100_000}
    with running_api(api_settings(kube, api_database, s3, **limits), kube_api) as api:
        yield api


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_fuzzing_our_own_openapi_finds_no_5xx_and_no_response_off_schema(
    roomy_api: ApiServer, new_space: Callable[..., Space]
) -> None:
    schema = schemathesis.openapi.from_dict(document())
    headers = {"Authorization": f"Bearer {new_space().token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        if mode is schemathesis.GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # nothing to make invalid (health, metrics, readiness)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=roomy_api.base_url, headers=headers, checks=CHECKS)

        call()
