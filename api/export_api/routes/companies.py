"""List Companies (`GET /public-api/v1/companies`): the real-time path the seed points to.

The same date semantics as exports, on created_at or, with `date_field=updated_at`, on
updated_at; keyset pagination both ways on (that column, id) with the index exports use; and the
very JSON of an export line: PostgreSQL builds it with `COMPANY_JSON`, and the page is spliced
around those texts, so List Companies and exports can never disagree.
"""

import json
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import Field, model_validator

from export_api.cursors import decode_cursor
from export_api.dates import Edge, resolve_bound, resolve_range
from export_api.deps import CompanyReader, ServicesDep
from export_api.errors import InvalidParametersError
from export_api.models import CompanyPage, error_responses, success_response
from export_api.pagination import (
    CURSOR_DESCRIPTION,
    KeysetPage,
    Position,
    keyset_page,
    page_envelope,
    reads_backward,
)
from export_contracts.date_field import DateField
from export_database.company_json import COMPANY_JSON

PATH = "/public-api/v1/companies"
MAX_PER_PAGE = 5000

router = APIRouter(tags=["companies"], responses=error_responses(401, 403, 422, 429, 500, 503))

_LocalTime = Annotated[
    str | None,
    Query(
        max_length=19,
        description="YYYY-MM-DD HH:MM:SS in the space's timezone (as for exports).",
        examples=["2024-01-15 00:00:00"],
    ),
]


class _Position(Position):
    # The edge row's key under the name of the column the list is ordered by, so a cursor tells
    # which date_field it pages (cursors issued before date_field existed hold created_at).
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _one_date(self) -> Self:
        if (self.created_at is None) == (self.updated_at is None):
            raise ValueError("a cursor holds either created_at or updated_at")
        return self

    @property
    def date_field(self) -> DateField:
        return DateField.CREATED_AT if self.created_at is not None else DateField.UPDATED_AT

    @property
    def at(self) -> datetime:
        at = self.created_at or self.updated_at
        assert at is not None
        return at


_Row = tuple[int, datetime, str]  # id, the date field's value, the export line's JSON


@router.get(
    PATH,
    operation_id="listCompanies",
    summary="List Companies",
    response_model=None,
    responses=success_response(200, "One page of companies, oldest first.", CompanyPage),
)
async def list_companies(
    request: Request,
    principal: CompanyReader,
    services: ServicesDep,
    start_date: _LocalTime = None,
    end_date: _LocalTime = None,
    cursor: Annotated[str | None, Query(max_length=500, description=CURSOR_DESCRIPTION)] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 200,
    date_field: Annotated[
        DateField,
        Query(description="The timestamp the dates apply to and the list is ordered by (with id)."),
    ] = DateField.CREATED_AT,
) -> Response:
    """Companies whose date_field is in [start_date, end_date] (both optional), in that order."""
    bounds = _bounds(start_date, end_date, principal.timezone)
    at = _cursor_position(cursor, date_field) if cursor else None
    query, params = _query(principal.space_id, date_field, bounds, at, per_page + 1)
    async with services.pool.connection() as conn:
        rows: list[_Row] = await (await conn.execute(query, params)).fetchall()
    page = keyset_page(
        rows, per_page, at, lambda row: _Position.model_validate({date_field: row[1], "id": row[0]})
    )
    return _page_response(request, per_page, page)


def _cursor_position(cursor: str, date_field: DateField) -> _Position:
    at = decode_cursor(_Position, cursor)
    if at.date_field is not date_field:
        raise InvalidParametersError(
            f"cursor: it pages date_field={at.date_field}, not {date_field}; send the date_field "
            "of the request that returned it, or start again without a cursor."
        )
    return at


def _bounds(
    start_date: str | None, end_date: str | None, timezone: str
) -> tuple[datetime | None, datetime | None]:
    if start_date is not None and end_date is not None:
        resolved = resolve_range(start_date, end_date, timezone)
        return resolved.start, resolved.end
    start = resolve_bound("start_date", start_date, timezone, Edge.START) if start_date else None
    end = resolve_bound("end_date", end_date, timezone, Edge.END) if end_date else None
    return start, end


def _query(
    space_id: int,
    date_field: DateField,
    bounds: tuple[datetime | None, datetime | None],
    at: _Position | None,
    limit: int,
) -> tuple[sql.Composed, dict[str, Any]]:
    column = sql.Identifier("c", date_field.value)
    conditions: list[sql.Composable] = [sql.SQL("c.space_id = %(space)s")]
    params: dict[str, Any] = {"space": space_id, "limit": limit}
    start, end = bounds
    if start is not None:
        conditions.append(sql.SQL("{} >= %(start)s").format(column))
        params["start"] = start
    if end is not None:
        conditions.append(sql.SQL("{} < %(end)s").format(column))
        params["end"] = end
    # A backward page reads the index the other way, from the cursor's row towards the start.
    backward = reads_backward(at)
    if at is not None:
        comparison = sql.SQL("<" if backward else ">")
        conditions.append(sql.SQL("({}, c.id) {} (%(at)s, %(at_id)s)").format(column, comparison))
        params.update(at=at.at, at_id=at.id)
    query = sql.SQL(
        "SELECT c.id, {column}, ({line})::text FROM companies c WHERE {conditions} "
        "ORDER BY {column} {order}, c.id {order} LIMIT %(limit)s"
    ).format(
        column=column,
        line=sql.SQL(COMPANY_JSON),
        conditions=sql.SQL(" AND ").join(conditions),
        order=sql.SQL("DESC" if backward else "ASC"),
    )
    return query, params


def _page_response(request: Request, per_page: int, page: KeysetPage[_Row]) -> Response:
    # The companies are JSON texts from PostgreSQL: spliced in, not parsed and encoded again.
    head = json.dumps(page_envelope(request, per_page, page), separators=(",", ":"))[:-1]
    body = f'{head},"data":[{",".join(line for _, _, line in page.items)}]}}'
    return Response(body.encode(), media_type="application/json")
