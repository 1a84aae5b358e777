"""Health, readiness, metrics and the OpenAPI contract of a running API."""

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from export_api.openapi import document
from hypothesis import HealthCheck, settings
from local_cluster.s3 import S3Server
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ApiServer, Space, api_settings, serve, stop
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


@pytest.fixture(scope="module")
def roomy_api(
    kube: KubeCluster, kube_api: object, api_database: str, s3: S3Server
) -> Iterator[ApiServer]:
    """A second replica with limits high enough that fuzzing is not all 429s."""
    limits = {"create_limit": 100_000, "status_limit": 100_000, "list_companies_limit": 100_000}
    settings = api_settings(kube, api_database, s3, **limits)
    server, thread, base_url = serve(settings)
    yield ApiServer(base_url, settings, server.config.app, kube_api)  # type: ignore[arg-type]
    stop(server, thread)


@pytest.fixture
def api_schema(roomy_api: ApiServer, new_space: Callable[..., Space]) -> schemathesis.BaseSchema:
    token = new_space().token
    schema = schemathesis.openapi.from_dict(document())
    schema.config.base_url = roomy_api.base_url  # type: ignore[misc]
    schema.config.headers = {"Authorization": f"Bearer {token}"}  # type: ignore[misc]
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_5xx_and_every_response_matches_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ]
    )
