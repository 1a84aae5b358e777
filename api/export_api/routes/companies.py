"""List Companies (`GET /public-api/v1/companies`): the real-time path the seed points to.

The same date semantics as exports, keyset pagination on (created_at, id) with the index exports
use, and the very JSON of an export line: PostgreSQL builds it with `COMPANY_JSON`, and the page
is spliced around those texts, so List Companies and exports can never disagree.
"""

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel, Field

from export_api.cursors import decode_cursor, encode_cursor
from export_api.dates import Edge, resolve_bound, resolve_range
from export_api.deps import CompanyReader, ServicesDep
from export_api.models import CompanyPage, error_responses, success_response
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


class _Position(BaseModel):
    created_at: datetime
    id: Annotated[int, Field(ge=1)]


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
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 200,
) -> Response:
    """Companies created in [start_date, end_date] (both optional), in (created_at, id) order."""
    bounds = _bounds(start_date, end_date, principal.timezone)
    after = decode_cursor(_Position, cursor) if cursor else None
    query, params = _query(principal.space_id, bounds, after, per_page + 1)
    async with services.pool.connection() as conn:
        rows = await (await conn.execute(query, params)).fetchall()
    page, more = rows[:per_page], len(rows) > per_page
    next_cursor = None
    if more:
        last_id, last_created_at, _ = page[-1]
        next_cursor = encode_cursor(_Position(created_at=last_created_at, id=last_id))
    return _page_response(request, [line for _, _, line in page], per_page, next_cursor)


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
    bounds: tuple[datetime | None, datetime | None],
    after: _Position | None,
    limit: int,
) -> tuple[sql.Composed, dict[str, Any]]:
    conditions = [sql.SQL("c.space_id = %(space)s")]
    params: dict[str, Any] = {"space": space_id, "limit": limit}
    start, end = bounds
    if start is not None:
        conditions.append(sql.SQL("c.created_at >= %(start)s"))
        params["start"] = start
    if end is not None:
        conditions.append(sql.SQL("c.created_at < %(end)s"))
        params["end"] = end
    if after is not None:
        conditions.append(sql.SQL("(c.created_at, c.id) > (%(after_at)s, %(after_id)s)"))
        params.update(after_at=after.created_at, after_id=after.id)
    query = sql.SQL(
        "SELECT c.id, c.created_at, ({line})::text FROM companies c WHERE {conditions} "
        "ORDER BY c.created_at, c.id LIMIT %(limit)s"
    ).format(line=sql.SQL(COMPANY_JSON), conditions=sql.SQL(" AND ").join(conditions))
    return query, params


def _page_response(
    request: Request, lines: list[str], per_page: int, next_cursor: str | None
) -> Response:
    envelope = {
        "path": str(request.url.replace(query="")),
        "per_page": per_page,
        "next_cursor": next_cursor,
        "next_page_url": (
            str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
        ),
        "prev_cursor": None,
        "prev_page_url": None,
    }
    # The companies are JSON texts from PostgreSQL: spliced in, not parsed and encoded again.
    head = json.dumps(envelope, separators=(",", ":"))[:-1]
    body = f'{head},"data":[{",".join(lines)}]}}'
    return Response(body.encode(), media_type="application/json")
