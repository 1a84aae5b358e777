from pathlib import Path

import pytest

from export_api.openapi import document, render

pytestmark = pytest.mark.unit

COMMITTED = Path(__file__).parents[2] / "api" / "openapi.json"


def test_the_committed_document_is_what_the_app_serves() -> None:
    assert COMMITTED.read_text() == render(), "run: python -m export_api.openapi > api/openapi.json"


def test_every_operation_has_a_stable_id_and_documents_its_errors() -> None:
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            assert operation["operationId"], (method, path)
            if path.startswith("/public-api/"):
                for code in ("401", "403", "429", "500"):
                    assert code in operation["responses"], (method, path, code)
                    error = operation["responses"][code]["content"]["application/json"]
                    assert error["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
                    assert "error" in error["example"]


def test_no_operation_documents_fastapis_default_validation_error() -> None:
    assert "HTTPValidationError" not in document()["components"]["schemas"]
