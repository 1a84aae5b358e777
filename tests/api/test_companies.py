"""List Companies: the exports' date semantics, keyset paging both ways, the export line's JSON."""

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from export_database.company_json import COMPANY_JSON
from export_database.generate import generate_companies
from tests.api.conftest import ApiServer, Space, tampered, until_refused, walk_both_ways

pytestmark = pytest.mark.integration

PATH = "/public-api/v1/companies"
# 2024-01-15 00:00:00..23:59:59 in Berlin (UTC+1) is [2024-01-14 23:00, 2024-01-15 23:00) UTC.
START = datetime(2024, 1, 14, 23, 0, tzinfo=UTC)
END = datetime(2024, 1, 15, 23, 0, tzinfo=UTC)
DAY = {"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}


def add_company(
    db: psycopg.Connection, space_id: int, created_at: datetime, updated_at: datetime | None = None
) -> int:
    row = db.execute(
        "INSERT INTO companies (space_id, name, domain, created_at, updated_at) "
        "VALUES (%s, 'Acme \"quoted\"\nline', 'acme.example', %s, %s) RETURNING id",
        (space_id, created_at, updated_at or created_at),
    ).fetchone()
    assert row is not None
    company_id: int = row[0]
    return company_id


def lines_in_db(db: psycopg.Connection, ids: list[int]) -> list[Any]:
    rows = db.execute(
        f"SELECT ({COMPANY_JSON})::text FROM companies c WHERE c.id = ANY(%s) "  # noqa: S608 - constant
        "ORDER BY c.created_at, c.id",
        (ids,),
    ).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_the_range_is_start_inclusive_and_the_whole_last_second(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    second = timedelta(seconds=1)
    micro = timedelta(microseconds=1)
    inside = [
        add_company(db, space.id, START),
        add_company(db, space.id, END - second),
        add_company(db, space.id, END - micro),  # 23:59:59.999999 local: still in
    ]
    add_company(db, space.id, START - micro)
    add_company(db, space.id, END)
    with api.client(space.token) as http:
        response = http.get(PATH, params=DAY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [company["id"] for company in body["data"]] == inside
    assert body["data"] == lines_in_db(db, inside)  # byte-for-byte the export line's object
    assert body["data"][0]["created_at"] == "2024-01-14T23:00:00Z"
    assert body["next_cursor"] is None
    assert response.headers["X-RateLimit-Limit"] == "30"


def test_pages_follow_each_other_both_ways_without_gaps_or_repeats(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    generate_companies(db, space.id, 25, seed=7, first_instant=START, spread=END - START)
    same_instant = [add_company(db, space.id, START + timedelta(hours=1)) for _ in range(3)]
    with api.client(space.token) as http:
        pages = walk_both_ways(http, str(httpx.URL(PATH, params={**DAY, "per_page": 4})))
    expected = db.execute(
        "SELECT id FROM companies WHERE space_id = %s ORDER BY created_at, id", (space.id,)
    ).fetchall()
    assert [len(page["data"]) for page in pages] == [4] * 7  # 28: the last page exactly full
    assert [company["id"] for page in pages for company in page["data"]] == [
        row[0] for row in expected
    ]
    assert set(same_instant) <= {company["id"] for page in pages for company in page["data"]}


@pytest.mark.parametrize(("per_page", "sizes"), [(1, [1] * 7), (2, [2, 2, 2, 1]), (7, [7])])
def test_paging_back_through_equal_created_at_orders_them_by_id(
    api: ApiServer, space: Space, db: psycopg.Connection, per_page: int, sizes: list[int]
) -> None:
    noon = START + timedelta(hours=12)
    ids = [add_company(db, space.id, START)]
    ids += [add_company(db, space.id, noon) for _ in range(5)]  # every page edge is a tie
    ids.append(add_company(db, space.id, END - timedelta(seconds=1)))
    with api.client(space.token) as http:
        pages = walk_both_ways(http, str(httpx.URL(PATH, params={**DAY, "per_page": per_page})))
    assert [len(page["data"]) for page in pages] == sizes
    assert [company["id"] for page in pages for company in page["data"]] == ids


def test_a_tampered_backward_cursor_is_a_422(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    for hour in range(2):
        add_company(db, space.id, START + timedelta(hours=hour))
    with api.client(space.token) as http:
        first = http.get(PATH, params={**DAY, "per_page": 1}).json()
        backward_cursor = http.get(first["next_page_url"]).json()["prev_cursor"]
        answers = [
            http.get(PATH, params={**DAY, "per_page": 1, "cursor": cursor})
            for cursor in tampered(backward_cursor)
        ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"].startswith("cursor: not a cursor this API issued")


def test_by_updated_at_the_companies_updated_in_the_range_come_in_updated_at_order(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    micro, noon, month = timedelta(microseconds=1), START + timedelta(hours=12), timedelta(30)
    # Created before the range, updated in it in an order unlike their ids; noon is a tie.
    last = add_company(db, space.id, START - month, updated_at=END - micro)
    first = add_company(db, space.id, START - month, updated_at=START)
    at_noon = [add_company(db, space.id, START - month, updated_at=noon) for _ in range(2)]
    created_in_range = add_company(db, space.id, START, updated_at=END)
    add_company(db, space.id, START - month, updated_at=START - micro)
    with api.client(space.token) as http:
        by_updated = walk_both_ways(
            http, str(httpx.URL(PATH, params={**DAY, "date_field": "updated_at", "per_page": 2}))
        )
        by_created = http.get(PATH, params=DAY).json()["data"]
    listed = [company for page in by_updated for company in page["data"]]
    assert [company["id"] for company in listed] == [first, *at_noon, last]
    assert sorted(listed, key=lambda company: company["id"]) == lines_in_db(db, sorted(
        company["id"] for company in listed
    ))  # fmt: skip
    assert [company["id"] for company in by_created] == [created_in_range]


def _position(cursor: str) -> dict[str, Any]:
    position: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    )
    return position


def test_a_cursor_pages_only_the_date_field_it_came_from(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    for hour in range(2):
        add_company(db, space.id, START + timedelta(hours=hour))
    one = {**DAY, "per_page": 1}
    updated = {**one, "date_field": "updated_at"}
    with api.client(space.token) as http:
        created_cursor = http.get(PATH, params=one).json()["next_cursor"]
        updated_cursor = http.get(PATH, params=updated).json()["next_cursor"]
        replayed = [
            http.get(PATH, params={**updated, "cursor": created_cursor}),
            http.get(PATH, params={**one, "cursor": updated_cursor}),
        ]
        both = {**_position(created_cursor), "updated_at": _position(updated_cursor)["updated_at"]}
        both_cursor = base64.urlsafe_b64encode(json.dumps(both).encode()).decode()
        with_both = http.get(PATH, params={**one, "cursor": both_cursor})
    # A created_at cursor is as it was before date_field existed.
    assert set(_position(created_cursor)) == {"points_to_next_items", "created_at", "id"}
    assert set(_position(updated_cursor)) == {"points_to_next_items", "updated_at", "id"}
    assert [answer.status_code for answer in replayed] == [422, 422]
    assert (
        replayed[0]
        .json()["error"]
        .startswith("cursor: it pages date_field=created_at, not updated_at; send the date_field")
    )
    assert replayed[1].json()["error"].startswith("cursor: it pages date_field=updated_at")
    assert with_both.status_code == 422
    assert with_both.json()["error"].startswith("cursor: not a cursor this API issued")


def test_other_spaces_companies_never_appear(
    api: ApiServer, new_space: Callable[..., Space], db: psycopg.Connection
) -> None:
    mine, theirs = new_space(), new_space()
    add_company(db, theirs.id, START)
    with api.client(mine.token) as http:
        assert http.get(PATH, params=DAY).json()["data"] == []


@pytest.mark.parametrize(
    ("params", "starts"),
    [
        ({"per_page": 0}, "per_page: Input should be greater than or equal to 1"),
        ({"per_page": 5001}, "per_page: Input should be less than or equal to 5000"),
        ({"per_page": "x"}, "per_page: must be an integer"),
        ({**DAY, "end_date": "2024-01-14 00:00:00"}, "end_date: must be after start_date"),
        ({"start_date": "2024-03-31 02:30:00"}, "start_date: 2024-03-31 02:30:00 does not exist"),
        ({"end_date": "2024-13-01 00:00:00"}, "end_date: 2024-13-01 00:00:00 is not a real"),
        ({"cursor": "garbage"}, "cursor: not a cursor this API issued"),
        ({"date_field": "deleted_at"}, "date_field: must be 'created_at' or 'updated_at'."),
    ],
)
def test_bad_parameters_are_422_naming_them(
    api: ApiServer, space: Space, params: dict[str, Any], starts: str
) -> None:
    with api.client(space.token) as http:
        response = http.get(PATH, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith(starts)


def test_per_page_defaults_to_200_and_allows_5000(
    api: ApiServer, space: Space, db: psycopg.Connection
) -> None:
    generate_companies(db, space.id, 250, seed=3)
    with api.client(space.token) as http:
        default = http.get(PATH).json()
        largest = http.get(PATH, params={"per_page": 5000}).json()
    assert (default["per_page"], len(default["data"])) == (200, 200)
    assert default["next_cursor"]
    assert len(largest["data"]) == 250
    assert largest["next_cursor"] is None


def test_the_31st_list_within_a_minute_is_429(api: ApiServer, space: Space) -> None:
    with api.client(space.token) as http:
        until_refused(lambda: http.get(PATH, params={"per_page": 1}), limit=30)
