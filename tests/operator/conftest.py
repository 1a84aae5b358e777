"""Fixtures of the operator's tests: sample objects in the Kubernetes wire form."""

import pytest
from export_contracts.resource import CompanyExportSpec
from export_operator.jobs import Owner
from export_operator.settings import OperatorSettings


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
