"""The CRD generated from the pydantic models, and the committed copy in crds/."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from export_contracts import crd, resource

CRD_FILE = Path(__file__).parents[2] / "crds" / "companyexports.exports.companies.dev.yaml"

pytestmark = pytest.mark.unit


def _version() -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd.custom_resource_definition()["spec"]["versions"]
    return versions[0]


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = _version()["schema"]["openAPIV3Schema"]
    return schema


def test_committed_crd_is_generated_from_the_models() -> None:
    assert CRD_FILE.read_text() == crd.render(), (
        "crds/ drifted from the models: run `.venv/bin/python -m export_contracts.crd > "
        f"crds/{CRD_FILE.name}`"
    )


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(n for value in node.values() for n in _walk(value))]
    if isinstance(node, list):
        return [n for value in node for n in _walk(value)]
    return []


def test_schema_is_structural() -> None:
    """No refs, unions or JSON-Schema-only keys; every node says its type."""
    spec_and_status = [_schema()["properties"]["spec"], _schema()["properties"]["status"]]
    for node in _walk(spec_and_status):
        assert not {"$ref", "$defs", "anyOf", "oneOf", "title", "default"} & node.keys(), node
    for prop in _walk(spec_and_status):
        for sub in (prop.get("properties") or {}).values():
            assert "type" in sub, sub


def test_spec_is_required_and_immutable() -> None:
    spec = _schema()["properties"]["spec"]
    assert _schema()["required"] == ["spec"]
    assert set(spec["required"]) == {"exportId", "spaceId", "requested", "range"}
    assert {"rule": "self == oldSelf"}.items() <= spec["x-kubernetes-validations"][0].items()


def test_ranges_must_end_after_they_start() -> None:
    props = _schema()["properties"]["spec"]["properties"]
    assert "self.endDate > self.startDate" in str(props["requested"]["x-kubernetes-validations"])
    assert "timestamp(self.end) > timestamp(self.start)" in str(
        props["range"]["x-kubernetes-validations"]
    )


def test_status_declares_every_model_field() -> None:
    declared = set(_schema()["properties"]["status"]["properties"])
    expected = {
        field.alias or name for name, field in resource.CompanyExportStatus.model_fields.items()
    }
    assert declared == expected


def test_conditions_are_a_map_keyed_by_type() -> None:
    conditions = _schema()["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]


def test_names_and_printer_columns() -> None:
    names = crd.custom_resource_definition()["spec"]["names"]
    assert names["shortNames"] == ["cexp"]
    assert names["categories"] == ["exports"]
    columns = {c["name"]: c for c in _version()["additionalPrinterColumns"]}
    assert [n for n, c in columns.items() if not c.get("priority")] == [
        "Space", "State", "Records", "Size", "Age",
    ]  # fmt: skip
    assert columns["Completed"]["priority"] == columns["Job"]["priority"] == 1
    assert _version()["subresources"] == {"status": {}}


def test_committed_file_is_valid_yaml_of_the_crd() -> None:
    assert yaml.safe_load(CRD_FILE.read_text()) == crd.custom_resource_definition()
