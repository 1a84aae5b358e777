"""Create, read, list and delete exports: /public-api/v1/companies/exports."""

import logging
from datetime import UTC, datetime
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import AliasChoices, Field

from export_api.creation import create_export
from export_api.cursors import decode_cursor
from export_api.deps import DATABASE_FAILURES, Creator, ServicesDep, StatusReader, StatusWriter
from export_api.errors import NotFoundError
from export_api.models import (
    CreateExportRequest,
    CreateExportResponse,
    ExportPage,
    ExportResponse,
    ExportStatusName,
    error_responses,
    success_response,
)
from export_api.pagination import CURSOR_DESCRIPTION, Position, keyset_page, page_envelope
from export_api.records import ExportRecord
from export_api.routes import ROW_ID
from export_api.services import Services
from export_api.views import export_response, status_name

log = logging.getLogger(__name__)

PATH = "/public-api/v1/companies/exports"

router = APIRouter(
    prefix=PATH, tags=["exports"], responses=error_responses(401, 403, 422, 429, 500, 503)
)


class _ListPosition(Position):
    # Cursors issued before prev_cursor existed name the id before_id (and point forward).
    export_id: Annotated[int, Field(ge=1, validation_alias=AliasChoices("export_id", "before_id"))]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="createCompanyExport",
    summary="Create Company Export",
    response_model=CreateExportResponse,
    responses={
        **error_responses(413),
        **success_response(
            202,
            "Export job created and queued for processing.",
            headers={
                "Location": {
                    "description": "The export's status URL.",
                    "schema": {"type": "string"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when an earlier request with this key made it.",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
        ),
    },
)
async def create(
    body: CreateExportRequest,
    principal: Creator,
    services: ServicesDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Same key and body within 24 h: the same export, never a second one.",
        ),
    ] = None,
) -> CreateExportResponse:
    """Queues an export of the companies whose date_field is in [start_date, end_date]."""
    created = await create_export(services, principal, body, idempotency_key)
    response.headers["Location"] = f"{PATH}/{created.export_id}"
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CreateExportResponse(
        export_id=created.export_id,
        status="queued",
        message=f"Export queued; poll GET {PATH}/{created.export_id} for its status.",
    )


@router.get(
    "/{export_id}",
    operation_id="getCompanyExport",
    summary="Get Company Export",
    response_model=ExportResponse,
    responses={**success_response(200, "The export."), **error_responses(404)},
)
async def read(export_id: str, principal: StatusReader, services: ServicesDep) -> ExportResponse:
    """The export's status; `download_url` (signed for 15 minutes) once it is completed."""
    record = await _find(services, principal.space_id, export_id)
    ahead = services.cache.queued_ahead(record.export_id) if record.is_queued else 0
    return export_response(record, datetime.now(UTC), services.presigner, ahead)


@router.get(
    "",
    operation_id="listCompanyExports",
    summary="List Company Exports",
    response_model=ExportPage,
    responses=success_response(200, "One page of the space's exports."),
)
async def list_exports(
    request: Request,
    principal: StatusReader,
    services: ServicesDep,
    status_filter: Annotated[
        ExportStatusName | None, Query(alias="status", description="Only exports in this status.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200, description=CURSOR_DESCRIPTION)] = None,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExportPage:
    """The space's exports, newest first: those in flight and those archived, one keyset."""
    at = decode_cursor(_ListPosition, cursor) if cursor else None
    now = datetime.now(UTC)
    rows = await _page_rows(services, principal.space_id, at, status_filter, now, per_page + 1)
    page = keyset_page(rows, per_page, at, lambda record: _ListPosition(export_id=record.export_id))
    return ExportPage(
        data=[export_response(record, now, services.presigner) for record in page.items],
        **page_envelope(request, per_page, page),
    )


def _beyond(export_id: int, after_id: int, older: bool) -> bool:
    return export_id < after_id if older else export_id > after_id


async def _page_rows(
    services: Services,
    space_id: int,
    at: _ListPosition | None,
    status_filter: ExportStatusName | None,
    now: datetime,
    limit: int,
) -> list[ExportRecord]:
    """Up to `limit` exports on the cursor's side of it, nearest first, as a keyset query reads.

    The cache's (few, unarchived) exports of the space and one page of the archive are merged;
    an export in both (archived a moment ago) counts once, as the cache has it.
    """
    older = at is None or at.points_to_next_items
    after_id = at.export_id if at else None
    live = {
        record.export_id: record
        for record in services.cache.of_space(space_id)
        if (status_filter is None or status_name(record, now) == status_filter)
        and (after_id is None or _beyond(record.export_id, after_id, older))
    }
    archived = await services.archive.page(space_id, after_id, older, status_filter, now, limit)
    merged = {record.export_id: record for record in archived} | live
    return sorted(merged.values(), key=lambda record: record.export_id, reverse=older)[:limit]


@router.delete(
    "/{export_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteCompanyExport",
    summary="Cancel or delete a Company Export",
    responses={**success_response(204, "Cancelled or deleted."), **error_responses(404)},
)
async def delete(export_id: str, principal: StatusWriter, services: ServicesDep) -> Response:
    """Cancels a queued or running export, or deletes a finished one and its file."""
    record = await _find(services, principal.space_id, export_id)
    # The archive's mark first: from then on the export answers 404, whoever archives it later.
    # The operator's finalizer stops the Job, then deletes the file.
    await services.archive.mark_deleted(record)
    await anyio.to_thread.run_sync(services.resources.delete, record.export_id)
    services.cache.forget(record.export_id)
    services.recent_records.forget(record.export_id)
    log.info("export deleted", extra={"export_id": record.export_id, "space_id": record.space_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _find(services: Services, space_id: int, export_id: str) -> ExportRecord:
    """The space's export; 404 for a malformed id, an unknown one or another space's."""
    record = None
    if ROW_ID.fullmatch(export_id):
        record = await _lookup(services, space_id, int(export_id))
    if record is None or record.space_id != space_id or record.deleting:
        raise NotFoundError(
            "Export not found in your space: check the id (a positive integer that create "
            f"returned), or list your exports with GET {PATH}."
        )
    return record


async def _lookup(services: Services, space_id: int, export_id: int) -> ExportRecord | None:
    """In flight: the cache. Finished: the archive (or, while it is down, what this replica read
    of it lately). Neither: the API server (another replica may have created it a moment ago)."""
    record = services.cache.get(export_id)
    if record is not None:
        return record
    if not services.database.skipping:
        try:
            record = await services.archive.find(space_id, export_id)
        except DATABASE_FAILURES:
            services.database.failed()
        else:
            services.database.succeeded()
            if record is not None:
                services.recent_records.remember(record)
                return record
    if not services.database.healthy:
        record = services.recent_records.get(export_id)
        if record is not None:
            return record
    obj = await anyio.to_thread.run_sync(services.resources.read, export_id)
    return services.cache.remember(obj) if obj else None
