"""Request and response bodies, as clients see them (apart from the CompanyExport resource)."""

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from export_api.protocol import UNPARSABLE_MESSAGE
from export_contracts.date_field import DateField

ExportStatusName = Literal["queued", "processing", "completed", "failed", "expired"]

_LOCAL_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


class CreateExportRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"start_date": "2024-01-15 00:00:00", "end_date": "2024-01-15 23:59:59"}]
        },
    )

    start_date: Annotated[
        StrictStr,
        Field(
            description="First second exported, YYYY-MM-DD HH:MM:SS in the space's timezone.",
            examples=["2024-01-15 00:00:00"],
            json_schema_extra={"pattern": _LOCAL_TIME},
        ),
    ]
    end_date: Annotated[
        StrictStr,
        Field(
            description="Last second exported (inclusive, the whole second), after start_date.",
            examples=["2024-01-15 23:59:59"],
            json_schema_extra={"pattern": _LOCAL_TIME},
        ),
    ]
    date_field: Annotated[
        DateField,
        Field(
            description="The timestamp the range applies to: created_at (the companies created "
            "in it) or updated_at (those last updated in it: an incremental export, its lines in "
            "(updated_at, id) order).",
        ),
    ] = DateField.CREATED_AT


class CreateExportResponse(BaseModel):
    export_id: Annotated[int, Field(examples=[12345])]
    status: Literal["queued"]
    message: Annotated[str, Field(examples=["Export queued; poll its status for the file."])]


class ExportResponse(BaseModel):
    export_id: Annotated[int, Field(examples=[12345])]
    status: ExportStatusName
    message: Annotated[str | None, Field(examples=["Queued behind 2 other exports."])] = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    record_count: Annotated[int | None, Field(ge=0)] = None
    file_size: Annotated[int | None, Field(ge=0, description="Bytes of the gzip file.")] = None
    download_url: Annotated[
        str | None, Field(description="Presigned GET of the gzipped NDJSON file, when completed.")
    ] = None
    expires_at: Annotated[
        datetime | None, Field(description="When download_url stops working: 15 min from now.")
    ] = None


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """Laravel's cursor-paginator shape, as the public API has it."""

    data: list[ItemT]
    path: str
    per_page: int
    next_cursor: Annotated[
        str | None, Field(description="Send as `cursor` for the next page; null on the last page.")
    ]
    next_page_url: Annotated[
        str | None, Field(description="This request with cursor=next_cursor, the rest kept.")
    ]
    prev_cursor: Annotated[
        str | None,
        Field(description="Send as `cursor` for the previous page; null on the first page."),
    ]
    prev_page_url: Annotated[
        str | None, Field(description="This request with cursor=prev_cursor, the rest kept.")
    ]


class ExportPage(Page[ExportResponse]):
    """One page of a space's exports, newest first."""


class Company(BaseModel):
    """One company: the same JSON object as a line of an export file."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[int, Field(examples=[123])]
    space_id: int
    name: str
    domain: Annotated[str | None, Field(examples=["example.com"])] = None
    industry: str | None = None
    employee_count: int | None = None
    annual_revenue: float | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    owner_email: str | None = None
    created_at: Annotated[str, Field(examples=["2024-01-15T10:23:45Z"], description="UTC.")]
    updated_at: Annotated[str, Field(examples=["2024-01-16T08:00:00Z"], description="UTC.")]


class CompanyPage(Page[Company]):
    """One page of List Companies, oldest first."""


class ErrorResponse(BaseModel):
    error: Annotated[str, Field(examples=["start_date: must be in YYYY-MM-DD HH:MM:SS format."])]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadinessResponse(BaseModel):
    # degraded: ready (serving from its own state) while a dependency is down.
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, str]


_RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Requests of this kind the space may send per minute.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests of this kind the space may still send now.",
        "schema": {"type": "integer"},
    },
}

_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}

_ERROR_EXAMPLES = {
    400: UNPARSABLE_MESSAGE,
    401: "Unauthenticated: send a valid API key as 'Authorization: Bearer <key>'.",
    403: "This API key lacks the exports:write scope: issue a key with that scope.",
    404: "Export not found in your space: check the id.",
    413: (
        "request body: larger than 65536 bytes; "
        "a create request is a small JSON object with start_date and end_date."
    ),
    422: "end_date: must be after start_date.",
    429: "Too many requests: this space may send 5 create requests per 60 s; retry after 12 s.",
    500: "Internal error on our side (request id 4f0c...); retry later.",
    503: "Temporarily unavailable: the database or the cluster did not answer; retry.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these error codes: the `{"error": ...}` body with an example."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ErrorResponse,
            "content": {"application/json": {"example": {"error": _ERROR_EXAMPLES[code]}}},
        }
        if code == 429:
            entry["headers"] = {**_RATE_LIMIT_HEADERS, "Retry-After": _RETRY_AFTER}
        elif code == 503:
            entry["headers"] = {"Retry-After": _RETRY_AFTER}
        elif code not in (400, 401, 500):
            entry["headers"] = _RATE_LIMIT_HEADERS
        responses[code] = entry
    return responses


def success_response(
    code: int,
    description: str,
    model: type[BaseModel] | None = None,
    headers: dict[str, Any] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entry of a success; `model` when the route returns a raw Response."""
    entry: dict[str, Any] = {
        "description": description,
        "headers": {**_RATE_LIMIT_HEADERS, **(headers or {})},
    }
    if model is not None:
        entry["model"] = model
    return {code: entry}
