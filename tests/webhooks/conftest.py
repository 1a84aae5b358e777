"""Fixtures of the dispatcher's tests: a space whose deliveries are queued with the API's own code
(endpoint store and outbox); the receiver and the dispatchers come from tests/conftest.py."""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from export_api.admin import create_space
from export_api.webhook_endpoints import WebhookEndpoints
from export_api.webhook_models import CreatedWebhookEndpointResponse, CreateWebhookEndpointRequest
from export_database.migrate import migrate
from export_webhooks import outbox
from export_webhooks.events import EventType, ExportEventData, WebhookEvent
from local_cluster.postgres import Postgres


@dataclass(frozen=True)
class Outbox:
    """Queues deliveries as the API does, in a space of its own."""

    database_url: str
    space_id: int

    def endpoint(
        self, url: str, events: list[EventType] | None = None
    ) -> CreatedWebhookEndpointResponse:
        request = CreateWebhookEndpointRequest(url=url, events=events or list(EventType))
        return asyncio.run(self._with_store(lambda store: store.create(self.space_id, request)))

    def queue(self, export_id: int, event: EventType = EventType.EXPORT_COMPLETED) -> WebhookEvent:
        queued = completed_event(export_id, event)
        asyncio.run(self._enqueue(export_id, queued))
        return queued

    def delete(self, endpoint_id: int) -> None:
        asyncio.run(self._with_store(lambda store: store.delete(self.space_id, endpoint_id)))

    def endpoint_row(self, endpoint_id: int) -> dict[str, Any]:
        return self._rows("SELECT * FROM webhook_endpoints WHERE id = %s", endpoint_id)[0]

    def deliveries(self, endpoint_id: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = %s ORDER BY export_id",
            endpoint_id,
        )

    def _rows(self, query: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    async def _with_store(self, use: Callable[[WebhookEndpoints], Any]) -> Any:
        async with AsyncConnectionPool(self.database_url, min_size=1, max_size=1) as pool:
            return await use(WebhookEndpoints(pool, per_space=10))

    async def _enqueue(self, export_id: int, event: WebhookEvent) -> None:
        conn = await psycopg.AsyncConnection.connect(self.database_url, autocommit=True)
        async with conn, conn.transaction():
            await outbox.enqueue(conn, self.space_id, export_id, [event])


def completed_event(export_id: int, event: EventType = EventType.EXPORT_COMPLETED) -> WebhookEvent:
    now = datetime.now(UTC)
    data = ExportEventData(
        export_id=export_id,
        status="completed",
        record_count=3,
        file_size=120,
        sha256="0" * 64,
        completed_at=now,
        url=f"https://exports.example.com/public-api/v1/companies/exports/{export_id}",
    )
    return WebhookEvent(type=event, timestamp=now, data=data)


@pytest.fixture(scope="session")
def webhook_database(postgres: Postgres) -> str:
    migrate(postgres.url)
    return postgres.url


@pytest.fixture
def webhooks(webhook_database: str) -> Iterator[Outbox]:
    """A new space's outbox; its endpoints go at the end, so later tests' dispatchers do not
    spend their slots retrying this test's failing deliveries."""
    with psycopg.connect(webhook_database, autocommit=True) as conn:
        space_id = create_space(conn, f"webhooks {uuid.uuid4().hex[:8]}", "UTC")
    yield Outbox(webhook_database, space_id)
    with psycopg.connect(webhook_database, autocommit=True) as conn:
        conn.execute("DELETE FROM webhook_endpoints WHERE space_id = %s", (space_id,))
