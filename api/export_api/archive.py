"""Finished exports' final records in PostgreSQL (`export_archive`), kept for the history window.

The cluster forgets an export's object after its retention; the API keeps answering for it from
here: its status (completed reads as expired once its file is gone), counts, size and checksum,
never a URL. Rows are written once (`store` never overwrites) and marked, not removed, by DELETE.
"""

from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from export_api.models import ExportStatusName
from export_api.records import ExportRecord
from export_api.webhook_events import export_events
from export_contracts.resource import CompanyExportStatus, ExportReason, ExportState
from export_webhooks import outbox
from export_webhooks.events import EventType

# Where webhook payloads point: an export's status (GET), under the API's public URL.
EXPORT_STATUS_PATH = "/public-api/v1/companies/exports/{export_id}"

_COLUMNS = sql.SQL(
    "export_id, space_id, state, reason, message, created_at, started_at, completed_at, "
    "expires_at, bucket, object_key, records, bytes, sha256"
)
_VALUES = sql.SQL(
    "%(export_id)s, %(space_id)s, %(state)s, %(reason)s, %(message)s, %(created_at)s, "
    "%(started_at)s, %(completed_at)s, %(expires_at)s, %(bucket)s, %(object_key)s, "
    "%(records)s, %(bytes)s, %(sha256)s"
)
_STORE = sql.SQL(
    "INSERT INTO export_archive ({}) VALUES ({}) ON CONFLICT (export_id) DO NOTHING "
    "RETURNING export_id"
).format(_COLUMNS, _VALUES)
_MARK_DELETED = sql.SQL(
    "INSERT INTO export_archive ({}, deleted_at) VALUES ({}, now()) ON CONFLICT (export_id) "
    "DO UPDATE SET deleted_at = coalesce(export_archive.deleted_at, now())"
).format(_COLUMNS, _VALUES)
_FIND = sql.SQL(
    "SELECT {} FROM export_archive "
    "WHERE export_id = %(export_id)s AND space_id = %(space_id)s AND deleted_at IS NULL"
).format(_COLUMNS)

# What each public status means in terms of the row, at %(now)s.
_STATUS_FILTERS: dict[ExportStatusName, sql.SQL] = {
    "queued": sql.SQL("false"),
    "processing": sql.SQL("false"),
    "completed": sql.SQL("state = 'Completed' AND (expires_at IS NULL OR expires_at > %(now)s)"),
    "failed": sql.SQL("state = 'Failed'"),
    "expired": sql.SQL("(state = 'Expired' OR (state = 'Completed' AND expires_at <= %(now)s))"),
}


class ExportArchive:
    def __init__(self, pool: AsyncConnectionPool, public_url: str = "") -> None:
        self._pool = pool
        self._public_url = public_url

    async def store(self, record: ExportRecord) -> None:
        """Writes a finished export's row unless one exists (exactly once, whoever calls), and
        in the same transaction queues its webhook events."""
        status_url = self._public_url + EXPORT_STATUS_PATH.format(export_id=record.export_id)
        async with self._pool.connection() as conn, conn.transaction():
            stored = await conn.execute(_STORE, _row_of(record))
            if stored.rowcount:
                events = export_events(record, status_url)
                await outbox.enqueue(conn, record.space_id, record.export_id, events)

    async def mark_deleted(self, record: ExportRecord) -> None:
        """The export answers 404 from now on, even if a replica archives it after this; its
        file will not expire, so its queued expiry is not announced."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_MARK_DELETED, _row_of(record))
            expiry = [EventType.EXPORT_EXPIRED]
            await outbox.cancel(conn, record.space_id, record.export_id, expiry)

    async def find(self, space_id: int, export_id: int) -> ExportRecord | None:
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(_FIND, {"export_id": export_id, "space_id": space_id})
            row = await cursor.fetchone()
        return _record_of(row) if row else None

    async def page(
        self,
        space_id: int,
        after_id: int | None,
        older: bool,
        status: ExportStatusName | None,
        now: datetime,
        limit: int,
    ) -> list[ExportRecord]:
        """Up to `limit` of the space's archived exports beyond `after_id`, nearest first.

        `older`: ids below `after_id`, highest first (the list's order); else ids above it,
        lowest first (a backward page).
        """
        bound = sql.SQL(
            ""
            if after_id is None
            else "AND export_id < %(at)s"
            if older
            else "AND export_id > %(at)s"
        )
        where = sql.SQL("AND ") + _STATUS_FILTERS[status] if status else sql.SQL("")
        query = sql.SQL(
            "SELECT {} FROM export_archive WHERE space_id = %(space)s AND deleted_at IS NULL "
            "{} {} ORDER BY export_id {} LIMIT %(limit)s"
        ).format(_COLUMNS, bound, where, sql.SQL("DESC" if older else "ASC"))
        params = {"space": space_id, "at": after_id, "now": now, "limit": limit}
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(query, params)
            rows = await cursor.fetchall()
        return [_record_of(row) for row in rows]

    async def purge(self, history: timedelta) -> int:
        """Removes the rows archived longer ago than the history window, and the finished
        webhook deliveries as old; returns how many archive rows went."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM webhook_deliveries "
                "WHERE state <> 'pending' AND created_at < now() - %s",
                (history,),
            )
            cursor = await conn.execute(
                "DELETE FROM export_archive WHERE archived_at < now() - %s", (history,)
            )
            return cursor.rowcount


def _row_of(record: ExportRecord) -> dict[str, Any]:
    status = record.status
    return {
        "export_id": record.export_id,
        "space_id": record.space_id,
        "state": (status.state or ExportState.QUEUED).value,
        "reason": status.reason.value if status.reason else None,
        "message": status.message,
        "created_at": record.created_at,
        "started_at": status.started_at,
        "completed_at": status.completed_at,
        "expires_at": status.expires_at,
        "bucket": status.bucket,
        "object_key": status.object_key,
        "records": status.records,
        "bytes": status.bytes,
        "sha256": status.sha256,
    }


def _record_of(row: dict[str, Any]) -> ExportRecord:
    status = CompanyExportStatus(
        state=ExportState(row["state"]),
        reason=ExportReason(row["reason"]) if row["reason"] else None,
        message=row["message"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        expires_at=row["expires_at"],
        bucket=row["bucket"],
        object_key=row["object_key"],
        records=row["records"],
        bytes=row["bytes"],
        sha256=row["sha256"],
    )
    return ExportRecord(
        export_id=row["export_id"],
        space_id=row["space_id"],
        created_at=row["created_at"],
        status=status,
        archived=True,
    )
