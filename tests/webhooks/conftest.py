"""Fixtures of the dispatcher's tests: the schema, a space, the HTTPS receiver, and dispatchers.

Each dispatcher is the `export-webhooks` program in a process of its own (so a test can kill it),
against the session's PostgreSQL, trusting the receiver's CA and allowed to reach loopback only
where a test says so. Deliveries are queued with the API's own code (endpoint store and outbox).
"""

import asyncio
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
from local_cluster.process import Launcher, Server
from tests.webhook_receiver import Receiver, running_receiver

# Fast retries, so that a test sees several attempts in seconds.
FAST = {
    "WEBHOOK_BACKOFF_SECONDS": "0.2",
    "WEBHOOK_BACKOFF_MAX_SECONDS": "0.5",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "WEBHOOK_POLL_SECONDS": "0.2",
    "METRICS_PORT": "0",
}


@pytest.fixture(scope="session")
def webhook_database(postgres: Postgres) -> str:
    migrate(postgres.url)
    return postgres.url


@pytest.fixture(scope="session")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    with running_receiver(tmp_path_factory.mktemp("receiver")) as receiver:
        yield receiver


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


@pytest.fixture
def webhooks(webhook_database: str) -> Iterator[Outbox]:
    """A new space's outbox; its endpoints go at the end, so later tests' dispatchers do not
    spend their slots retrying this test's failing deliveries."""
    with psycopg.connect(webhook_database, autocommit=True) as conn:
        space_id = create_space(conn, f"webhooks {uuid.uuid4().hex[:8]}", "UTC")
    yield Outbox(webhook_database, space_id)
    with psycopg.connect(webhook_database, autocommit=True) as conn:
        conn.execute("DELETE FROM webhook_endpoints WHERE space_id = %s", (space_id,))


Dispatch = Callable[..., Server]


@pytest.fixture
def dispatcher(webhook_database: str, receiver: Receiver, tmp_path: Path) -> Iterator[Dispatch]:
    """Starts `export-webhooks` processes; `allowed` networks besides public ones (default:
    the receiver's address), more settings as keyword arguments."""
    launcher = Launcher(tmp_path / "logs")

    def start(allowed: str = f"{receiver.host}/32", **settings: str) -> Server:
        env = {
            "DATABASE_URL": webhook_database,
            "WEBHOOK_CA_BUNDLE": str(receiver.ca_cert),
            "WEBHOOK_ALLOWED_NETWORKS": allowed,
            **FAST,
            **settings,
        }
        program = Path(sys.executable).parent / "export-webhooks"
        return launcher.start(f"dispatcher-{len(launcher.servers)}", [program], env=env)

    yield start
    launcher.stop_all()
