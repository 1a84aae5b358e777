"""A space's webhook endpoints and their delivery logs in PostgreSQL (see 005_webhooks.sql).

Every query names the space: an endpoint or delivery of another space is simply not found.
"""

from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from export_api.errors import InvalidParametersError
from export_api.webhook_models import (
    CreatedWebhookEndpointResponse,
    CreateWebhookEndpointRequest,
    WebhookDeliveryResponse,
    WebhookEndpointResponse,
)
from export_webhooks.signing import new_secret

_ENDPOINT = """
SELECT id, url, events, created_at, disabled_at, disabled_reason,
       CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END
           AS previous_secret_expires_at
FROM webhook_endpoints
"""

_CREATE = """
INSERT INTO webhook_endpoints (space_id, url, events, secret)
SELECT %(space_id)s, %(url)s, %(events)s, %(secret)s
WHERE (SELECT count(*) FROM webhook_endpoints WHERE space_id = %(space_id)s) < %(limit)s
RETURNING id, url, events, created_at, disabled_at, disabled_reason,
          NULL::timestamptz AS previous_secret_expires_at
"""

_ROTATE = """
UPDATE webhook_endpoints
SET previous_secret = secret, previous_secret_expires_at = now() + %(overlap)s,
    secret = %(secret)s
WHERE id = %(id)s AND space_id = %(space_id)s
RETURNING previous_secret_expires_at
"""

_ENABLE = """
UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL
WHERE id = %(id)s AND space_id = %(space_id)s
"""

_DELIVERIES = """
SELECT id, event, export_id, state AS status, attempts, last_status_code, last_error,
       CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at,
       created_at, delivered_at
FROM webhook_deliveries
WHERE endpoint_id = %(endpoint_id)s AND space_id = %(space_id)s {bound}
ORDER BY created_at {order}, id {order}
LIMIT %(limit)s
"""


class WebhookEndpoints:
    def __init__(self, pool: AsyncConnectionPool, per_space: int) -> None:
        self._pool = pool
        self._per_space = per_space

    async def create(
        self, space_id: int, request: CreateWebhookEndpointRequest
    ) -> CreatedWebhookEndpointResponse:
        secret = new_secret()
        params = {
            "space_id": space_id,
            "url": request.url,
            "events": [event.value for event in request.events],
            "secret": secret,
            "limit": self._per_space,
        }
        row = await self._one(_CREATE, params)
        if row is None:
            raise InvalidParametersError(
                f"This space has {self._per_space} webhook endpoints, the most it may have: "
                "delete one first (one endpoint may receive every event)."
            )
        return CreatedWebhookEndpointResponse(**_endpoint_fields(row), secret=secret)

    async def of_space(self, space_id: int) -> list[WebhookEndpointResponse]:
        query = _ENDPOINT + " WHERE space_id = %(space_id)s ORDER BY id"
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(query, {"space_id": space_id})
            rows = await cursor.fetchall()
        return [WebhookEndpointResponse(**_endpoint_fields(row)) for row in rows]

    async def get(self, space_id: int, endpoint_id: int) -> WebhookEndpointResponse | None:
        query = _ENDPOINT + " WHERE space_id = %(space_id)s AND id = %(id)s"
        row = await self._one(query, {"space_id": space_id, "id": endpoint_id})
        return WebhookEndpointResponse(**_endpoint_fields(row)) if row else None

    async def delete(self, space_id: int, endpoint_id: int) -> bool:
        """Removes the endpoint with its deliveries, sent or queued: nothing more goes to it."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM webhook_endpoints WHERE id = %s AND space_id = %s",
                (endpoint_id, space_id),
            )
            return cursor.rowcount > 0

    async def rotate(
        self, space_id: int, endpoint_id: int, overlap: timedelta
    ) -> tuple[str, datetime] | None:
        """A new secret, and when the old one stops signing; None for an unknown endpoint."""
        secret = new_secret()
        params = {"space_id": space_id, "id": endpoint_id, "overlap": overlap, "secret": secret}
        row = await self._one(_ROTATE, params)
        return (secret, row["previous_secret_expires_at"]) if row else None

    async def enable(self, space_id: int, endpoint_id: int) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_ENABLE, {"space_id": space_id, "id": endpoint_id})
            return cursor.rowcount > 0

    async def deliveries(
        self,
        space_id: int,
        endpoint_id: int,
        after: tuple[datetime, str] | None,
        older: bool,
        limit: int,
    ) -> list[WebhookDeliveryResponse]:
        """Up to `limit` deliveries beyond `after` (created_at, id): older ones newest first,
        or newer ones oldest first (a backward page)."""
        bound = ""
        if after is not None:
            bound = f"AND (created_at, id) {'<' if older else '>'} (%(at)s, %(at_id)s)"
        query = _DELIVERIES.format(bound=bound, order="DESC" if older else "ASC")
        params: dict[str, Any] = {
            "space_id": space_id,
            "endpoint_id": endpoint_id,
            "limit": limit,
        }
        if after is not None:
            params |= {"at": after[0], "at_id": after[1]}
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(query, params)
            rows = await cursor.fetchall()
        return [WebhookDeliveryResponse(**row) for row in rows]

    async def _one(self, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(query, params)
            return await cursor.fetchone()


def _endpoint_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "status": "disabled" if row["disabled_at"] else "enabled"}
