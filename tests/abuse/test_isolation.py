"""Tenant isolation: space A's key against space B's resources, endpoint by endpoint.

Every operation of the OpenAPI document that takes an export id is called with A's key on B's
export and must answer 404 with the same body as for an id that exists nowhere (no hint that the
id is taken); the collection endpoints must show A nothing of B. B's export is untouched after.
"""

import re
from collections.abc import Callable
from typing import Any

import pytest

from export_api.openapi import document
from tests.abuse.conftest import COMPANIES, EXPORTS, ONE_DAY, Product, Space, wait_for_export

pytestmark = pytest.mark.e2e

NOWHERE = 999_999_999_999  # an export id no space has


def _operations_on_one_export() -> list[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = document()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if "{export_id}" in path
        for method in operations
    ]


@pytest.fixture(scope="module")
def b_export(product: Product, new_space: Callable[..., Space]) -> tuple[Space, int]:
    """Space B and one completed export of it."""
    space_b = new_space()
    with product.client(space_b.token) as api:
        created = api.post(EXPORTS, json=ONE_DAY)
        assert created.status_code == 202, created.text
        export_id: int = created.json()["export_id"]
        assert wait_for_export(api, export_id)["status"] == "completed"
    return space_b, export_id


def test_the_document_has_operations_on_one_export() -> None:
    assert {method for method, _ in _operations_on_one_export()} >= {"GET", "DELETE"}


@pytest.mark.parametrize(("method", "path"), _operations_on_one_export())
def test_another_spaces_export_is_404_like_one_that_does_not_exist(
    product: Product,
    new_space: Callable[..., Space],
    b_export: tuple[Space, int],
    method: str,
    path: str,
) -> None:
    space_a = new_space()
    _, export_id = b_export
    with product.client(space_a.token) as api:
        theirs = api.request(method, path.format(export_id=export_id))
        nowhere = api.request(method, path.format(export_id=NOWHERE))
    assert theirs.status_code == nowhere.status_code == 404, theirs.text
    assert theirs.json() == nowhere.json()
    assert not re.search(rf"\b{export_id}\b", theirs.text)  # "v1" is no leak of export 1


@pytest.mark.usefixtures("b_export")
def test_lists_show_a_space_nothing_of_another(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space_a = new_space()
    with product.client(space_a.token) as api:
        exports = api.get(EXPORTS, params={"per_page": 200})
        companies = api.get(COMPANIES, params={**ONE_DAY, "per_page": 5000})
    assert exports.status_code == companies.status_code == 200
    assert exports.json()["data"] == []
    assert {company["space_id"] for company in companies.json()["data"]} == {space_a.id}
    assert len(companies.json()["data"]) == space_a.companies


def test_an_idempotency_key_of_another_space_makes_a_new_export(
    product: Product, new_space: Callable[..., Space]
) -> None:
    space_a, space_b = new_space(), new_space()
    headers = {"Idempotency-Key": "shared-key-1"}
    with product.client(space_b.token) as api:
        theirs = api.post(EXPORTS, json=ONE_DAY, headers=headers)
    with product.client(space_a.token) as api:
        ours = api.post(EXPORTS, json=ONE_DAY, headers=headers)
    assert theirs.status_code == ours.status_code == 202
    assert "Idempotent-Replayed" not in ours.headers
    assert ours.json()["export_id"] != theirs.json()["export_id"]


def test_the_other_space_still_has_its_export_and_file(
    product: Product, b_export: tuple[Space, int]
) -> None:
    # Runs after the DELETE of the matrix above: A's DELETE must not have touched B's export.
    space_b, export_id = b_export
    with product.client(space_b.token) as api:
        mine = api.get(f"{EXPORTS}/{export_id}")
    assert mine.status_code == 200, mine.text
    assert mine.json()["status"] == "completed"
    with product.client() as anonymous:
        assert anonymous.get(mine.json()["download_url"]).status_code == 200
