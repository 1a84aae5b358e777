"""The dispatcher: claims due deliveries, sends them, records each outcome.

Any number of dispatchers may run: a claim locks its rows (`SKIP LOCKED`) and leases them, so
each attempt belongs to one of them. A dispatcher wakes on the API's NOTIFY when deliveries are
queued, and polls for retries falling due. Caps: `webhook_concurrency` attempts in flight in
all, and an endpoint with attempts in flight gets no new ones until they end (at most
`webhook_endpoint_concurrency` at once), so one slow receiver cannot hold the rest up.
"""

import asyncio
import logging
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from export_webhooks import outbox
from export_webhooks.delivery import Outcome, Sender
from export_webhooks.metrics import ATTEMPTS, DUE_TO_DELIVERED
from export_webhooks.outbox import ClaimedDelivery
from export_webhooks.settings import DispatcherSettings

log = logging.getLogger(__name__)


def retry_time(
    settings: DispatcherSettings, delivery: ClaimedDelivery, now: datetime
) -> datetime | None:
    """When to try again after a failed attempt, or None once the retry window is over.

    Exponential backoff with "equal jitter": at least half the step, so retries of many
    deliveries that failed together spread out without coming back too early.
    """
    step = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_seconds * 2 ** (delivery.attempts - 1),
    )
    retry_at = now + timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311
    window_end = delivery.due_at + timedelta(seconds=settings.webhook_retry_window_seconds)
    return retry_at if retry_at <= window_end else None


class Dispatcher:
    def __init__(self, settings: DispatcherSettings, pool: AsyncConnectionPool) -> None:
        self._settings = settings
        self._pool = pool
        self._sender = Sender(settings)
        self._wake = asyncio.Event()
        self._in_flight: Counter[int] = Counter()  # attempts per endpoint
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Dispatches until `stopping` is set, then lets the attempts in flight finish."""
        listening = asyncio.create_task(self._listen(), name="listen")
        try:
            while not stopping.is_set():
                self._wake.clear()  # before the claim: a wake-up during it is kept
                await self._dispatch_due()
                await self._sleep(stopping)
        finally:
            listening.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=self._settings.webhook_timeout_seconds)
            await self._sender.aclose()

    async def _dispatch_due(self) -> None:
        free = self._settings.webhook_concurrency - sum(self._in_flight.values())
        if free <= 0:
            return
        try:
            async with self._pool.connection() as conn:
                claimed = await outbox.claim(
                    conn,
                    limit=free,
                    per_endpoint=self._settings.webhook_endpoint_concurrency,
                    busy=list(self._in_flight),
                    lease=self._settings.lease,
                )
        except psycopg.Error as error:
            log.warning(
                "could not claim webhook deliveries; retrying (check PostgreSQL)",
                extra={"error": str(error)},
            )
            return
        for delivery in claimed:
            self._in_flight[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._attempt(delivery), name=delivery.id)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        try:
            outcome = await self._sender.send(delivery)
            await self._record(delivery, outcome)
        except Exception:
            # The lease brings the delivery back, with the same id, once it runs out.
            log.exception("webhook attempt not recorded", extra=_fields(delivery))
        finally:
            self._in_flight[delivery.endpoint_id] -= 1
            if self._in_flight[delivery.endpoint_id] <= 0:
                del self._in_flight[delivery.endpoint_id]
            self._wake.set()

    async def _record(self, delivery: ClaimedDelivery, outcome: Outcome) -> None:
        now = datetime.now(UTC)
        fields = {**_fields(delivery), "status_code": outcome.status_code}
        async with self._pool.connection() as conn:
            if outcome.delivered:
                await outbox.delivered(conn, delivery.id, outcome.status_code or 0)
                ATTEMPTS.labels("delivered").inc()
                DUE_TO_DELIVERED.observe((now - delivery.due_at).total_seconds())
                log.info("webhook delivered", extra=fields)
                return
            error = outcome.error or "failed"
            retry_at = retry_time(self._settings, delivery, now)
            await outbox.attempt_failed(conn, delivery, outcome.status_code, error, retry_at)
        ATTEMPTS.labels("retried" if retry_at else "gave_up").inc()
        if retry_at is None:
            log.error(
                "webhook delivery failed for good; its endpoint is disabled until the space "
                "enables it again (see the endpoint's deliveries in the API)",
                extra={**fields, "error": error},
            )
        else:
            log.warning(
                "webhook attempt failed; retrying",
                extra={**fields, "error": error, "retry_at": retry_at.isoformat()},
            )

    async def _listen(self) -> None:
        """Wakes the loop on each NOTIFY; reconnects after a lost connection."""
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    str(self._settings.database_url), autocommit=True, connect_timeout=5
                )
                async with conn:
                    await conn.execute(f"LISTEN {outbox.CHANNEL}")
                    self._wake.set()  # anything queued while not listening
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.Error as error:
                log.warning(
                    "lost the notification connection; polling meanwhile",
                    extra={"error": str(error)},
                )
                await asyncio.sleep(self._settings.webhook_poll_seconds)

    async def _sleep(self, stopping: asyncio.Event) -> None:
        waits = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stopping.wait())]
        await asyncio.wait(
            waits, timeout=self._settings.webhook_poll_seconds, return_when="FIRST_COMPLETED"
        )
        for wait in waits:
            wait.cancel()


def _fields(delivery: ClaimedDelivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "space_id": delivery.space_id,
        "export_id": delivery.export_id,
        "event": delivery.event,
        "attempt": delivery.attempts,
    }
