"""A space's webhook endpoints: /public-api/v1/webhook-endpoints.

Managing them takes the exports:write scope, reading them exports:read. A URL is checked when it
is registered (https, and every address its host resolves to is public) and again by the
dispatcher at every connection.
"""

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import Field

from export_api.cursors import decode_cursor
from export_api.deps import ServicesDep, StatusReader, StatusWriter
from export_api.errors import InvalidParametersError, NotFoundError
from export_api.models import error_responses, success_response
from export_api.pagination import CURSOR_DESCRIPTION, Position, keyset_page, page_envelope
from export_api.routes import ROW_ID
from export_api.webhook_models import (
    CreatedWebhookEndpointResponse,
    CreateWebhookEndpointRequest,
    RotatedSecretResponse,
    RotateSecretRequest,
    WebhookDeliveryPage,
    WebhookDeliveryResponse,
    WebhookEndpointList,
    WebhookEndpointResponse,
)
from export_webhooks.addresses import AddressPolicy, RefusedAddressError

log = logging.getLogger(__name__)

PATH = "/public-api/v1/webhook-endpoints"

router = APIRouter(
    prefix=PATH, tags=["webhooks"], responses=error_responses(401, 403, 422, 429, 500, 503)
)


class _DeliveryPosition(Position):
    created_at: datetime
    delivery_id: Annotated[str, Field(max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="createWebhookEndpoint",
    summary="Create a webhook endpoint",
    response_model=CreatedWebhookEndpointResponse,
    responses={**success_response(201, "The endpoint, with its signing secret (shown once).")},
)
async def create(
    body: CreateWebhookEndpointRequest, principal: StatusWriter, services: ServicesDep
) -> CreatedWebhookEndpointResponse:
    """Registers an https URL for the given events; the answer holds the signing secret."""
    policy = AddressPolicy(services.settings.webhook_allowed_networks)
    try:
        await policy.check_url(body.url)
    except RefusedAddressError as error:
        raise InvalidParametersError(f"url: {error}.") from None
    created = await services.webhook_endpoints.create(principal.space_id, body)
    log.info(
        "webhook endpoint created",
        extra={"space_id": principal.space_id, "endpoint_id": created.id},
    )
    return created


@router.get(
    "",
    operation_id="listWebhookEndpoints",
    summary="List webhook endpoints",
    response_model=WebhookEndpointList,
    responses=success_response(200, "The space's endpoints."),
)
async def list_endpoints(principal: StatusReader, services: ServicesDep) -> WebhookEndpointList:
    return WebhookEndpointList(data=await services.webhook_endpoints.of_space(principal.space_id))


@router.get(
    "/{endpoint_id}",
    operation_id="getWebhookEndpoint",
    summary="Get a webhook endpoint",
    response_model=WebhookEndpointResponse,
    responses={**success_response(200, "The endpoint."), **error_responses(404)},
)
async def read(
    endpoint_id: str, principal: StatusReader, services: ServicesDep
) -> WebhookEndpointResponse:
    found = await services.webhook_endpoints.get(principal.space_id, _parsed(endpoint_id))
    if found is None:
        raise _not_found()
    return found


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteWebhookEndpoint",
    summary="Delete a webhook endpoint",
    responses={**success_response(204, "Deleted, with its deliveries."), **error_responses(404)},
)
async def delete(endpoint_id: str, principal: StatusWriter, services: ServicesDep) -> Response:
    """Nothing more is sent to it, queued deliveries included."""
    if not await services.webhook_endpoints.delete(principal.space_id, _parsed(endpoint_id)):
        raise _not_found()
    log.info(
        "webhook endpoint deleted",
        extra={"space_id": principal.space_id, "endpoint_id": endpoint_id},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate a webhook endpoint's signing secret",
    response_model=RotatedSecretResponse,
    responses={**success_response(200, "The new secret (shown once)."), **error_responses(404)},
)
async def rotate_secret(
    endpoint_id: str, body: RotateSecretRequest, principal: StatusWriter, services: ServicesDep
) -> RotatedSecretResponse:
    """A new secret signs from now on; the old one also signs for `overlap_seconds`."""
    overlap = timedelta(seconds=body.overlap_seconds)
    rotated = await services.webhook_endpoints.rotate(
        principal.space_id, _parsed(endpoint_id), overlap
    )
    if rotated is None:
        raise _not_found()
    secret, previous_expires_at = rotated
    return RotatedSecretResponse(secret=secret, previous_secret_expires_at=previous_expires_at)


@router.post(
    "/{endpoint_id}/enable",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="enableWebhookEndpoint",
    summary="Enable a disabled webhook endpoint",
    responses={**success_response(204, "Enabled."), **error_responses(404)},
)
async def enable(endpoint_id: str, principal: StatusWriter, services: ServicesDep) -> Response:
    """Queued deliveries resume; events of the disabled time were not queued."""
    if not await services.webhook_endpoints.enable(principal.space_id, _parsed(endpoint_id)):
        raise _not_found()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{endpoint_id}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="List a webhook endpoint's deliveries",
    response_model=WebhookDeliveryPage,
    responses={**success_response(200, "One page, newest first."), **error_responses(404)},
)
async def deliveries(
    endpoint_id: str,
    request: Request,
    principal: StatusReader,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=300, description=CURSOR_DESCRIPTION)] = None,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WebhookDeliveryPage:
    """Each delivery's event, export, attempts, last answer and next attempt."""
    endpoints = services.webhook_endpoints
    found = await endpoints.get(principal.space_id, _parsed(endpoint_id))
    if found is None:
        raise _not_found()
    at = decode_cursor(_DeliveryPosition, cursor) if cursor else None
    rows = await endpoints.deliveries(
        principal.space_id,
        found.id,
        (at.created_at, at.delivery_id) if at else None,
        older=at is None or at.points_to_next_items,
        limit=per_page + 1,
    )
    page = keyset_page(
        rows,
        per_page,
        at,
        lambda row: _DeliveryPosition(created_at=row.created_at, delivery_id=row.id),
    )
    return WebhookDeliveryPage(data=page.items, **page_envelope(request, per_page, page))


def _position_of(delivery: WebhookDeliveryResponse) -> _DeliveryPosition:
    return _DeliveryPosition(created_at=delivery.created_at, delivery_id=delivery.id)


def _parsed(endpoint_id: str) -> int:
    if not ROW_ID.fullmatch(endpoint_id):
        raise _not_found()
    return int(endpoint_id)


def _not_found() -> NotFoundError:
    return NotFoundError(
        f"Webhook endpoint not found in your space: check the id, or list them with GET {PATH}."
    )
