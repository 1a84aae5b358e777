"""The CompanyExport models: the same rules as the CRD's validation, on the Python side."""

from typing import Any

import pytest
from pydantic import ValidationError

from export_contracts.date_field import DateField
from export_contracts.resource import (
    CompanyExportSpec,
    ExportState,
    labels,
    resource_name,
)

pytestmark = pytest.mark.unit


def _spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "exportId": 7,
        "spaceId": 3,
        "requested": {
            "startDate": "2024-01-15 00:00:00",
            "endDate": "2024-01-15 23:59:59",
            "timezone": "Europe/Berlin",
        },
        "range": {"start": "2024-01-14T23:00:00Z", "end": "2024-01-15T23:00:00Z"},
        "requestedBy": "key-12",
    }
    spec.update(changes)
    return spec


def test_spec_round_trips_in_camel_case() -> None:
    spec = CompanyExportSpec.model_validate(_spec())
    assert spec.export_id == 7
    assert spec.model_dump(by_alias=True, mode="json", exclude_none=True) == {
        **_spec(),
        "range": {"start": "2024-01-14T23:00:00Z", "end": "2024-01-15T23:00:00Z"},
    }


def test_a_spec_without_date_field_selects_by_created_at_and_stays_without_it() -> None:
    spec = CompanyExportSpec.model_validate(_spec())
    assert spec.column is DateField.CREATED_AT
    assert "dateField" not in spec.model_dump(by_alias=True, mode="json", exclude_none=True)


def test_an_incremental_spec_names_updated_at() -> None:
    spec = CompanyExportSpec.model_validate(_spec(dateField="updated_at"))
    assert spec.column is DateField.UPDATED_AT
    dumped = spec.model_dump(by_alias=True, mode="json", exclude_none=True)
    assert dumped["dateField"] == "updated_at"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"range": {"start": "2024-01-15T23:00:00Z", "end": "2024-01-15T23:00:00Z"}},
            "range.end must be after start",
        ),
        (
            {"requested": {"startDate": "2024-01-16 00:00:00", "endDate": "2024-01-15 00:00:00",
                           "timezone": "UTC"}},
            "requested.endDate must be after startDate",
        ),
        ({"exportId": 0}, "greater than or equal to 1"),
        ({"dateField": "deleted_at"}, "'created_at' or 'updated_at'"),
        ({"range": {"start": "2024-01-14T23:00:00", "end": "2024-01-15T23:00:00Z"}}, "timezone"),
    ],
)  # fmt: skip
def test_spec_refuses_what_the_crd_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CompanyExportSpec.model_validate(_spec(**changes))


def test_names_and_labels() -> None:
    assert resource_name(42) == "export-42"
    assert labels(3, 42) == {
        "exports.companies.dev/space-id": "3",
        "exports.companies.dev/export-id": "42",
    }


def test_final_states() -> None:
    assert {s for s in ExportState if s.is_final} == {
        ExportState.COMPLETED,
        ExportState.FAILED,
        ExportState.EXPIRED,
    }
