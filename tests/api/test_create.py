"""Create Company Export: every status code of the public API, reached as a client would."""

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from kubernetes import client

from export_api.admin import issue_key, set_subscription
from export_api.auth import Scope
from export_contracts.resource import GROUP, PLURAL, SPACE_LABEL, VERSION, resource_name
from tests.api.conftest import NAMESPACE, ApiServer, Space, until_refused

pytestmark = pytest.mark.integration

PATH = "/public-api/v1/companies/exports"
DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}


def assert_error(response: Any, code: int, starts: str) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"].startswith(starts), body["error"]


def test_created_export_is_queued_and_its_object_holds_the_utc_range(
    api: ApiServer, space: Space
) -> None:
    with api.client(space.token) as http:
        response = http.post(PATH, json=DAY)
    assert response.status_code == 202, response.text
    body = response.json()
    export_id = body["export_id"]
    assert isinstance(export_id, int)
    assert body["status"] == "queued"
    assert body["message"]
    assert response.headers["Location"] == f"{PATH}/{export_id}"
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "4"
    obj = client.CustomObjectsApi(api.kube_api).get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id)
    )
    assert obj["metadata"]["labels"][SPACE_LABEL] == str(space.id)
    assert obj["spec"]["spaceId"] == space.id
    assert obj["spec"]["exportId"] == export_id
    assert obj["spec"]["requested"] == {**_camel(DAY), "timezone": "Europe/Berlin"}
    assert obj["spec"]["range"] == {"start": "2024-01-14T23:00:00Z", "end": "2024-01-15T23:00:00Z"}
    assert obj["spec"]["requestedBy"] == str(space.key_id)
    assert "dateField" not in obj["spec"]  # the default: created_at, as before the field existed


def _camel(body: dict[str, str]) -> dict[str, str]:
    return {"startDate": body["start_date"], "endDate": body["end_date"]}


def _spec(api: ApiServer, export_id: int) -> dict[str, Any]:
    obj = client.CustomObjectsApi(api.kube_api).get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, resource_name(export_id)
    )
    spec: dict[str, Any] = obj["spec"]
    return spec


def _add_companies(db: psycopg.Connection, space_id: int, count: int, updated_at: str) -> None:
    db.execute(
        "INSERT INTO companies (space_id, name, created_at, updated_at) SELECT %s, 'Acme', "
        "'2020-02-02 12:00:00+00', %s FROM generate_series(1, %s)",
        (space_id, updated_at, count),
    )
    db.execute("ANALYZE companies")


def test_an_updated_at_export_names_its_date_field_and_is_estimated_by_updated_at(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    # Created long before, all updated on a day no other test writes companies on.
    _add_companies(db, space.id, 5000, "2031-07-04 12:00:00+00")
    day = {"start_date": "2031-07-04 00:00:00", "end_date": "2031-07-04 23:59:59"}
    with api.client(space.token) as http:
        updated = http.post(PATH, json={**day, "date_field": "updated_at"})
        created = http.post(PATH, json={**day, "date_field": "created_at"})
    assert updated.status_code == created.status_code == 202, (updated.text, created.text)
    updated_spec = _spec(api, updated.json()["export_id"])
    created_spec = _spec(api, created.json()["export_id"])
    assert updated_spec["dateField"] == "updated_at"
    assert "dateField" not in created_spec  # named or not, created_at is the same spec
    assert updated_spec["requested"] == created_spec["requested"]
    assert updated_spec["range"] == created_spec["range"]
    assert updated_spec["estimatedRows"] > 10 * created_spec["estimatedRows"]


def test_ids_come_from_a_sequence(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        first = http.post(PATH, json=DAY).json()["export_id"]
        second = http.post(PATH, json=DAY).json()["export_id"]
    assert second > first


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic dXNlcjpwdw==", "Bearer not-a-key",
     "Bearer cexp_00000000_" + "A" * 43],
)  # fmt: skip
def test_missing_or_unknown_key_is_401(api: ApiServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with api.client() as http:
        response = http.post(PATH, json=DAY, headers=headers)
    assert_error(response, 401, "Unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_right_prefix_wrong_secret_is_401(api: ApiServer, space: Space) -> None:
    forged = space.token[: -len("x" * 43)] + "x" * 43
    with api.client(forged) as http:
        assert_error(http.post(PATH, json=DAY), 401, "Unauthenticated")


def test_revoked_key_is_401(api: ApiServer, space: Space, revoke: Callable[[int], None]) -> None:
    with api.client(space.token) as http:
        assert http.post(PATH, json=DAY).status_code == 202
        revoke(space.key_id)
        assert_error(http.post(PATH, json=DAY), 401, "This API key was revoked")


def test_key_without_write_scope_is_403(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    _, read_only = issue_key(db, space.id, [Scope.EXPORTS_READ])
    with api.client(read_only) as http:
        assert_error(http.post(PATH, json=DAY), 403, "This API key lacks the exports:write scope")


def test_inactive_subscription_is_403(api: ApiServer, space: Space, db: psycopg.Connection) -> None:
    set_subscription(db, space.id, active=False)
    with api.client(space.token) as http:
        assert_error(http.post(PATH, json=DAY), 403, "Your subscription is inactive")


@pytest.mark.parametrize(
    ("body", "starts"),
    [
        ({"end_date": "2024-01-15 23:59:59"}, "start_date: is required"),
        ({"start_date": "2024-01-15 00:00:00"}, "end_date: is required"),
        ({}, "start_date: is required; end_date: is required"),
        ({**DAY, "start_date": 20240115}, "start_date: must be a string"),
        ({**DAY, "end_date": None}, "end_date: must be a string"),
        ({**DAY, "start_date": "2024-01-15"}, "start_date: must be in YYYY-MM-DD HH:MM:SS"),
        ({**DAY, "end_date": "2024-02-30 00:00:00"}, "end_date: 2024-02-30 00:00:00 is not a real"),
        ({**DAY, "end_date": "2024-01-14 00:00:00"}, "end_date: must be after start_date"),
        ({"start_date": "2024-03-31 02:30:00", "end_date": "2024-03-31 23:59:59"},
         "start_date: 2024-03-31 02:30:00 does not exist in Europe/Berlin"),
        ({**DAY, "start_date": "0999-01-01 00:00:00"}, "start_date: the year must be between"),
        ([DAY], "request body: must be a JSON object"),
        ({**DAY, "date_field": "deleted_at"}, "date_field: must be 'created_at' or 'updated_at'."),
        ({**DAY, "date_field": None}, "date_field: must be 'created_at' or 'updated_at'."),
        ({**DAY, "date_field": "UPDATED_AT"}, "date_field: must be 'created_at' or 'updated_at'."),
    ],
)  # fmt: skip
def test_each_invalid_body_is_a_422_naming_the_field(
    api: ApiServer, space: Space, body: Any, starts: str
) -> None:
    with api.client(space.token) as http:
        response = http.post(PATH, json=body)
    assert_error(response, 422, starts)
    assert response.headers["X-RateLimit-Limit"] == "5"


def test_a_body_that_is_not_json_is_a_422(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        untyped = http.post(PATH, content=b'{"start_date": "x"}')
        assert_error(untyped, 422, "request body: must be a JSON object, sent with Content-Type")
        response = http.post(
            PATH, content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert_error(response, 422, "request body: is not valid JSON")


def test_the_sixth_create_within_a_minute_is_429(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        answers = until_refused(lambda: http.post(PATH, json=DAY), limit=5)
    remaining = [a.headers["X-RateLimit-Remaining"] for a in answers]
    assert remaining[:4] == ["4", "3", "2", "1"]
    assert remaining[-1] == "0"
    refused = answers[-1]
    assert_error(refused, 429, "Too many requests")
    assert 1 <= int(refused.headers["Retry-After"]) <= 12


def test_limits_are_per_space(api: ApiServer, new_space: Callable[..., Space]) -> None:
    busy, quiet = new_space(), new_space()
    with api.client(busy.token) as http:
        for _ in range(6):
            http.post(PATH, json=DAY)
    with api.client(quiet.token) as http:
        assert http.post(PATH, json=DAY).status_code == 202


def test_same_idempotency_key_and_body_returns_the_same_export(
    api: ApiServer, space: Space
) -> None:
    headers = {"Idempotency-Key": "order-7"}
    with api.client(space.token) as http:
        first = http.post(PATH, json=DAY, headers=headers)
        again = http.post(PATH, json=DAY, headers=headers)
        other = http.post(PATH, json=DAY, headers={"Idempotency-Key": "order-8"})
    assert first.status_code == again.status_code == 202
    assert again.json()["export_id"] == first.json()["export_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.json()["export_id"] != first.json()["export_id"]


def test_same_idempotency_key_with_another_body_is_422(api: ApiServer, space: Space) -> None:
    headers = {"Idempotency-Key": "k1"}
    with api.client(space.token) as http:
        assert http.post(PATH, json=DAY, headers=headers).status_code == 202
        other = {**DAY, "end_date": "2024-01-16 23:59:59"}
        assert_error(
            http.post(PATH, json=other, headers=headers), 422, "Idempotency-Key: already used"
        )


def test_same_idempotency_key_with_another_date_field_is_422(api: ApiServer, space: Space) -> None:
    headers = {"Idempotency-Key": "k2"}
    with api.client(space.token) as http:
        first = http.post(PATH, json=DAY, headers=headers)
        named = http.post(PATH, json={**DAY, "date_field": "created_at"}, headers=headers)
        updated = http.post(PATH, json={**DAY, "date_field": "updated_at"}, headers=headers)
    assert named.json()["export_id"] == first.json()["export_id"]  # the default, named
    assert_error(updated, 422, "Idempotency-Key: already used")


def test_concurrent_retries_make_one_export(api: ApiServer, space: Space) -> None:
    def post(_: int) -> int:
        with api.client(space.token) as http:
            response = http.post(PATH, json=DAY, headers={"Idempotency-Key": "burst"})
            assert response.status_code == 202, response.text
            export_id: int = response.json()["export_id"]
            return export_id

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(post, range(4)))
    assert len(ids) == 1


def test_idempotency_keys_are_per_space(api: ApiServer, new_space: Callable[..., Space]) -> None:
    ids = set()
    for tenant in (new_space(), new_space()):
        with api.client(tenant.token) as http:
            ids.add(
                http.post(PATH, json=DAY, headers={"Idempotency-Key": "same"}).json()["export_id"]
            )
    assert len(ids) == 2


def test_an_idempotency_key_older_than_24_hours_makes_a_new_export(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    headers = {"Idempotency-Key": "monthly"}
    with api.client(space.token) as http:
        first = http.post(PATH, json=DAY, headers=headers).json()["export_id"]
        db.execute(
            "UPDATE api_idempotency_keys SET created_at = now() - interval '24 hours 1 second' "
            "WHERE space_id = %s",
            (space.id,),
        )
        later = http.post(PATH, json=DAY, headers=headers)
    assert later.status_code == 202
    assert later.json()["export_id"] != first
    assert "Idempotent-Replayed" not in later.headers


def test_replicas_share_one_budget_per_space(
    api: ApiServer, second_replica: ApiServer, space: Space
) -> None:
    turns = itertools.cycle((api, second_replica))

    def post() -> httpx.Response:
        with next(turns).client(space.token) as http:
            return http.post(PATH, json=DAY)

    answers = until_refused(post, limit=5)
    assert answers[-1].headers["Retry-After"]


def test_our_own_fault_is_a_500_with_a_request_id_and_no_internals(
    broken_replica: ApiServer, space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    with broken_replica.client(space.token) as http:
        response = http.post(PATH, json=DAY)
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert response.json() == {
        "error": f"Internal error on our side (request id {request_id}); retry later, and quote "
        "the request id if it persists."
    }
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged
    assert logged[0].exc_info is not None  # the trace is in the log, not in the answer
