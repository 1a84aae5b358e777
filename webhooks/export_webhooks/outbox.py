"""The delivery outbox in PostgreSQL: queued by the API, claimed and settled by the dispatcher.

`enqueue` runs in the transaction that archives a finished export, so its deliveries exist
exactly when its archive row does (the unique key makes a second try a no-op). A claim moves a
row's due time past the send's deadline (a lease) and counts the attempt: if the dispatcher dies
mid-send, the row falls due again and goes out with the same id, never a new one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

from export_webhooks.events import EventType, WebhookEvent

# The dispatchers LISTEN here; a commit that queues deliveries wakes them at once.
CHANNEL = "webhook_deliveries"

_ENQUEUE = """
INSERT INTO webhook_deliveries
    (id, endpoint_id, space_id, event, export_id, payload, due_at, next_attempt_at)
SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, e.space_id, %(event)s,
       %(export_id)s, %(payload)s, %(due)s, %(due)s
FROM webhook_endpoints e
WHERE e.space_id = %(space_id)s AND %(event)s = ANY (e.events) AND e.disabled_at IS NULL
ON CONFLICT (endpoint_id, event, export_id) DO NOTHING
"""

_CANCEL = """
UPDATE webhook_deliveries SET state = 'cancelled'
WHERE export_id = %(export_id)s AND space_id = %(space_id)s AND state = 'pending'
  AND event = ANY (%(events)s)
"""

# Up to %(per_endpoint)s due rows of each endpoint not %(busy)s, %(limit)s in all; the
# endpoints whose oldest due row is oldest come first, so none starves behind busier ones.
_CLAIM = """
WITH due_endpoints AS (
    SELECT endpoint_id FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now() AND NOT (endpoint_id = ANY (%(busy)s))
    GROUP BY endpoint_id
    ORDER BY min(next_attempt_at)
    LIMIT %(limit)s
), picked AS (
    SELECT due.id FROM due_endpoints
    JOIN webhook_endpoints e ON e.id = due_endpoints.endpoint_id AND e.disabled_at IS NULL
    CROSS JOIN LATERAL (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.state = 'pending' AND d.next_attempt_at <= now()
        ORDER BY d.next_attempt_at, d.id
        LIMIT %(per_endpoint)s
        FOR UPDATE OF d SKIP LOCKED
    ) due
    LIMIT %(limit)s
)
UPDATE webhook_deliveries d
SET next_attempt_at = now() + %(lease)s, attempts = d.attempts + 1, last_attempt_at = now()
FROM picked, webhook_endpoints e
WHERE d.id = picked.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, d.space_id, d.event, d.export_id, d.payload, d.attempts, d.due_at,
          e.url, e.secret,
          CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END
              AS previous_secret
"""

_DELIVERED = """
UPDATE webhook_deliveries
SET state = 'delivered', delivered_at = now(), last_status_code = %(status_code)s,
    last_error = NULL
WHERE id = %(id)s AND state = 'pending'
"""

_FAILED_ATTEMPT = """
UPDATE webhook_deliveries
SET last_status_code = %(status_code)s, last_error = %(error)s,
    state = CASE WHEN %(retry_at)s::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
    next_attempt_at = coalesce(%(retry_at)s, next_attempt_at)
WHERE id = %(id)s AND state = 'pending'
"""

_DISABLE_ENDPOINT = """
UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = %(reason)s
WHERE id = %(endpoint_id)s AND disabled_at IS NULL
"""


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    endpoint_id: int
    space_id: int
    event: str
    export_id: int
    payload: str
    attempts: int
    due_at: datetime
    url: str
    secret: str
    previous_secret: str | None

    @property
    def secrets(self) -> list[str]:
        return [self.secret] + ([self.previous_secret] if self.previous_secret else [])


async def enqueue(
    conn: AsyncConnection[Any], space_id: int, export_id: int, events: Sequence[WebhookEvent]
) -> None:
    """Queues each event for every endpoint of the space that subscribes to it."""
    for event in events:
        await conn.execute(
            _ENQUEUE,
            {
                "event": event.type.value,
                "space_id": space_id,
                "export_id": export_id,
                "payload": event.body(),
                "due": event.due,
            },
        )
    if events:
        await conn.execute(f"NOTIFY {CHANNEL}")


async def cancel(
    conn: AsyncConnection[Any], space_id: int, export_id: int, events: Sequence[EventType]
) -> None:
    """Drops an export's queued deliveries of these events (its DELETE makes them untrue)."""
    await conn.execute(
        _CANCEL,
        {"space_id": space_id, "export_id": export_id, "events": [e.value for e in events]},
    )


async def claim(
    conn: AsyncConnection[Any], limit: int, per_endpoint: int, busy: Sequence[int], lease: timedelta
) -> list[ClaimedDelivery]:
    cursor = conn.cursor(row_factory=class_row(ClaimedDelivery))
    params = {"limit": limit, "per_endpoint": per_endpoint, "busy": list(busy), "lease": lease}
    await cursor.execute(_CLAIM, params)
    return await cursor.fetchall()


async def delivered(conn: AsyncConnection[Any], delivery_id: str, status_code: int) -> None:
    await conn.execute(_DELIVERED, {"id": delivery_id, "status_code": status_code})


async def attempt_failed(
    conn: AsyncConnection[Any],
    delivery: ClaimedDelivery,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Records a failed attempt; without `retry_at` the delivery and its endpoint give up."""
    params = {"id": delivery.id, "status_code": status_code, "error": error, "retry_at": retry_at}
    async with conn.transaction():
        await conn.execute(_FAILED_ATTEMPT, params)
        if retry_at is None:
            reason = (
                f"Disabled after delivery {delivery.id} ({delivery.event}, export "
                f"{delivery.export_id}) failed for the whole retry window; last error: {error}. "
                "Fix the receiver, then enable the endpoint again."
            )
            await conn.execute(
                _DISABLE_ENDPOINT, {"endpoint_id": delivery.endpoint_id, "reason": reason}
            )
